/* Internal pieces shared by the GGUF reader (gguf_read.c, gguf_access.c) and writer
 * (gguf_write.c): the parsed file handle, value-type sizes, checked arithmetic and a
 * small open-addressing name index used for key/tensor lookup and duplicate detection.
 *
 * A parsed kv keeps a pointer to its raw value encoding in the mapping (everything
 * after the u32 value type), so the writer can copy any kv, nested arrays included,
 * byte for byte. The code assumes a little-endian host, as GGUF files are.
 */
#ifndef QG_GGUF_INTERNAL_H
#define QG_GGUF_INTERNAL_H

#include "qg/gguf.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GGUF code assumes a little-endian host"
#endif

#define GGUF_MAGIC "GGUF"
#define GGUF_VERSION_WRITE 3u
#define GGUF_N_VTYPES 13u
/* Arrays nested deeper than this are rejected (bounds recursion on hostile input). */
#define GGUF_MAX_NESTING 8
/* Returned by the kv accessors for an index out of range. */
#define GGUF_VTYPE_INVALID ((qg_gguf_vtype)-1)

/* Name index: slots hold entry indices (-1 = empty); names come from a callback. */
typedef const char *(*gguf_name_fn)(const void *ctx, int64_t i);
typedef struct gguf_index {
    int64_t *slots;
    uint64_t mask;
} gguf_index;

typedef struct gguf_kv {
    char *key;               /* NUL-terminated copy */
    qg_gguf_vtype type;
    qg_gguf_vtype arr_type;  /* element type for arrays */
    uint64_t n;              /* element count for arrays, 1 otherwise */
    const uint8_t *raw;      /* value encoding (after the type field), in the mapping */
    uint64_t raw_size;
    const uint8_t *data;     /* scalar bytes / string bytes / first array element */
    uint64_t *str_off;       /* arrays of strings: offset of each length prefix in raw */
} gguf_kv;

struct qg_gguf {
    char *name;              /* file name used in messages */
    const uint8_t *base;
    uint64_t size;
    void *map;               /* non-NULL when we own an mmap of map_size bytes */
    size_t map_size;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    gguf_kv *kvs;
    int64_t n_tensors;
    qg_gguf_tensor_info *tensors;
    gguf_index kv_index;
    gguf_index tensor_index;
};

/* Bytes of one element of a fixed-size value type; 0 for STRING, ARRAY and unknown ids. */
size_t gguf_vtype_size(qg_gguf_vtype t);
/* "u32", "string", ...; "?" for unknown ids. */
const char *gguf_vtype_name(qg_gguf_vtype t);

/* Checked arithmetic: false on overflow. */
static inline bool gguf_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool gguf_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
/* Round up to a power-of-two alignment; false on overflow. */
static inline bool gguf_align_u64(uint64_t x, uint64_t align, uint64_t *out) {
    if (!gguf_add_u64(x, align - 1, out)) return false;
    *out &= ~(align - 1);
    return true;
}

/* Build an index over n names. On a duplicate, dup_a and dup_b get the two entry indices
 * (else -1). Returns QG_ERR_NO_MEMORY (message set) or QG_OK. */
qg_status gguf_index_build(gguf_index *ix, int64_t n, gguf_name_fn name_of, const void *ctx,
                           int64_t *dup_a, int64_t *dup_b);
int64_t gguf_index_find(const gguf_index *ix, const char *name, gguf_name_fn name_of,
                        const void *ctx);
void gguf_index_free(gguf_index *ix);

/* Free everything a (possibly half-built) handle owns. */
void gguf_handle_free(qg_gguf *f);

#endif
