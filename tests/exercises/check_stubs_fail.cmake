# Every exercise test case must FAIL on the learner's stub: a test that passes before the learner
# has written anything tests nothing the learner writes, and a stub that crashes or hangs instead
# of failing cleanly is a broken exercise too.
#
#   cmake -P tests/exercises/check_stubs_fail.cmake                (from the repository root)
#   cmake -DBUILD_DIR=<dir> [-DLIBRARY=<built libstepgrad.a>] [-DGENERATOR=<g>] [-DCXX=<compiler>]
#         [-DCXX_FLAGS=<flags>] -P tests/exercises/check_stubs_fail.cmake
#
# It configures a separate build with -DSTEPGRAD_EXERCISES=stubs, builds only the exercise test
# programs (-j2, no optimisation: they only have to run far enough to fail; linked with LIBRARY when
# given, else with a library built there too) and runs their CTest entries, each marked WILL_FAIL:
# ctest then counts a test case that fails as passed, and one that passes — or crashes with a
# signal, or times out — as failed. CTest runs this script as the test "exercise stubs fail their
# tests" (tests/exercises/CMakeLists.txt).
cmake_minimum_required(VERSION 3.25)

get_filename_component(default_source "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(NOT SOURCE_DIR)
  set(SOURCE_DIR "${default_source}")
endif()
if(NOT BUILD_DIR)
  set(BUILD_DIR "${SOURCE_DIR}/build/exercise-stubs")
endif()
get_filename_component(cmake_bin "${CMAKE_COMMAND}" DIRECTORY)
set(ctest "${cmake_bin}/ctest")

set(configure_args -S "${SOURCE_DIR}" -B "${BUILD_DIR}"
    -DSTEPGRAD_EXERCISES=stubs -DSTEPGRAD_EXERCISES_EXPECT_FAILURE=ON
    -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0")
if(GENERATOR AND NOT EXISTS "${BUILD_DIR}/CMakeCache.txt")
  list(APPEND configure_args -G "${GENERATOR}")
endif()
if(CXX)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX}")
endif()
# the library's flags, so the stubs' objects match the library they are linked with
list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DSTEPGRAD_EXERCISES_LIBRARY=${LIBRARY}")

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "check_stubs_fail: ${what} failed (${result})")
  endif()
endfunction()

message(STATUS "exercise stubs: configuring ${BUILD_DIR}")
run("configuring the stub build" "${CMAKE_COMMAND}" ${configure_args} -Wno-dev)
message(STATUS "exercise stubs: building the exercise tests against the stubs")
run("building the exercise tests against the stubs (a stub must compile)"
    "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target exercises -j 2)

message(STATUS "exercise stubs: running them; each must FAIL, which ctest reports as 'Passed' (WILL_FAIL)")
execute_process(COMMAND "${ctest}" --test-dir "${BUILD_DIR}" -L exercise -j 2 --no-tests=error
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  set(failed "")
  if(EXISTS "${BUILD_DIR}/Testing/Temporary/LastTestsFailed.log")
    file(READ "${BUILD_DIR}/Testing/Temporary/LastTestsFailed.log" failed)
  endif()
  message(FATAL_ERROR
    "check_stubs_fail: these exercise tests did not fail cleanly on the learner's stub.\n"
    "'Failed' above means the test PASSED on the stub (it does not test the learner's code);\n"
    "'Exception'/'Timeout' means the stub crashed or hung instead of failing.\n${failed}")
endif()
message(STATUS "exercise stubs: every exercise test fails on its stub, as it should")
