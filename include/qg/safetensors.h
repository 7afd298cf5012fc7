/* qgraph safetensors reader and writer (Hugging Face's checkpoint format).
 *
 * A file is an 8-byte little-endian header length, a JSON header mapping tensor names to
 * {dtype, shape, data_offsets} (plus an optional "__metadata__" object of strings), then
 * the raw data. qg_st_open() memory-maps the file and validates every entry (dtype known,
 * offsets inside the data section, sorted without overlap, sizes equal to shape x dtype)
 * before handing out anything. A sharded checkpoint (model.safetensors.index.json with a
 * weight_map) opens as one qg_st whose tensors point into several mappings.
 *
 *     qg_st *st; if (qg_st_open("model.safetensors", &st) != QG_OK) puts(qg_last_error());
 *     for (int64_t i = 0; i < qg_st_n_tensors(st); i++) { const qg_st_tensor_info *t = qg_st_tensor(st, i); ... }
 *
 * Writing: qg_st_writer collects tensors and metadata and saves atomically (temp file,
 * then rename).
 */
#ifndef QG_SAFETENSORS_H
#define QG_SAFETENSORS_H

#include "qg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* safetensors dtypes this project reads. */
typedef enum qg_st_dtype {
    QG_ST_F64, QG_ST_F32, QG_ST_F16, QG_ST_BF16, QG_ST_I64, QG_ST_I32, QG_ST_I16, QG_ST_I8,
    QG_ST_U8, QG_ST_BOOL, QG_ST_F8_E4M3, QG_ST_F8_E5M2,
} qg_st_dtype;

#define QG_ST_MAX_DIMS 8

/* The typedef is qg_st_tensor_info (not qg_st_tensor, which names the accessor function
 * below; C has one namespace for both). `struct qg_st_tensor` also works. */
typedef struct qg_st_tensor {
    const char *name;
    qg_st_dtype dtype;
    const char *dtype_name;   /* as in the file: "BF16" */
    int n_dims;               /* 0 for a scalar */
    int64_t shape[QG_ST_MAX_DIMS]; /* outermost first, as in the file */
    uint64_t size;            /* bytes */
    const void *data;         /* into the mapping */
    const char *file;         /* the shard it lives in */
} qg_st_tensor_info;

typedef struct qg_st qg_st;

/* Open a .safetensors file, a model.safetensors.index.json, or a directory holding
 * either. Errors name the file and the tensor or field. */
QG_API qg_status qg_st_open(const char *path, qg_st **out);
/* Parse one file image from memory (must outlive the handle). */
QG_API qg_status qg_st_open_memory(const void *data, size_t size, const char *name, qg_st **out);
QG_API void qg_st_close(qg_st *st);

QG_API int64_t qg_st_n_tensors(const qg_st *st);
QG_API const qg_st_tensor_info *qg_st_tensor(const qg_st *st, int64_t i);
QG_API int64_t qg_st_find(const qg_st *st, const char *name); /* -1 if absent */
/* __metadata__ entries (string values). */
QG_API int64_t qg_st_n_meta(const qg_st *st);
QG_API const char *qg_st_meta_key(const qg_st *st, int64_t i);
QG_API const char *qg_st_meta_value(const qg_st *st, int64_t i);
/* The qgraph type holding a dtype's elements (F32, F16, BF16, F8_E4M3, ...), or a
 * negative value when none does: U8 and BOOL return -1 (as I8, U8 values above 127 would
 * read as negative). */
QG_API int qg_st_dtype_to_type(qg_st_dtype dtype);
QG_API size_t qg_st_dtype_size(qg_st_dtype dtype);

typedef struct qg_st_writer qg_st_writer;
QG_API qg_status qg_st_writer_new(qg_st_writer **out);
QG_API void qg_st_writer_free(qg_st_writer *w);
QG_API qg_status qg_st_writer_meta(qg_st_writer *w, const char *key, const char *value);
/* shape outermost first; data referenced until save. */
QG_API qg_status qg_st_writer_add(qg_st_writer *w, const char *name, qg_st_dtype dtype, int n_dims,
                                  const int64_t *shape, const void *data);
QG_API qg_status qg_st_writer_save(qg_st_writer *w, const char *path);

#ifdef __cplusplus
}
#endif
#endif
