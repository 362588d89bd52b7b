# Determinism (issue 8): runs a program twice with the same flags (hence the same seed)
# and passes when both runs exit 0 with byte-identical stdout and, when JSON is given, an
# identical --json file. Wall-clock figures (progress, tokens/s, time left) go to stderr,
# which is not compared.
#
#   cmake -DWORK=<folder> [-DJSON=ON] -P same_output.cmake -- <program> [args...]
#
# With JSON=ON, "--json <WORK>/trace.json" is added to the command line; both runs write
# the same path (a lesson may print it), and the first file is set aside before the second.
cmake_minimum_required(VERSION 3.25)

include(${CMAKE_CURRENT_LIST_DIR}/../command_after_separator.cmake)  # sets `command`
if(NOT command OR NOT WORK)
  message(FATAL_ERROR "usage: cmake -DWORK=<folder> [-DJSON=ON] -P same_output.cmake -- <program> [args...]")
endif()
if(JSON)
  list(APPEND command --json "${WORK}/trace.json")
endif()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
foreach(run 1 2)
  execute_process(COMMAND ${command}
    RESULT_VARIABLE code OUTPUT_FILE "${WORK}/stdout${run}.txt" ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    string(REPLACE ";" " " shown "${command}")
    message(FATAL_ERROR "run ${run} of '${shown}' exited with ${code}:\n${err}")
  endif()
  if(JSON)
    file(RENAME "${WORK}/trace.json" "${WORK}/trace${run}.json")
  endif()
endforeach()

set(compared stdout)
if(JSON)
  list(APPEND compared trace)
endif()
foreach(name IN LISTS compared)
  if(name STREQUAL "stdout")
    set(suffix txt)
  else()
    set(suffix json)
  endif()
  set(first "${WORK}/${name}1.${suffix}")
  set(second "${WORK}/${name}2.${suffix}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${first}" "${second}" RESULT_VARIABLE differ)
  if(differ)
    # show the first line that differs
    file(STRINGS "${first}" lines1)
    file(STRINGS "${second}" lines2)
    list(LENGTH lines1 n1)
    list(LENGTH lines2 n2)
    set(shown "the files differ in length (${n1} and ${n2} lines)")
    math(EXPR top "${n1} - 1")
    if(n1 GREATER 0)
      foreach(i RANGE ${top})
        if(i GREATER_EQUAL n2)
          break()
        endif()
        list(GET lines1 ${i} a)
        list(GET lines2 ${i} b)
        if(NOT a STREQUAL b)
          math(EXPR line "${i} + 1")
          set(shown "line ${line}:\n  run 1: ${a}\n  run 2: ${b}")
          break()
        endif()
      endforeach()
    endif()
    message(FATAL_ERROR "two runs with the same seed gave different ${name} (${first}, ${second}): ${shown}")
  endif()
endforeach()
file(SIZE "${WORK}/stdout1.txt" bytes)
message(STATUS "identical in both runs: ${compared} (stdout: ${bytes} bytes)")
