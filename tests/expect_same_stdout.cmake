# Runs a command once per variant and checks that every run exits 0 with the very same
# stdout (stderr may differ: progress, timing). A variant is an extra argument, or with
# VARIANT_ENV the value that environment variable gets:
#
#   cmake -DFIRST=--jobs=1 -DSECOND=--jobs=2 -P expect_same_stdout.cmake -- <program> [args...]
#   cmake -DVARIANTS=reference,baseline,avx2,avx512 -DVARIANT_ENV=STEPGRAD_KERNELS
#         -P expect_same_stdout.cmake -- <program> [args...]
cmake_minimum_required(VERSION 3.25)

include(${CMAKE_CURRENT_LIST_DIR}/command_after_separator.cmake)  # sets `command`
if(NOT command)
  message(FATAL_ERROR "expect_same_stdout.cmake: no command after --")
endif()
if(DEFINED VARIANTS)
  string(REPLACE "," ";" VARIANTS "${VARIANTS}")
else()
  set(VARIANTS "${FIRST};${SECOND}")
endif()

set(first_variant "")
foreach(variant IN LISTS VARIANTS)
  if(DEFINED VARIANT_ENV)
    set(run ${CMAKE_COMMAND} -E env ${VARIANT_ENV}=${variant} ${command})
  else()
    set(run ${command} ${variant})
  endif()
  execute_process(COMMAND ${run} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message("--- stderr with ${variant} ---\n${err}")
    message(FATAL_ERROR "expect_same_stdout.cmake: exit code ${code} with ${variant}")
  endif()
  if(first_variant STREQUAL "")
    set(first_variant "${variant}")
    set(first_out "${out}")
  elseif(NOT out STREQUAL first_out)
    message("--- stdout with ${first_variant} ---\n${first_out}--- stdout with ${variant} ---\n${out}")
    message(FATAL_ERROR "expect_same_stdout.cmake: stdout differs between ${first_variant} and ${variant}")
  endif()
endforeach()
