/* Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c) and the regression replay
 * (tests/test_fuzz_regressions.c): feed one input to a reader and, when it opens, read
 * every piece of metadata and every tensor byte it hands out, so that a bad pointer or
 * length shows up under the sanitizers. Returns 1 when the input opened. */
#ifndef QG_FUZZ_TOUCH_H
#define QG_FUZZ_TOUCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qg/gguf.h"
#include "qg/safetensors.h"

static volatile uint64_t qgf_sink;

static inline uint64_t qgf_bytes(const void *p, uint64_t n) {
    const unsigned char *c = p;
    uint64_t h = 0;
    for (uint64_t i = 0; i < n; i++) h = h * 31 + c[i];
    return h;
}

static inline size_t qgf_gguf_elem_size(qg_gguf_vtype t) {
    switch (t) {
    case QG_GGUF_UINT8: case QG_GGUF_INT8: case QG_GGUF_BOOL: return 1;
    case QG_GGUF_UINT16: case QG_GGUF_INT16: return 2;
    case QG_GGUF_UINT32: case QG_GGUF_INT32: case QG_GGUF_FLOAT32: return 4;
    case QG_GGUF_UINT64: case QG_GGUF_INT64: case QG_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

static inline int qgf_touch_gguf(const uint8_t *data, size_t size) {
    qg_gguf *f = NULL;
    if (qg_gguf_open_memory(data, size, "fuzz.gguf", &f) != QG_OK) {
        qgf_sink += strlen(qg_last_error());
        return 0;
    }
    uint64_t h = qg_gguf_version(f) + qg_gguf_alignment(f) + qg_gguf_data_offset(f) + qg_gguf_file_size(f);
    for (int64_t i = 0; i < qg_gguf_n_kv(f); i++) {
        const char *key = qg_gguf_key(f, i);
        h += strlen(key) + (uint64_t)(qg_gguf_find_key(f, key) == i);
        qg_gguf_vtype t = qg_gguf_kv_type(f, i);
        if (t == QG_GGUF_ARRAY) {
            qg_gguf_vtype at = qg_gguf_arr_type(f, i);
            uint64_t n = qg_gguf_arr_n(f, i);
            if (at == QG_GGUF_STRING) {
                for (uint64_t j = 0; j < n; j++) {
                    qg_gguf_str s = qg_gguf_arr_str(f, i, j);
                    h += qgf_bytes(s.data, s.len);
                }
            } else if (qgf_gguf_elem_size(at)) {
                h += qgf_bytes(qg_gguf_arr_data(f, i), n * qgf_gguf_elem_size(at));
            }
        } else if (t == QG_GGUF_STRING) {
            qg_gguf_str s = qg_gguf_kv_str(f, i);
            qg_gguf_str s2 = {0, NULL};
            h += qgf_bytes(s.data, s.len) + (uint64_t)qg_gguf_get_str(f, key, &s2);
        } else {
            double d = 0;
            uint64_t u = 0;
            int64_t v = 0;
            bool b = false;
            h += (uint64_t)qg_gguf_kv_as_f64(f, i, &d) + (uint64_t)qg_gguf_get_u64(f, key, &u) +
                 (uint64_t)qg_gguf_get_i64(f, key, &v) + (uint64_t)qg_gguf_get_f64(f, key, &d) +
                 (uint64_t)qg_gguf_get_bool(f, key, &b) + u + (uint64_t)v + (d == d);
        }
    }
    for (int64_t i = 0; i < qg_gguf_n_tensors(f); i++) {
        const qg_gguf_tensor_info *t = qg_gguf_tensor(f, i);
        h += strlen(t->name) + (uint64_t)(qg_gguf_find_tensor(f, t->name) == i) + (uint64_t)t->type +
             (uint64_t)t->n_dims + t->offset;
        for (int d = 0; d < 4; d++) h += (uint64_t)t->ne[d];
        if (t->size) h += qgf_bytes(t->data, t->size);
    }
    qgf_sink += h;
    qg_gguf_close(f);
    return 1;
}

static inline int qgf_touch_st(const uint8_t *data, size_t size) {
    qg_st *st = NULL;
    if (qg_st_open_memory(data, size, "fuzz.safetensors", &st) != QG_OK) {
        qgf_sink += strlen(qg_last_error());
        return 0;
    }
    uint64_t h = 0;
    for (int64_t i = 0; i < qg_st_n_meta(st); i++)
        h += strlen(qg_st_meta_key(st, i)) + strlen(qg_st_meta_value(st, i));
    for (int64_t i = 0; i < qg_st_n_tensors(st); i++) {
        const qg_st_tensor_info *t = qg_st_tensor(st, i);
        h += strlen(t->name) + strlen(t->dtype_name) + strlen(t->file) + (uint64_t)(qg_st_find(st, t->name) == i);
        h += qg_st_dtype_size(t->dtype) + (uint64_t)qg_st_dtype_to_type(t->dtype);
        for (int d = 0; d < t->n_dims; d++) h += (uint64_t)t->shape[d];
        if (t->size) h += qgf_bytes(t->data, t->size);
    }
    qgf_sink += h;
    qg_st_close(st);
    return 1;
}

#endif
