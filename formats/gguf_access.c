/* Read access to an opened GGUF file: header facts, kvs by index or key with typed
 * getters, and tensor infos. Values are decoded from the mapping on demand (memcpy,
 * so unaligned metadata is fine). An index out of range gives NULL / empty / -1 /
 * GGUF_VTYPE_INVALID rather than touching memory.
 */
#include "formats/gguf_internal.h"

#include <string.h>

uint32_t qg_gguf_version(const qg_gguf *f) { return f ? f->version : 0; }
size_t qg_gguf_alignment(const qg_gguf *f) { return f ? (size_t)f->alignment : 0; }
uint64_t qg_gguf_data_offset(const qg_gguf *f) { return f ? f->data_offset : 0; }
uint64_t qg_gguf_file_size(const qg_gguf *f) { return f ? f->size : 0; }

int64_t qg_gguf_n_kv(const qg_gguf *f) { return f ? f->n_kv : 0; }

static const char *kv_name(const void *ctx, int64_t i) { return ((const qg_gguf *)ctx)->kvs[i].key; }
static const char *tensor_name(const void *ctx, int64_t i) { return ((const qg_gguf *)ctx)->tensors[i].name; }

int64_t qg_gguf_find_key(const qg_gguf *f, const char *key) {
    return f ? gguf_index_find(&f->kv_index, key, kv_name, f) : -1;
}

static const gguf_kv *kv_at(const qg_gguf *f, int64_t i) {
    return f && i >= 0 && i < f->n_kv ? &f->kvs[i] : NULL;
}

const char *qg_gguf_key(const qg_gguf *f, int64_t i) {
    const gguf_kv *kv = kv_at(f, i);
    return kv ? kv->key : NULL;
}

qg_gguf_vtype qg_gguf_kv_type(const qg_gguf *f, int64_t i) {
    const gguf_kv *kv = kv_at(f, i);
    return kv ? kv->type : GGUF_VTYPE_INVALID;
}

qg_gguf_vtype qg_gguf_arr_type(const qg_gguf *f, int64_t i) {
    const gguf_kv *kv = kv_at(f, i);
    return kv && kv->type == QG_GGUF_ARRAY ? kv->arr_type : GGUF_VTYPE_INVALID;
}

uint64_t qg_gguf_arr_n(const qg_gguf *f, int64_t i) {
    const gguf_kv *kv = kv_at(f, i);
    return kv && kv->type == QG_GGUF_ARRAY ? kv->n : 0;
}

const void *qg_gguf_arr_data(const qg_gguf *f, int64_t i) {
    const gguf_kv *kv = kv_at(f, i);
    if (!kv || kv->type != QG_GGUF_ARRAY || !gguf_vtype_size(kv->arr_type)) return NULL;
    return kv->data;
}

/* A string whose u64 length prefix sits at p (validated when the file was opened). */
static qg_gguf_str str_at(const uint8_t *p) {
    qg_gguf_str s;
    memcpy(&s.len, p, 8);
    s.data = (const char *)p + 8;
    return s;
}

qg_gguf_str qg_gguf_arr_str(const qg_gguf *f, int64_t i, uint64_t j) {
    qg_gguf_str none = {0, NULL};
    const gguf_kv *kv = kv_at(f, i);
    if (!kv || kv->type != QG_GGUF_ARRAY || kv->arr_type != QG_GGUF_STRING || j >= kv->n) return none;
    return str_at(f->base + kv->str_off[j]);
}

qg_gguf_str qg_gguf_kv_str(const qg_gguf *f, int64_t i) {
    qg_gguf_str none = {0, NULL};
    const gguf_kv *kv = kv_at(f, i);
    if (!kv || kv->type != QG_GGUF_STRING) return none;
    return str_at(kv->raw);
}

/* Scalar integer value: *is_neg and the magnitude-or-value in *u / *s. */
static bool kv_int(const gguf_kv *kv, uint64_t *u, int64_t *s, bool *is_signed) {
    const uint8_t *p = kv->data;
    uint8_t u8; uint16_t u16; uint32_t u32;
    int8_t i8; int16_t i16; int32_t i32;
    *is_signed = false;
    switch (kv->type) {
    case QG_GGUF_UINT8: memcpy(&u8, p, 1); *u = u8; return true;
    case QG_GGUF_UINT16: memcpy(&u16, p, 2); *u = u16; return true;
    case QG_GGUF_UINT32: memcpy(&u32, p, 4); *u = u32; return true;
    case QG_GGUF_UINT64: memcpy(u, p, 8); return true;
    case QG_GGUF_INT8: memcpy(&i8, p, 1); *s = i8; break;
    case QG_GGUF_INT16: memcpy(&i16, p, 2); *s = i16; break;
    case QG_GGUF_INT32: memcpy(&i32, p, 4); *s = i32; break;
    case QG_GGUF_INT64: memcpy(s, p, 8); break;
    default: return false;
    }
    *is_signed = true;
    return true;
}

static qg_status lookup(const qg_gguf *f, const char *key, const gguf_kv **kv) {
    if (!f || !key) return qg_set_error(QG_ERR_INVALID_ARG, "gguf: NULL handle or key");
    int64_t i = qg_gguf_find_key(f, key);
    if (i < 0) return qg_set_error(QG_ERR_NOT_FOUND, "gguf: %s: key '%s' not found", f->name, key);
    *kv = &f->kvs[i];
    return QG_OK;
}

static qg_status wrong(const qg_gguf *f, const gguf_kv *kv, const char *want) {
    return qg_set_error(QG_ERR_FORMAT, "gguf: %s: key '%s' is %s, not %s", f->name, kv->key,
                        gguf_vtype_name(kv->type), want);
}

qg_status qg_gguf_get_u64(const qg_gguf *f, const char *key, uint64_t *out) {
    const gguf_kv *kv = NULL;
    uint64_t u = 0;
    int64_t s = 0;
    bool sg;
    qg_status st = lookup(f, key, &kv);
    if (st != QG_OK) return st;
    if (!kv_int(kv, &u, &s, &sg)) return wrong(f, kv, "an integer");
    if (sg && s < 0)
        return qg_set_error(QG_ERR_FORMAT, "gguf: %s: key '%s' = %lld does not fit u64", f->name, key, (long long)s);
    *out = sg ? (uint64_t)s : u;
    return QG_OK;
}

qg_status qg_gguf_get_i64(const qg_gguf *f, const char *key, int64_t *out) {
    const gguf_kv *kv = NULL;
    uint64_t u = 0;
    int64_t s = 0;
    bool sg;
    qg_status st = lookup(f, key, &kv);
    if (st != QG_OK) return st;
    if (!kv_int(kv, &u, &s, &sg)) return wrong(f, kv, "an integer");
    if (!sg && u > (uint64_t)INT64_MAX)
        return qg_set_error(QG_ERR_FORMAT, "gguf: %s: key '%s' = %llu does not fit i64", f->name, key, (unsigned long long)u);
    *out = sg ? s : (int64_t)u;
    return QG_OK;
}

qg_status qg_gguf_get_f64(const qg_gguf *f, const char *key, double *out) {
    const gguf_kv *kv = NULL;
    qg_status st = lookup(f, key, &kv);
    if (st != QG_OK) return st;
    if (kv->type == QG_GGUF_FLOAT32) {
        float v;
        memcpy(&v, kv->data, 4);
        *out = v;
    } else if (kv->type == QG_GGUF_FLOAT64) {
        memcpy(out, kv->data, 8);
    } else {
        return wrong(f, kv, "f32 or f64");
    }
    return QG_OK;
}

qg_status qg_gguf_get_bool(const qg_gguf *f, const char *key, bool *out) {
    const gguf_kv *kv = NULL;
    qg_status st = lookup(f, key, &kv);
    if (st != QG_OK) return st;
    if (kv->type != QG_GGUF_BOOL) return wrong(f, kv, "bool");
    *out = kv->data[0] != 0;
    return QG_OK;
}

qg_status qg_gguf_get_str(const qg_gguf *f, const char *key, qg_gguf_str *out) {
    const gguf_kv *kv = NULL;
    qg_status st = lookup(f, key, &kv);
    if (st != QG_OK) return st;
    if (kv->type != QG_GGUF_STRING) return wrong(f, kv, "string");
    *out = str_at(kv->raw);
    return QG_OK;
}

qg_status qg_gguf_kv_as_f64(const qg_gguf *f, int64_t i, double *out) {
    const gguf_kv *kv = kv_at(f, i);
    uint64_t u = 0;
    int64_t s = 0;
    bool sg;
    if (!kv) return qg_set_error(QG_ERR_INVALID_ARG, "gguf: kv index %lld out of range", (long long)i);
    if (kv_int(kv, &u, &s, &sg)) {
        *out = sg ? (double)s : (double)u;
    } else if (kv->type == QG_GGUF_BOOL) {
        *out = kv->data[0];
    } else if (kv->type == QG_GGUF_FLOAT32 || kv->type == QG_GGUF_FLOAT64) {
        return qg_gguf_get_f64(f, kv->key, out);
    } else {
        return wrong(f, kv, "a number");
    }
    return QG_OK;
}

int64_t qg_gguf_n_tensors(const qg_gguf *f) { return f ? f->n_tensors : 0; }

int64_t qg_gguf_find_tensor(const qg_gguf *f, const char *name) {
    return f ? gguf_index_find(&f->tensor_index, name, tensor_name, f) : -1;
}

const qg_gguf_tensor_info *qg_gguf_tensor(const qg_gguf *f, int64_t i) {
    return f && i >= 0 && i < f->n_tensors ? &f->tensors[i] : NULL;
}
