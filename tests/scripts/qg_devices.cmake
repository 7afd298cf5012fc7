# ctest driver (cmake -P): `qg devices` and `qg devices --json` must succeed and list the
# CPU plugin's devices "cpu" and "cpu-ref"; the JSON must parse.
# Inputs: QG (the qg executable), OUT_DIR, PYTHON (optional, validates the JSON).
cmake_minimum_required(VERSION 3.20)
file(MAKE_DIRECTORY ${OUT_DIR})

execute_process(COMMAND ${QG} devices RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "qg devices exited with ${rc}:\n${text}\n${err}")
endif()
foreach(dev cpu cpu-ref)
  if(NOT text MATCHES "\n  ${dev} \\(plugin ")
    message(FATAL_ERROR "qg devices does not list device '${dev}':\n${text}")
  endif()
endforeach()

execute_process(COMMAND ${QG} devices --json RESULT_VARIABLE rc OUTPUT_FILE ${OUT_DIR}/devices.json
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "qg devices --json exited with ${rc}: ${err}")
endif()
file(READ ${OUT_DIR}/devices.json json)
if(PYTHON)
  execute_process(COMMAND ${PYTHON} -m json.tool ${OUT_DIR}/devices.json
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "qg devices --json is not valid JSON: ${err}\n${json}")
  endif()
endif()
# CMake's own JSON parser (3.19+) checks the structure.
string(JSON n_devices LENGTH "${json}" devices)
set(names "")
math(EXPR last "${n_devices} - 1")
foreach(i RANGE ${last})
  string(JSON name GET "${json}" devices ${i} name)
  list(APPEND names ${name})
endforeach()
foreach(dev cpu cpu-ref)
  if(NOT dev IN_LIST names)
    message(FATAL_ERROR "qg devices --json has no device '${dev}' (has: ${names})\n${json}")
  endif()
endforeach()
message(STATUS "qg devices lists: ${names}")
