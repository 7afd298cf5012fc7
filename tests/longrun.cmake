# Context shifting and long runs (tests/test_llama_long.c) on tiny random llama models
# that tests/scripts/make_tiny_llama.py writes into the build tree first (a ctest fixture;
# it exits 77 when the python gguf package is missing, and the test then skips).
# test_llama_long (20,000 tokens, resident-set bound) stays out of the sanitizer pass:
# ASan's quarantine grows the resident set by design. test_llama_long_short (same checks,
# 2,000 tokens, no memory bound) runs there.
set(_qg_tiny_dir ${CMAKE_CURRENT_BINARY_DIR}/tiny_llama)
set(_qg_tiny_env "QG_TINY_LLAMA=${_qg_tiny_dir}/tiny-llama-2l.gguf" "QG_TINY_LLAMA_1L=${_qg_tiny_dir}/tiny-llama-1l.gguf")
find_package(Python3 COMPONENTS Interpreter)
if(TEST test_llama_long)
  add_test(NAME test_llama_long_short COMMAND test_llama_long short)
  set_tests_properties(test_llama_long_short PROPERTIES LABELS "unit;llama" TIMEOUT 300 SKIP_RETURN_CODE 77
                       ENVIRONMENT "${QG_TEST_ENV};${_qg_tiny_env}")
  set_tests_properties(test_llama_long PROPERTIES LABELS "unit;llama;no-sanitize" TIMEOUT 300
                       ENVIRONMENT "${QG_TEST_ENV};${_qg_tiny_env}")
  if(Python3_Interpreter_FOUND)
    set(_qg_mk ${CMAKE_CURRENT_SOURCE_DIR}/scripts/make_tiny_llama.py)
    add_test(NAME tiny_llama_models COMMAND sh -c "mkdir -p '${_qg_tiny_dir}' &&
      '${Python3_EXECUTABLE}' '${_qg_mk}' '${_qg_tiny_dir}/tiny-llama-2l.gguf' --layers 2 &&
      '${Python3_EXECUTABLE}' '${_qg_mk}' '${_qg_tiny_dir}/tiny-llama-1l.gguf' --layers 1")
    set_tests_properties(tiny_llama_models PROPERTIES FIXTURES_SETUP tiny_llama SKIP_RETURN_CODE 77
                         LABELS "unit;llama" TIMEOUT 120)
    set_tests_properties(test_llama_long test_llama_long_short PROPERTIES FIXTURES_REQUIRED tiny_llama)
  endif()
endif()
