/* safetensors reader: validation of one file image (length prefix, JSON header, data
 * section). Nothing is handed out until every entry has been checked:
 * - the header length is compared with the image size and ST_MAX_HEADER before any
 *   allocation; the header must be a JSON object starting with '{' (jansson, with
 *   duplicate keys rejected and no trailing garbage other than whitespace);
 * - "__metadata__" must be an object of string values;
 * - every other key is a tensor {"dtype", "shape", "data_offsets"}: a known dtype, at most
 *   QG_ST_MAX_DIMS non-negative integer dims whose product times the dtype size (checked
 *   for overflow) equals end - begin, and begin <= end <= data size;
 * - sorted by offset, the tensors must tile the data section exactly: no overlap, no
 *   hole and no unused bytes at the end (as the reference implementation requires).
 * Unknown extra fields inside a tensor entry are ignored, as the reference does.
 * Tensors are appended in data-offset order (ties by name); a zero-byte tensor gets
 * data == NULL. Tensor data may be unaligned (offsets are arbitrary byte offsets).
 */
#define _POSIX_C_SOURCE 200809L
#include "formats/st_internal.h"
#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef QG_HAVE_JANSSON
#include <jansson.h>

static qg_status fail(const char *file, const char *fmt, ...) QG_PRINTF(2, 3);
static qg_status fail(const char *file, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: %s", file, msg);
}

static qg_status oom(const char *file) {
    return qg_set_error(QG_ERR_NO_MEMORY, "safetensors: %s: out of memory", file);
}

/* One tensor entry as parsed, before the layout checks. */
typedef struct entry {
    const char *name; /* points into the JSON tree */
    const st_dtype_row *dt;
    int n_dims;
    int64_t shape[QG_ST_MAX_DIMS];
    uint64_t begin, end;
} entry;

static qg_status get_uint(const char *file, const char *name, const char *field, json_t *v,
                          uint64_t *out) {
    if (!json_is_integer(v))
        return fail(file, "tensor '%s': %s must hold integers, found a JSON %s", name, field,
                    json_is_real(v) ? "real" : json_is_string(v) ? "string" : "non-number");
    json_int_t x = json_integer_value(v);
    if (x < 0) return fail(file, "tensor '%s': %s holds the negative value %lld", name, field, (long long)x);
    *out = (uint64_t)x;
    return QG_OK;
}

static qg_status parse_entry(const char *file, const char *name, json_t *obj, uint64_t data_size,
                             entry *e) {
    qg_status st;
    e->name = name;
    if (name[0] == '\0') return fail(file, "a tensor has an empty name");
    if (!json_is_object(obj)) return fail(file, "tensor '%s': entry is not a JSON object", name);
    json_t *dtype = json_object_get(obj, "dtype");
    json_t *shape = json_object_get(obj, "shape");
    json_t *offs = json_object_get(obj, "data_offsets");
    if (!dtype) return fail(file, "tensor '%s': missing field 'dtype'", name);
    if (!shape) return fail(file, "tensor '%s': missing field 'shape'", name);
    if (!offs) return fail(file, "tensor '%s': missing field 'data_offsets'", name);
    if (!json_is_string(dtype)) return fail(file, "tensor '%s': 'dtype' is not a string", name);
    e->dt = st_dtype_by_name(json_string_value(dtype));
    if (!e->dt)
        return fail(file, "tensor '%s': unsupported dtype '%.64s' (known: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL F8_E4M3 F8_E5M2)",
                    name, json_string_value(dtype));
    if (!json_is_array(shape)) return fail(file, "tensor '%s': 'shape' is not an array", name);
    size_t nd = json_array_size(shape);
    if (nd > QG_ST_MAX_DIMS)
        return fail(file, "tensor '%s': 'shape' has %zu dims, more than the %d supported", name, nd, QG_ST_MAX_DIMS);
    e->n_dims = (int)nd;
    uint64_t nel = 1;
    for (size_t d = 0; d < nd; d++) {
        uint64_t v = 0;
        if ((st = get_uint(file, name, "'shape'", json_array_get(shape, d), &v)) != QG_OK) return st;
        e->shape[d] = (int64_t)v;
        if (!st_mul_u64(nel, v, &nel) || nel > (uint64_t)INT64_MAX)
            return fail(file, "tensor '%s': element count of 'shape' overflows at dim %zu", name, d);
    }
    if (!json_is_array(offs) || json_array_size(offs) != 2)
        return fail(file, "tensor '%s': 'data_offsets' is not an array of two integers", name);
    if ((st = get_uint(file, name, "'data_offsets'", json_array_get(offs, 0), &e->begin)) != QG_OK) return st;
    if ((st = get_uint(file, name, "'data_offsets'", json_array_get(offs, 1), &e->end)) != QG_OK) return st;
    if (e->begin > e->end)
        return fail(file, "tensor '%s': data_offsets [%llu, %llu] are reversed", name,
                    (unsigned long long)e->begin, (unsigned long long)e->end);
    if (e->end > data_size)
        return fail(file, "tensor '%s': data_offsets end %llu lies past the %llu-byte data section", name,
                    (unsigned long long)e->end, (unsigned long long)data_size);
    uint64_t bytes;
    if (!st_mul_u64(nel, e->dt->size, &bytes))
        return fail(file, "tensor '%s': byte size of 'shape' x %s overflows", name, e->dt->name);
    if (bytes != e->end - e->begin)
        return fail(file, "tensor '%s': shape x %s needs %llu bytes but data_offsets [%llu, %llu] span %llu",
                    name, e->dt->name, (unsigned long long)bytes, (unsigned long long)e->begin,
                    (unsigned long long)e->end, (unsigned long long)(e->end - e->begin));
    return QG_OK;
}

static int by_offset(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sorted entries must tile [0, data_size) exactly. */
static qg_status check_layout(const char *file, const entry *e, size_t n, uint64_t data_size) {
    uint64_t pos = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        if (e[i].begin < pos)
            return fail(file, "tensors '%s' and '%s' overlap (data_offsets begin %llu < previous end %llu)",
                        prev, e[i].name, (unsigned long long)e[i].begin, (unsigned long long)pos);
        if (e[i].begin > pos)
            return fail(file, "hole in the data section: bytes [%llu, %llu) before tensor '%s' belong to no tensor",
                        (unsigned long long)pos, (unsigned long long)e[i].begin, e[i].name);
        pos = e[i].end;
        prev = e[i].name;
    }
    if (pos != data_size)
        return fail(file, "the data section has %llu bytes but the tensors cover only %llu (incomplete metadata)",
                    (unsigned long long)data_size, (unsigned long long)pos);
    return QG_OK;
}

static qg_status add_meta(qg_st *st, const char *file, json_t *meta) {
    if (!json_is_object(meta)) return fail(file, "'__metadata__' is not a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v) {
        if (!json_is_string(v)) return fail(file, "'__metadata__' value of key '%.128s' is not a string", k);
    }
    json_object_foreach(meta, k, v) {
        int dup = 0;
        for (int64_t i = 0; i < st->n_meta && !dup; i++) dup = strcmp(st->meta_keys[i], k) == 0;
        if (dup) continue;
        if (st->n_meta == st->cap_meta) {
            int64_t cap = st->cap_meta ? 2 * st->cap_meta : 8;
            char **nk = qg_realloc(st->meta_keys, (size_t)cap * sizeof *nk);
            if (!nk) return oom(file);
            st->meta_keys = nk;
            char **nv = qg_realloc(st->meta_values, (size_t)cap * sizeof *nv);
            if (!nv) return oom(file);
            st->meta_values = nv;
            st->cap_meta = cap;
        }
        char *ks = qg_strdup(k), *vs = qg_strdup(json_string_value(v));
        if (!ks || !vs) {
            qg_free(ks);
            qg_free(vs);
            return oom(file);
        }
        st->meta_keys[st->n_meta] = ks;
        st->meta_values[st->n_meta] = vs;
        st->n_meta++;
    }
    return QG_OK;
}

static qg_status append_tensors(qg_st *st, const char *file, const entry *e, size_t n, const uint8_t *data) {
    if ((uint64_t)st->n_tensors + n > (uint64_t)st->cap_tensors) {
        int64_t cap = st->cap_tensors ? st->cap_tensors : 16;
        while ((uint64_t)cap < (uint64_t)st->n_tensors + n) cap *= 2;
        qg_st_tensor_info *nt = qg_realloc(st->tensors, (size_t)cap * sizeof *nt);
        if (!nt) return oom(file);
        st->tensors = nt;
        st->cap_tensors = cap;
    }
    for (size_t i = 0; i < n; i++) {
        qg_st_tensor_info *t = &st->tensors[st->n_tensors];
        memset(t, 0, sizeof *t);
        if (!(t->name = qg_strdup(e[i].name))) return oom(file);
        st->n_tensors++;
        t->dtype = e[i].dt->dtype;
        t->dtype_name = e[i].dt->name;
        t->n_dims = e[i].n_dims;
        memcpy(t->shape, e[i].shape, sizeof t->shape);
        t->size = e[i].end - e[i].begin;
        t->data = t->size ? data + e[i].begin : NULL;
        t->file = file;
    }
    return QG_OK;
}

static qg_status parse_header(qg_st *st, json_t *root, const char *file, const uint8_t *data,
                              uint64_t data_size) {
    if (!json_is_object(root)) return fail(file, "the header is not a JSON object");
    size_t n = json_object_size(root);
    entry *e = qg_calloc(n ? n : 1, sizeof *e);
    if (!e) return oom(file);
    size_t k = 0;
    qg_status s = QG_OK;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(v)) {
                s = fail(file, "'__metadata__' is not a JSON object");
                break;
            }
            continue;
        }
        if ((s = parse_entry(file, key, v, data_size, &e[k])) != QG_OK) break;
        k++;
    }
    if (s == QG_OK) {
        qsort(e, k, sizeof *e, by_offset);
        s = check_layout(file, e, k, data_size);
    }
    json_t *meta = json_object_get(root, "__metadata__");
    if (s == QG_OK && meta) s = add_meta(st, file, meta);
    if (s == QG_OK) s = append_tensors(st, file, e, k, data);
    qg_free(e);
    return s;
}

qg_status st_parse_image(qg_st *st, const uint8_t *base, uint64_t size, const char *file) {
    if (size < 8)
        return fail(file, "%llu bytes: too short for the 8-byte header length", (unsigned long long)size);
    uint64_t n;
    memcpy(&n, base, 8);
    if (n > ST_MAX_HEADER)
        return fail(file, "header length %llu exceeds the %u-byte limit", (unsigned long long)n, ST_MAX_HEADER);
    if (n > size - 8)
        return fail(file, "header length %llu exceeds the %llu bytes after the length prefix",
                    (unsigned long long)n, (unsigned long long)(size - 8));
    const char *hdr = (const char *)base + 8;
    if (n < 2 || hdr[0] != '{') return fail(file, "the header does not start with '{' (not a JSON object)");
    json_error_t err;
    json_t *root = json_loadb(hdr, (size_t)n, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return fail(file, "header is not valid JSON: %s (line %d, column %d)", err.text, err.line, err.column);
    qg_status s = parse_header(st, root, file, base + 8 + n, size - 8 - n);
    json_decref(root);
    return s;
}

#else

qg_status st_parse_image(qg_st *st, const uint8_t *base, uint64_t size, const char *file) {
    (void)st;
    (void)base;
    (void)size;
    return qg_set_error(QG_ERR_UNSUPPORTED, "safetensors: %s: qgraph was built without jansson; cannot read safetensors headers", file);
}

#endif
