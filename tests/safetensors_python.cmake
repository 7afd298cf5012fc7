# Cross-checks of the safetensors reader/writer against the official python
# `safetensors` package (tests/python/st_crosscheck.py drives tests/st_check_tool.c).
# Each case exits 77 (skipped) when safetensors, numpy or ml_dtypes cannot be imported.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND AND TARGET PkgConfig::JANSSON)
  add_executable(st_check_tool ${CMAKE_CURRENT_SOURCE_DIR}/st_check_tool.c)
  target_link_libraries(st_check_tool PRIVATE qgraph)
  foreach(mode py2c c2py copy)
    add_test(NAME safetensors_python_${mode}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/python/st_crosscheck.py
                     ${mode} --tool $<TARGET_FILE:st_check_tool>
                     --workdir ${CMAKE_CURRENT_BINARY_DIR}/safetensors_python_${mode})
    set_tests_properties(safetensors_python_${mode} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120
                         LABELS "unit;python" ENVIRONMENT "${QG_TEST_ENV}")
  endforeach()
else()
  message(STATUS "safetensors python cross-checks not configured (need python3 and jansson)")
endif()
