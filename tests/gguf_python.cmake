# Cross-checks of the GGUF reader/writer against the official python `gguf` package
# (tests/python/gguf_crosscheck.py drives tests/gguf_check_tool.c). Each case exits 77
# (skipped) when `import gguf` fails. Needs jansson for the C side's JSON.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND AND TARGET PkgConfig::JANSSON)
  add_executable(gguf_check_tool ${CMAKE_CURRENT_SOURCE_DIR}/gguf_check_tool.c)
  target_link_libraries(gguf_check_tool PRIVATE qgraph PkgConfig::JANSSON m)
  foreach(mode py2c c2py ref)
    add_test(NAME gguf_python_${mode}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/python/gguf_crosscheck.py
                     ${mode} --tool $<TARGET_FILE:gguf_check_tool>
                     --workdir ${CMAKE_CURRENT_BINARY_DIR}/gguf_python_${mode}
                     --data ${CMAKE_CURRENT_SOURCE_DIR}/data)
    set_tests_properties(gguf_python_${mode} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
                         LABELS "unit;python" ENVIRONMENT "${QG_TEST_ENV}")
  endforeach()
else()
  message(STATUS "GGUF python cross-checks not configured (need python3 and jansson)")
endif()
