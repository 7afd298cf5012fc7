/* libFuzzer target: one input = one safetensors file image for qg_st_open_memory; on
 * success every tensor and metadata entry is read back (tests/fuzz/fuzz_touch.h). Built
 * by tests/fuzz.cmake with QG_FUZZ=ON and clang; run through tools/fuzz.sh. */
#include "fuzz/fuzz_touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qgf_touch_st(data, size);
    return 0;
}
