/* libFuzzer target for the tokenizer: tokenizing text with fixed vocabularies, loading
 * tokenizer metadata from GGUF images, and chat templates (tests/fuzz/tokenizer_program.h).
 * Built by tests/fuzz.cmake with QG_FUZZ=ON and clang; run through tools/fuzz.sh. */
#include "fuzz/tokenizer_program.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qgf_tokenizer_program(data, size);
    return 0;
}
