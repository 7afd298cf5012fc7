/* qgraph GGUF reader and writer (llama.cpp's model format, versions 2 and 3).
 *
 * Reading: qg_gguf_open() memory-maps the file, validates the whole header (counts,
 * string lengths, tensor types, shapes, offsets, alignment, overlap) against the file
 * size before allocating anything sized by it, and gives typed access to metadata and
 * tensors. Tensor data pointers point into the mapping (no copy) and live until
 * qg_gguf_close().
 *
 *     qg_gguf *f; if (qg_gguf_open("model.gguf", &f) != QG_OK) puts(qg_last_error());
 *     int64_t i = qg_gguf_find_tensor(f, "token_embd.weight");
 *     const qg_gguf_tensor_info *ti = qg_gguf_tensor(f, i);  // ti->data, ti->type, ti->ne
 *
 * Writing: build a qg_gguf_writer, add key/values and tensors, then qg_gguf_writer_save()
 * writes to "<path>.tmp.<pid>" and renames it into place only when complete.
 */
#ifndef QG_GGUF_H
#define QG_GGUF_H

#include "qg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qg_gguf_vtype {
    QG_GGUF_UINT8 = 0,
    QG_GGUF_INT8 = 1,
    QG_GGUF_UINT16 = 2,
    QG_GGUF_INT16 = 3,
    QG_GGUF_UINT32 = 4,
    QG_GGUF_INT32 = 5,
    QG_GGUF_FLOAT32 = 6,
    QG_GGUF_BOOL = 7,
    QG_GGUF_STRING = 8,
    QG_GGUF_ARRAY = 9,
    QG_GGUF_UINT64 = 10,
    QG_GGUF_INT64 = 11,
    QG_GGUF_FLOAT64 = 12,
} qg_gguf_vtype;

#define QG_GGUF_DEFAULT_ALIGNMENT 32

typedef struct qg_gguf qg_gguf;

typedef struct qg_gguf_str {
    uint64_t len;
    const char *data; /* not NUL-terminated; points into the mapping */
} qg_gguf_str;

typedef struct qg_gguf_tensor_info {
    const char *name;   /* NUL-terminated copy */
    qg_type type;
    int n_dims;
    int64_t ne[4];      /* unused dims are 1 */
    uint64_t offset;    /* relative to the data section */
    uint64_t size;      /* bytes */
    const void *data;   /* into the mapping */
} qg_gguf_tensor_info;

/* Open and validate; on failure *out is NULL and the message names the file and field. */
QG_API qg_status qg_gguf_open(const char *path, qg_gguf **out);
/* Parse from memory (the buffer must outlive the handle); name is used in messages. */
QG_API qg_status qg_gguf_open_memory(const void *data, size_t size, const char *name, qg_gguf **out);
QG_API void qg_gguf_close(qg_gguf *f);

QG_API uint32_t qg_gguf_version(const qg_gguf *f);
QG_API size_t qg_gguf_alignment(const qg_gguf *f);
QG_API uint64_t qg_gguf_data_offset(const qg_gguf *f); /* file offset of the data section */
QG_API uint64_t qg_gguf_file_size(const qg_gguf *f);

/* Metadata. Keys are indexed 0..n-1 in file order. */
QG_API int64_t qg_gguf_n_kv(const qg_gguf *f);
QG_API int64_t qg_gguf_find_key(const qg_gguf *f, const char *key); /* -1 if absent */
QG_API const char *qg_gguf_key(const qg_gguf *f, int64_t i);         /* NUL-terminated */
/* (qg_gguf_vtype)-1 for an index out of range. */
QG_API qg_gguf_vtype qg_gguf_kv_type(const qg_gguf *f, int64_t i);
/* For arrays: element type and count. */
QG_API qg_gguf_vtype qg_gguf_arr_type(const qg_gguf *f, int64_t i);
QG_API uint64_t qg_gguf_arr_n(const qg_gguf *f, int64_t i);
/* Raw element data of a non-string, non-nested array (little-endian, packed). */
QG_API const void *qg_gguf_arr_data(const qg_gguf *f, int64_t i);
QG_API qg_gguf_str qg_gguf_arr_str(const qg_gguf *f, int64_t i, uint64_t j);

/* Typed getters by key: QG_ERR_NOT_FOUND if absent, QG_ERR_FORMAT if of another type.
 * get_u64/get_i64 accept any integer type that fits; get_f64 accepts f32/f64. */
QG_API qg_status qg_gguf_get_u64(const qg_gguf *f, const char *key, uint64_t *out);
QG_API qg_status qg_gguf_get_i64(const qg_gguf *f, const char *key, int64_t *out);
QG_API qg_status qg_gguf_get_f64(const qg_gguf *f, const char *key, double *out);
QG_API qg_status qg_gguf_get_bool(const qg_gguf *f, const char *key, bool *out);
QG_API qg_status qg_gguf_get_str(const qg_gguf *f, const char *key, qg_gguf_str *out);
/* Value of a scalar kv by index (any numeric/bool type), as a double. */
QG_API qg_status qg_gguf_kv_as_f64(const qg_gguf *f, int64_t i, double *out);
QG_API qg_gguf_str qg_gguf_kv_str(const qg_gguf *f, int64_t i);

/* Tensors. */
QG_API int64_t qg_gguf_n_tensors(const qg_gguf *f);
QG_API int64_t qg_gguf_find_tensor(const qg_gguf *f, const char *name); /* -1 if absent */
QG_API const qg_gguf_tensor_info *qg_gguf_tensor(const qg_gguf *f, int64_t i);

/* Writer. */
typedef struct qg_gguf_writer qg_gguf_writer;

QG_API qg_status qg_gguf_writer_new(qg_gguf_writer **out);
QG_API void qg_gguf_writer_free(qg_gguf_writer *w);
/* Setting a key twice replaces its value. */
QG_API qg_status qg_gguf_set_u8(qg_gguf_writer *w, const char *key, uint8_t v);
QG_API qg_status qg_gguf_set_i8(qg_gguf_writer *w, const char *key, int8_t v);
QG_API qg_status qg_gguf_set_u16(qg_gguf_writer *w, const char *key, uint16_t v);
QG_API qg_status qg_gguf_set_i16(qg_gguf_writer *w, const char *key, int16_t v);
QG_API qg_status qg_gguf_set_u32(qg_gguf_writer *w, const char *key, uint32_t v);
QG_API qg_status qg_gguf_set_i32(qg_gguf_writer *w, const char *key, int32_t v);
QG_API qg_status qg_gguf_set_u64(qg_gguf_writer *w, const char *key, uint64_t v);
QG_API qg_status qg_gguf_set_i64(qg_gguf_writer *w, const char *key, int64_t v);
QG_API qg_status qg_gguf_set_f32(qg_gguf_writer *w, const char *key, float v);
QG_API qg_status qg_gguf_set_f64(qg_gguf_writer *w, const char *key, double v);
QG_API qg_status qg_gguf_set_bool(qg_gguf_writer *w, const char *key, bool v);
QG_API qg_status qg_gguf_set_str(qg_gguf_writer *w, const char *key, const char *v);
/* Array of a fixed-size element type (not STRING/ARRAY): n elements copied from data. */
QG_API qg_status qg_gguf_set_arr(qg_gguf_writer *w, const char *key, qg_gguf_vtype type,
                                 const void *data, uint64_t n);
QG_API qg_status qg_gguf_set_arr_str(qg_gguf_writer *w, const char *key, const char *const *v,
                                     uint64_t n);
/* Copy every kv of an opened file (e.g. when re-quantizing). */
QG_API qg_status qg_gguf_copy_kv(qg_gguf_writer *w, const qg_gguf *src);
QG_API qg_status qg_gguf_set_alignment(qg_gguf_writer *w, uint32_t alignment);
/* Add a tensor; data (qg_row_size(type, ne[0]) * rows bytes) is referenced, not copied,
 * and must stay valid until save. */
QG_API qg_status qg_gguf_add_tensor(qg_gguf_writer *w, const char *name, qg_type type, int n_dims,
                                    const int64_t *ne, const void *data);
/* Write everything (v3) to path atomically. */
QG_API qg_status qg_gguf_writer_save(qg_gguf_writer *w, const char *path);

#ifdef __cplusplus
}
#endif
#endif
