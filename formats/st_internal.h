/* Internal pieces shared by the safetensors reader (safetensors_read.c parses one file
 * image, safetensors_open.c opens files, directories and sharded indexes and answers the
 * accessors) and the writer (safetensors_write.c): the handle, the dtype table and
 * checked arithmetic.
 *
 * A handle owns its tensor names, metadata strings and mappings; tensor data points into
 * the mappings (or into the caller's buffer for qg_st_open_memory).
 */
#ifndef QG_ST_INTERNAL_H
#define QG_ST_INTERNAL_H

#include "qg/safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the safetensors code assumes a little-endian host"
#endif

/* Headers larger than this are rejected before anything is allocated (the reference
 * implementation uses the same 100 MB limit). */
#define ST_MAX_HEADER (100u * 1000u * 1000u)
#define ST_N_DTYPES 12

typedef struct st_dtype_row {
    qg_st_dtype dtype;
    const char *name; /* as spelled in files: "BF16" */
    size_t size;      /* bytes per element */
    int qg_type;      /* qgraph type, or -1 */
} st_dtype_row;

/* Row for a dtype enum value, or NULL when out of range. */
const st_dtype_row *st_dtype_row_of(qg_st_dtype d);
/* Row for a dtype name (exact, case-sensitive as in the format), or NULL. */
const st_dtype_row *st_dtype_by_name(const char *name);

typedef struct st_shard {
    char *path;       /* file name used in messages and in qg_st_tensor.file */
    void *map;        /* owned mmap, or NULL for a caller's buffer */
    size_t map_size;
} st_shard;

struct qg_st {
    st_shard *shards;
    int n_shards;
    qg_st_tensor_info *tensors; /* names are owned copies */
    int64_t n_tensors;
    int64_t cap_tensors;
    char **meta_keys;
    char **meta_values;
    int64_t n_meta;
    int64_t cap_meta;
    int64_t *by_name;      /* tensor indices sorted by name, for qg_st_find */
};

/* Parses one file image and appends its tensors (in data-offset order) and metadata to
 * st. `file` names the image in messages and is stored in each tensor's `file` field
 * (it must outlive st). Metadata keys already present in st are skipped. */
qg_status st_parse_image(qg_st *st, const uint8_t *base, uint64_t size, const char *file);
/* Sorts the name index; QG_ERR_FORMAT if two tensors share a name. */
qg_status st_build_index(qg_st *st);
/* Frees everything a (possibly half-built) handle owns. */
void st_handle_free(qg_st *st);

static inline int st_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline int st_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}

#endif
