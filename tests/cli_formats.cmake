# CLI checks of `qg quantize` and `qg info` (tests/python/cli_quant.py): round trips for
# every type with a quantizer, byte-exact reproduction of ggml's reference quantization,
# llama.cpp's Q4_K_M mix, bad input, and `qg info` (text and JSON) on a ref file and on a
# sparse 1 GiB GGUF. Each case exits 77 (skipped) without numpy / gguf / ml_dtypes.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND AND TARGET qg)
  foreach(mode roundtrip refbytes mix bad info safetensors)
    add_test(NAME cli_quant_${mode}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/python/cli_quant.py ${mode}
                     --qg $<TARGET_FILE:qg> --data ${CMAKE_CURRENT_SOURCE_DIR}/data
                     --workdir ${CMAKE_CURRENT_BINARY_DIR}/cli_quant_${mode})
    set_tests_properties(cli_quant_${mode} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
                         LABELS "unit;python;cli" ENVIRONMENT "${QG_TEST_ENV}")
  endforeach()
else()
  message(STATUS "qg CLI format tests not configured (need python3 and the qg tool)")
endif()
