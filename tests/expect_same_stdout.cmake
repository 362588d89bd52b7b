# Runs a command once per variant and checks that every run exits 0 with the very same
# stdout (stderr may differ: progress, timing). A variant is an extra argument, or with
# VARIANT_ENV the value that environment variable gets, or with VARIANT_PROGRAMS the
# program itself (the same lesson from two builds; after -- come its arguments only):
#
#   cmake -DFIRST=--jobs=1 -DSECOND=--jobs=2 -P expect_same_stdout.cmake -- <program> [args...]
#   cmake -DVARIANTS=reference,baseline,avx2,avx512 -DVARIANT_ENV=STEPGRAD_KERNELS
#         -P expect_same_stdout.cmake -- <program> [args...]
#   cmake -DVARIANT_PROGRAMS=<program>,<program> [-DMISSING_FIRST=<message>]
#         -P expect_same_stdout.cmake -- [args...]
#
# A program that does not exist fails the test, never skips it: an absent build must not
# read as agreement. The first program may come from another build, which the test cannot
# make: MISSING_FIRST then says how to get it.
cmake_minimum_required(VERSION 3.25)

include(${CMAKE_CURRENT_LIST_DIR}/command_after_separator.cmake)  # sets `command`
if(DEFINED VARIANT_PROGRAMS)
  string(REPLACE "," ";" VARIANTS "${VARIANT_PROGRAMS}")
  list(GET VARIANTS 0 first_program)
  if(DEFINED MISSING_FIRST AND NOT EXISTS "${first_program}")
    message(FATAL_ERROR "${MISSING_FIRST}")
  endif()
  foreach(program IN LISTS VARIANTS)
    if(NOT EXISTS "${program}")
      message(FATAL_ERROR "expect_same_stdout.cmake: no program ${program}")
    endif()
  endforeach()
elseif(NOT command)
  message(FATAL_ERROR "expect_same_stdout.cmake: no command after --")
elseif(DEFINED VARIANTS)
  string(REPLACE "," ";" VARIANTS "${VARIANTS}")
else()
  set(VARIANTS "${FIRST};${SECOND}")
endif()

set(first_variant "")
foreach(variant IN LISTS VARIANTS)
  if(DEFINED VARIANT_PROGRAMS)
    set(run ${variant} ${command})
  elseif(DEFINED VARIANT_ENV)
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
