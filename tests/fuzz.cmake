# libFuzzer targets (tests/fuzz/): the GGUF and safetensors readers, the tokenizer and
# the graph builders' shape checks. Only with
# -DQG_FUZZ=ON and clang; tools/fuzz.sh configures such a build (build-fuzz) with the
# whole library compiled with -fsanitize=fuzzer-no-link,address,undefined. In every
# build, test_fuzz_regressions replays tests/fuzz/regressions and the seed corpus
# through both readers.
option(QG_FUZZ "Build the libFuzzer targets (clang only; see tools/fuzz.sh)" OFF)
if(TARGET test_fuzz_regressions)
  target_compile_definitions(test_fuzz_regressions PRIVATE QG_FUZZ_DIR="${CMAKE_CURRENT_SOURCE_DIR}/fuzz")
endif()
# test_fuzz_tokenizer replays the tokenizer target's corpus; the tokenizer sources of
# examples/llama are compiled into it (as for test_tokenizer).
if(TARGET test_fuzz_tokenizer)
  file(GLOB _qg_tok_replay_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/llama/tokenizer*.c)
  target_sources(test_fuzz_tokenizer PRIVATE ${_qg_tok_replay_sources})
  target_include_directories(test_fuzz_tokenizer PRIVATE ${PROJECT_SOURCE_DIR}/examples/llama)
  target_compile_definitions(test_fuzz_tokenizer PRIVATE QG_FUZZ_DIR="${CMAKE_CURRENT_SOURCE_DIR}/fuzz")
endif()
if(QG_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(WARNING "QG_FUZZ=ON needs clang (CC=clang); the fuzz targets are not built")
  else()
    # The tokenizer lives in examples/llama; its sources are compiled into the target.
    file(GLOB _qg_tok_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/llama/tokenizer*.c)
    foreach(t gguf safetensors graph tokenizer)
      add_executable(fuzz_${t} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${t}.c)
      target_include_directories(fuzz_${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
      if(t STREQUAL "tokenizer")
        target_sources(fuzz_${t} PRIVATE ${_qg_tok_sources})
        target_include_directories(fuzz_${t} PRIVATE ${PROJECT_SOURCE_DIR}/examples/llama)
        target_compile_definitions(fuzz_${t} PRIVATE QG_FUZZ_DIR="${CMAKE_CURRENT_SOURCE_DIR}/fuzz")
      endif()
      target_link_libraries(fuzz_${t} PRIVATE qgraph_static)
      target_compile_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
      target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
      # Replays the seeds and regressions once (no fuzzing) as a ctest case.
      add_test(NAME fuzz_${t}_replay
               COMMAND fuzz_${t} -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${t}
                       ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regressions)
      set_tests_properties(fuzz_${t}_replay PROPERTIES LABELS "fuzz" TIMEOUT 120)
    endforeach()
  endif()
endif()
