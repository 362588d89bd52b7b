# The package test (ctest -L package): installs a stepgrad build into a scratch prefix,
# checks that every public header is there, then configures, builds and runs the consumer
# project next to this file against that prefix alone.
#
#   cmake -DBUILD_DIR=<stepgrad build> -DCONFIG=Release -DWORK=<scratch folder>
#         -DGENERATOR=<generator> -DCXX_COMPILER=<c++> [-DMAKE_PROGRAM=…] [-DCXX_FLAGS=…]
#         [-DLINKER_FLAGS=…] [-Dfmt_DIR=…] -P check_package.cmake
#
# CXX_FLAGS and LINKER_FLAGS are the stepgrad build's own: a library compiled with the
# sanitizers (asan preset) needs them when the consumer links it.
cmake_minimum_required(VERSION 3.25)

foreach(required BUILD_DIR CONFIG WORK GENERATOR CXX_COMPILER)
  if(NOT ${required})
    message(FATAL_ERROR "check_package.cmake: -D${required}=… is missing")
  endif()
endforeach()
set(consumer_source ${CMAKE_CURRENT_LIST_DIR})
set(headers ${CMAKE_CURRENT_LIST_DIR}/../../include)
set(prefix ${WORK}/prefix)
set(consumer_build ${WORK}/consumer)
file(REMOVE_RECURSE ${WORK})

# run(<what> <command>...): runs the command, stops with its output when it fails; its
# output is left in `output`.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT code EQUAL 0)
    string(REPLACE ";" " " shown "${ARGN}")
    message(FATAL_ERROR "check_package.cmake: ${what} failed (${code}):\n${shown}\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --config ${CONFIG} --prefix ${prefix})

file(GLOB_RECURSE public_headers RELATIVE ${headers} ${headers}/*.hpp)
set(missing "")
foreach(header IN LISTS public_headers)
  if(NOT EXISTS ${prefix}/include/${header})
    list(APPEND missing ${header})
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "check_package.cmake: headers not installed in ${prefix}/include: ${missing}")
endif()

set(configure_args -S ${consumer_source} -B ${consumer_build} -G ${GENERATOR}
  -DCMAKE_BUILD_TYPE=${CONFIG} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
if(MAKE_PROGRAM)
  list(APPEND configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(fmt_DIR)
  list(APPEND configure_args -Dfmt_DIR=${fmt_DIR})
endif()
run("configuring the consumer" ${CMAKE_COMMAND} ${configure_args})
# It must have found the install, not the build tree or another copy.
set(found_in "")
if(output MATCHES "stepgrad [0-9.]+ from ([^\n]*)\n")
  string(FIND "${CMAKE_MATCH_1}" "${prefix}/" found_in)
endif()
if(NOT found_in STREQUAL "0")
  message(FATAL_ERROR "check_package.cmake: the consumer did not find stepgrad in ${prefix}:\n${output}")
endif()
run("building the consumer" ${CMAKE_COMMAND} --build ${consumer_build} --config ${CONFIG})
run("running the consumer" ${consumer_build}/consumer)

# y = tanh(x W) with x = (1, −2, 0.5): x W = (−0.125, −2), L = tanh(−0.125) + tanh(−2)
set(expected "stepgrad consumer: L = -1.088381, dL/dW[0][0] = 0.984536: OK\n")
if(NOT output STREQUAL expected)
  message(FATAL_ERROR "check_package.cmake: the consumer printed\n${output}instead of\n${expected}")
endif()
message(STATUS "installed, found, built and ran: ${output}")
