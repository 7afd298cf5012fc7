/* Helpers shared by the GGUF reader and writer: the value-type table and a name index
 * (open addressing, FNV-1a hash) for O(1) key and tensor lookup and for finding
 * duplicate names while validating a file.
 */
#include "formats/gguf_internal.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    size_t size;
} vtypes[GGUF_N_VTYPES] = {
    [QG_GGUF_UINT8] = {"u8", 1},      [QG_GGUF_INT8] = {"i8", 1},
    [QG_GGUF_UINT16] = {"u16", 2},    [QG_GGUF_INT16] = {"i16", 2},
    [QG_GGUF_UINT32] = {"u32", 4},    [QG_GGUF_INT32] = {"i32", 4},
    [QG_GGUF_FLOAT32] = {"f32", 4},   [QG_GGUF_BOOL] = {"bool", 1},
    [QG_GGUF_STRING] = {"string", 0}, [QG_GGUF_ARRAY] = {"array", 0},
    [QG_GGUF_UINT64] = {"u64", 8},    [QG_GGUF_INT64] = {"i64", 8},
    [QG_GGUF_FLOAT64] = {"f64", 8},
};

size_t gguf_vtype_size(qg_gguf_vtype t) {
    return (unsigned)t < GGUF_N_VTYPES ? vtypes[t].size : 0;
}

const char *gguf_vtype_name(qg_gguf_vtype t) {
    return (unsigned)t < GGUF_N_VTYPES ? vtypes[t].name : "?";
}

static uint64_t hash_name(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

qg_status gguf_index_build(gguf_index *ix, int64_t n, gguf_name_fn name_of, const void *ctx,
                           int64_t *dup_a, int64_t *dup_b) {
    *dup_a = *dup_b = -1;
    ix->slots = NULL;
    ix->mask = 0;
    if (n <= 0) return QG_OK;
    uint64_t cap = 8;
    while (cap < 2 * (uint64_t)n) cap *= 2; /* n is bounded by the file size */
    ix->slots = qg_malloc(cap * sizeof *ix->slots);
    if (!ix->slots) return qg_set_error(QG_ERR_NO_MEMORY, "gguf: out of memory for a %lld-entry index", (long long)n);
    memset(ix->slots, 0xff, cap * sizeof *ix->slots); /* all -1 */
    ix->mask = cap - 1;
    for (int64_t i = 0; i < n; i++) {
        const char *name = name_of(ctx, i);
        uint64_t s = hash_name(name) & ix->mask;
        while (ix->slots[s] >= 0) {
            if (strcmp(name_of(ctx, ix->slots[s]), name) == 0) {
                if (*dup_a < 0) {
                    *dup_a = ix->slots[s];
                    *dup_b = i;
                }
                break;
            }
            s = (s + 1) & ix->mask;
        }
        if (ix->slots[s] < 0) ix->slots[s] = i;
    }
    return QG_OK;
}

int64_t gguf_index_find(const gguf_index *ix, const char *name, gguf_name_fn name_of,
                        const void *ctx) {
    if (!ix->slots || !name) return -1;
    uint64_t s = hash_name(name) & ix->mask;
    while (ix->slots[s] >= 0) {
        if (strcmp(name_of(ctx, ix->slots[s]), name) == 0) return ix->slots[s];
        s = (s + 1) & ix->mask;
    }
    return -1;
}

void gguf_index_free(gguf_index *ix) {
    qg_free(ix->slots);
    ix->slots = NULL;
    ix->mask = 0;
}
