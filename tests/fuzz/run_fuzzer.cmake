# Runs one libFuzzer target for a bounded time, from a fresh copy of its corpus in the
# build folder (the repo's corpus is never written to). Registered by
# tests/hardening/CMakeLists.txt as the CTest tests "fuzz <name>" (label fuzz).
#
#   cmake -DFUZZER=<binary> -DCORPUS=<repo corpus folder> -DWORK=<build folder>
#         -DSECONDS=<n> -P run_fuzzer.cmake
#
# A crash, a sanitizer report, a leak, an input slower than 10 s or one needing more
# than 2 GB fails the test; the input that did it is saved as WORK/crash-… (or leak-,
# timeout-, oom-) and can be replayed with `<binary> <that file>`.
cmake_minimum_required(VERSION 3.25)
foreach(variable FUZZER CORPUS WORK SECONDS)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${variable}=… is missing")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
file(COPY "${CORPUS}/" DESTINATION "${WORK}/corpus")
execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          "-artifact_prefix=${WORK}/" "${WORK}/corpus"
  WORKING_DIRECTORY "${WORK}"
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message("${out}${err}")
  message(FATAL_ERROR "${FUZZER} failed (exit ${code}); the input is in ${WORK}")
endif()
# the last lines: how many inputs it ran, and the coverage it reached
string(REGEX MATCH "Done [0-9]+ runs in [0-9]+ second" done "${err}")
string(REGEX MATCH "stat::number_of_executed_units: [0-9]+" units "${err}")
message(STATUS "${done} (${units})")
