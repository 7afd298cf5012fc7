# The tokenizer test compiles the tokenizer sources of examples/llama directly (so it
# does not depend on the state of the qgllama library) and reads the JSON fixtures with
# jansson. A second ctest entry runs the model-free synthetic part.
if(TARGET test_tokenizer)
  file(GLOB QG_TOKENIZER_SOURCES CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/examples/llama/tokenizer*.c)
  target_sources(test_tokenizer PRIVATE ${QG_TOKENIZER_SOURCES})
  target_include_directories(test_tokenizer PRIVATE ${PROJECT_SOURCE_DIR}/examples/llama)
  if(TARGET PkgConfig::JANSSON)
    target_link_libraries(test_tokenizer PRIVATE PkgConfig::JANSSON)
    target_compile_definitions(test_tokenizer PRIVATE QG_HAVE_JANSSON)
  endif()
  add_test(NAME test_tokenizer_synthetic COMMAND test_tokenizer synthetic)
  set_tests_properties(test_tokenizer_synthetic PROPERTIES SKIP_RETURN_CODE 77
                       ENVIRONMENT "${QG_TEST_ENV}" LABELS "unit" TIMEOUT 120)
endif()
