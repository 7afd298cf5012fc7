# The llama example library and its tests. qgllama is built here when the top level has
# not added examples/llama itself, and linked into the qg tool (qg run, qg perplexity)
# and into every tests/test_llama*.c executable. The model comes from QG_MODEL or
# ~/.cache/qgraph/models (tools/fetch-model.sh); tests skip when it is absent.
if(NOT TARGET qgllama)
  add_subdirectory(${PROJECT_SOURCE_DIR}/examples/llama ${CMAKE_BINARY_DIR}/examples/llama)
endif()
get_target_property(_qg_links qg LINK_LIBRARIES)
if(NOT "qgllama" IN_LIST _qg_links)
  target_link_libraries(qg PRIVATE qgllama)
endif()

file(GLOB QG_LLAMA_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_llama*.c)
foreach(src ${QG_LLAMA_TESTS})
  get_filename_component(name ${src} NAME_WE)
  target_link_libraries(${name} PRIVATE qgllama)
  if(JANSSON_FOUND)
    target_link_libraries(${name} PRIVATE PkgConfig::JANSSON)
    target_compile_definitions(${name} PRIVATE QG_HAVE_JANSSON)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "unit;llama" TIMEOUT 300)
endforeach()

# GPU devices are tried by test_llama_ref only when their plugins are part of the build.
set(_qg_llama_devices "cpu,cpu-ref")
if(TARGET qg-vulkan)
  string(APPEND _qg_llama_devices ",vulkan0")
endif()
if(TARGET qg-opencl)
  string(APPEND _qg_llama_devices ",opencl0")
endif()
if(TEST test_llama_ref)
  # With cold PoCL/Mesa shader caches the GPU-API devices take minutes to compile kernels.
  set_tests_properties(test_llama_ref PROPERTIES ENVIRONMENT "${QG_TEST_ENV};QG_LLAMA_DEVICES=${_qg_llama_devices}"
                       TIMEOUT 1500)
endif()
# Under AddressSanitizer the resident set includes shadow memory (the memory bound means
# nothing there) and the reference comparison runs for many minutes: both stay out of
# the sanitizer run; test_llama and the CLI tests cover the same code paths there.
foreach(t test_llama_memory test_llama_ref)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES LABELS "unit;llama;no-sanitize")
  endif()
endforeach()

# The CLI end to end: `qg run` with a fixed seed twice (same JSON tokens both times: the
# sampler is seeded), greedy, one-shot and interactive chat, bad arguments failing; and
# `qg perplexity` on the committed text (two windows of 64).
set(_qg_model_sh "M=\${QG_MODEL:-\$HOME/.cache/qgraph/models/SmolLM2-135M-Instruct.Q4_1.gguf}; [ -r \"\$M\" ] || { echo \"SKIPPED: model \$M not found (tools/fetch-model.sh)\"; exit 77; }")
add_test(NAME llama_cli_run COMMAND sh -c "${_qg_model_sh}; set -e
  a=$($<TARGET_FILE:qg> run -m \"$M\" -p 'Once upon a time' -n 8 --temp 0.8 --seed 7 --ctx 64 --json)
  b=$($<TARGET_FILE:qg> run -m \"$M\" -p 'Once upon a time' -n 8 --temp 0.8 --seed 7 --ctx 64 --json)
  echo \"$a\"
  [ \"$(echo \"$a\" | sed 's/\"timings\".*//')\" = \"$(echo \"$b\" | sed 's/\"timings\".*//')\" ]
  echo \"$a\" | grep -q '\"tokens\":\\[[0-9]'
  $<TARGET_FILE:qg> run -m \"$M\" -p 'The capital of France is' -n 4 --temp 0 --ctx 32
  $<TARGET_FILE:qg> run -m \"$M\" --chat -p 'Hello!' -n 4 --temp 0 --ctx 128 --json | grep -q '\"tokens\":\\[[0-9]'
  printf 'Hello!\\nWho are you?\\n' | $<TARGET_FILE:qg> run -m \"$M\" --chat -n 4 --temp 0 --ctx 256
  if $<TARGET_FILE:qg> run -m \"$M\" -p x --ctx 0 2>/dev/null; then exit 1; fi
  if $<TARGET_FILE:qg> run -m /nonexistent.gguf -p x 2>/dev/null; then exit 1; fi")
add_test(NAME llama_cli_perplexity COMMAND sh -c "${_qg_model_sh}; set -e
  out=$($<TARGET_FILE:qg> perplexity -m \"$M\" -f ${CMAKE_CURRENT_SOURCE_DIR}/data/llama/ppl_text.txt --ctx 64 --chunks 2)
  echo \"$out\"
  echo \"$out\" | grep -Eq 'Final estimate: PPL = [0-9]+\\.[0-9]+ \\+/- [0-9]'")
set_tests_properties(llama_cli_run llama_cli_perplexity PROPERTIES SKIP_RETURN_CODE 77
                     ENVIRONMENT "${QG_TEST_ENV}" LABELS "llama;cli" TIMEOUT 300)

# A Hugging Face checkpoint made from the GGUF model at test time (F32, two shards with
# an index, merges as pairs) into the build tree; regenerated when the model or the
# script is newer. test_llama_st and the CLI test below read it.
set(_qg_hf_dir ${CMAKE_BINARY_DIR}/hf-smollm2)
set(_qg_hf_script ${CMAKE_CURRENT_SOURCE_DIR}/scripts/gguf_to_hf.py)
add_test(NAME llama_hf_checkpoint COMMAND sh -c "${_qg_model_sh}; set -e
  s=${_qg_hf_dir}/.stamp
  if [ -f \"$s\" ] && [ ! \"$M\" -nt \"$s\" ] && [ ! ${_qg_hf_script} -nt \"$s\" ]; then echo up to date; exit 0; fi
  rm -rf ${_qg_hf_dir}
  python3 ${_qg_hf_script} \"$M\" ${_qg_hf_dir} --shards 2 --merges pairs
  touch \"$s\"")
set_tests_properties(llama_hf_checkpoint PROPERTIES SKIP_RETURN_CODE 77 FIXTURES_SETUP qg_hf_checkpoint
                     LABELS "llama;no-sanitize" TIMEOUT 300)
if(TEST test_llama_st)
  set_tests_properties(test_llama_st PROPERTIES FIXTURES_REQUIRED qg_hf_checkpoint
                       ENVIRONMENT "${QG_TEST_ENV};QG_HF_MODEL=${_qg_hf_dir}" LABELS "unit;llama;no-sanitize")
endif()

# `qg run` on the checkpoint directory: the prompt tokens equal the GGUF run's (tokenizer
# from tokenizer.json), the F32 weights give the GGUF's first 8 greedy tokens (measured:
# all 16 equal for this prompt; the logits differ by the GGUF's activation rounding,
# see test_llama_st), --quantize q8_0 / q4_1 convert while loading and generate, --chat
# uses tokenizer_config.json's template, and a bad --quantize type fails cleanly.
add_test(NAME llama_cli_hf COMMAND sh -c "${_qg_model_sh}; set -e
  H=${_qg_hf_dir}; [ -r \"$H/config.json\" ] || { echo \"SKIPPED: no checkpoint $H\"; exit 77; }
  run() { $<TARGET_FILE:qg> run -p 'The capital of France is' -n 16 --temp 0 --ctx 64 --json \"$@\"; }
  g=$(run -m \"$M\"); printf 'gguf: %s\\n' \"$g\"
  for q in none q8_0 q4_1; do
    if [ $q = none ]; then h=$(run -m \"$H\"); else h=$(run -m \"$H\" --quantize $q); fi
    printf 'hf %s: %s\\n' $q \"$h\"
    [ \"$(printf %s \"$g\" | sed 's/,\"tokens\".*//')\" = \"$(printf %s \"$h\" | sed 's/,\"tokens\".*//')\" ]
    printf %s \"$h\" | grep -q '\"tokens\":\\[[0-9]'
  done
  first8() { printf %s \"$1\" | sed 's/.*\"tokens\":\\[//; s/\\].*//' | cut -d, -f1-8; }
  [ \"$(first8 \"$g\")\" = \"$(first8 \"$(run -m \"$H\")\")\" ]
  $<TARGET_FILE:qg> run -m \"$H\" --chat -p 'Hello!' -n 4 --temp 0 --ctx 128 --json | grep -q '\"tokens\":\\[[0-9]'
  if $<TARGET_FILE:qg> run -m \"$H\" --quantize nosuchtype -p x 2>/dev/null; then exit 1; fi")
set_tests_properties(llama_cli_hf PROPERTIES SKIP_RETURN_CODE 77 FIXTURES_REQUIRED qg_hf_checkpoint
                     ENVIRONMENT "${QG_TEST_ENV}" LABELS "llama;cli;no-sanitize" TIMEOUT 300)

# `qg run` on each GPU-API device this build has (lavapipe / PoCL in CI), alone and split
# with the CPU (layers 15.. on the CPU): greedy decoding must give the CPU's first four
# tokens (" Paris.\n\n"; measured: the devices agree with each other on all 16 tokens of
# this prompt and with the CPU on the first 5 — the CPU rounds activations to Q8_1, the
# GPU kernels keep them in f32, so later greedy choices may part).
set(_qg_cli_devices "")
if(TARGET qg-vulkan)
  list(APPEND _qg_cli_devices vulkan0)
endif()
if(TARGET qg-opencl)
  list(APPEND _qg_cli_devices opencl0)
endif()
if(_qg_cli_devices)
  list(GET _qg_cli_devices 0 _qg_cli_first)
  string(REPLACE ";" " " _qg_cli_devices "${_qg_cli_devices}")
  add_test(NAME llama_cli_backends COMMAND sh -c "${_qg_model_sh}; set -e
    run() { $<TARGET_FILE:qg> run -m \"$M\" -p 'The capital of France is' -n 6 --temp 0 --ctx 64 --json \"$@\"; }
    first4() { printf %s \"$1\" | sed 's/.*\"tokens\":\\[//; s/\\].*//' | cut -d, -f1-4; }
    c=$(run --backend cpu); printf 'cpu: %s\\n' \"$c\"
    for b in ${_qg_cli_devices} ${_qg_cli_first},cpu; do
      if [ $b = ${_qg_cli_first},cpu ]; then g=$(run --backend $b --split 15); else g=$(run --backend $b); fi
      printf '%s: %s\\n' $b \"$g\"
      [ \"$(first4 \"$g\")\" = \"$(first4 \"$c\")\" ] || { echo \"$b: first tokens differ from cpu\"; exit 1; }
    done")
  set_tests_properties(llama_cli_backends PROPERTIES SKIP_RETURN_CODE 77 ENVIRONMENT "${QG_TEST_ENV}"
                       LABELS "llama;cli;vulkan;opencl;no-sanitize" TIMEOUT 1200)
endif()
