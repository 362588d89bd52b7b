# Runs a command twice, once with the extra argument FIRST and once with SECOND, and
# checks that both exit 0 with the very same stdout (stderr may differ: progress, timing):
#
#   cmake -DFIRST=--jobs=1 -DSECOND=--jobs=2 -P expect_same_stdout.cmake -- <program> [args...]
cmake_minimum_required(VERSION 3.25)

include(${CMAKE_CURRENT_LIST_DIR}/command_after_separator.cmake)  # sets `command`
if(NOT command)
  message(FATAL_ERROR "expect_same_stdout.cmake: no command after --")
endif()

foreach(variant IN ITEMS FIRST SECOND)
  execute_process(COMMAND ${command} ${${variant}}
    RESULT_VARIABLE code_${variant} OUTPUT_VARIABLE out_${variant} ERROR_VARIABLE err_${variant})
  if(NOT code_${variant} EQUAL 0)
    message("--- stderr with ${${variant}} ---\n${err_${variant}}")
    message(FATAL_ERROR "expect_same_stdout.cmake: exit code ${code_${variant}} with ${${variant}}")
  endif()
endforeach()
if(NOT out_FIRST STREQUAL out_SECOND)
  message("--- stdout with ${FIRST} ---\n${out_FIRST}--- stdout with ${SECOND} ---\n${out_SECOND}")
  message(FATAL_ERROR "expect_same_stdout.cmake: stdout differs between ${FIRST} and ${SECOND}")
endif()
