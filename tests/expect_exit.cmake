# Runs a command and checks its exit code and output, for CLI tests of any program:
#
#   cmake -DEXPECT_CODE=2 [-DEXPECT_STDOUT=<regex>] [-DEXPECT_STDERR=<regex>]
#         -P expect_exit.cmake -- <program> [args...]
#
# An empty or unset regex is not checked; "^$" asks for no output at all. Registered
# from tests/CMakeLists.txt by add_exit_test().
cmake_minimum_required(VERSION 3.25)

include(${CMAKE_CURRENT_LIST_DIR}/command_after_separator.cmake)  # sets `command`
if(NOT command)
  message(FATAL_ERROR "expect_exit.cmake: no command after --")
endif()

execute_process(COMMAND ${command}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)

set(failures "")
if(NOT code STREQUAL "${EXPECT_CODE}")
  string(APPEND failures "exit code ${code}, expected ${EXPECT_CODE}\n")
endif()
foreach(stream IN ITEMS STDOUT STDERR)
  if(stream STREQUAL "STDOUT")
    set(text "${out}")
  else()
    set(text "${err}")
  endif()
  if(NOT "${EXPECT_${stream}}" STREQUAL "" AND NOT text MATCHES "${EXPECT_${stream}}")
    string(APPEND failures "${stream} does not match '${EXPECT_${stream}}'\n")
  endif()
endforeach()

if(failures)
  string(REPLACE ";" " " shown "${command}")
  # Plain message() keeps the program's output as it was; FATAL_ERROR would rewrap it.
  message("${shown}\n${failures}--- stdout ---\n${out}--- stderr ---\n${err}")
  message(FATAL_ERROR "expect_exit.cmake: the command did not behave as expected")
endif()
