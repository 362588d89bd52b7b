# Included by the cmake -P test scripts (expect_exit, expect_same_stdout,
# hardening/same_output): sets `command` to everything after "--" on cmake's own
# command line, the program and its arguments.
math(EXPR last_argument "${CMAKE_ARGC} - 1")
set(command "")
set(after_separator FALSE)
foreach(i RANGE ${last_argument})
  if(after_separator)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_separator TRUE)
  endif()
endforeach()
