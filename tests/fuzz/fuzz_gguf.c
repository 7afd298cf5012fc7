/* libFuzzer target: one input = one GGUF file image for qg_gguf_open_memory; on success
 * every kv and tensor is read back (tests/fuzz/fuzz_touch.h). Built by tests/fuzz.cmake
 * with QG_FUZZ=ON and clang; run through tools/fuzz.sh. */
#include "fuzz/fuzz_touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qgf_touch_gguf(data, size);
    return 0;
}
