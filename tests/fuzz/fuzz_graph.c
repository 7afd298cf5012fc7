/* libFuzzer target for the graph builders' shape checks: each input is a program of
 * builder calls (tests/fuzz/graph_program.h). Built by tests/fuzz.cmake with QG_FUZZ=ON
 * and clang; run through tools/fuzz.sh. */
#include "fuzz/graph_program.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qgf_graph_program(data, size);
    return 0;
}
