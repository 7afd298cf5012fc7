/* Helper for the python cross-checks (tests/gguf_python.cmake), not a ctest case itself.
 *
 *   gguf_check_tool check FILE JSON   read FILE with our reader, compare with JSON
 *   gguf_check_tool copy SRC DST      copy_kv + every tensor of SRC into DST (our writer)
 *   gguf_check_tool write FILE JSON   write a file covering every value type and several
 *                                     tensor types; JSON says what was written
 *
 * JSON (shared with tests/python/gguf_crosscheck.py): {"alignment", "kvs": [{"key",
 * "type", "value"}], "tensors": [{"name", "type", "ne", "offset", "size", "hex"}]}.
 * Integers are decimal strings (u64 does not fit a JSON int), floats are C99/python
 * hex-float strings, strings and tensor bytes are hex, bools are JSON booleans, arrays
 * are {"elem": type, "items": [...]}. Nested arrays are checked for element type and
 * count only (the public reader API exposes no more); the python side verifies their
 * contents after a copy. Exit status 0 = all matched; mismatches are printed.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qg/qg.h"

static int n_bad;

#define BAD(...) (fprintf(stderr, "MISMATCH: " __VA_ARGS__), fputc('\n', stderr), n_bad++)

static size_t vsize(int t) {
    static const size_t s[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t >= 0 && t < 13 ? s[t] : 0;
}

static bool is_signed(int t) {
    return t == QG_GGUF_INT8 || t == QG_GGUF_INT16 || t == QG_GGUF_INT32 || t == QG_GGUF_INT64;
}

/* Decode one fixed-size element into integer/float/bool form. */
static void decode(int t, const uint8_t *p, uint64_t *u, int64_t *s, double *d) {
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f;
    *u = 0; *s = 0; *d = 0;
    switch (t) {
    case QG_GGUF_UINT8: case QG_GGUF_BOOL: memcpy(&u8, p, 1); *u = u8; break;
    case QG_GGUF_INT8: memcpy(&i8, p, 1); *s = i8; break;
    case QG_GGUF_UINT16: memcpy(&u16, p, 2); *u = u16; break;
    case QG_GGUF_INT16: memcpy(&i16, p, 2); *s = i16; break;
    case QG_GGUF_UINT32: memcpy(&u32, p, 4); *u = u32; break;
    case QG_GGUF_INT32: memcpy(&i32, p, 4); *s = i32; break;
    case QG_GGUF_UINT64: memcpy(u, p, 8); break;
    case QG_GGUF_INT64: memcpy(s, p, 8); break;
    case QG_GGUF_FLOAT32: memcpy(&f, p, 4); *d = f; break;
    case QG_GGUF_FLOAT64: memcpy(d, p, 8); break;
    }
}

static bool same_float(int t, double got, double want) {
    if (isnan(got) || isnan(want)) return isnan(got) && isnan(want);
    return t == QG_GGUF_FLOAT32 ? (float)got == (float)want : got == want;
}

static bool hex_eq(const char *hex, const void *data, uint64_t n) {
    const uint8_t *p = data;
    if (strlen(hex) != 2 * n) return false;
    for (uint64_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || v != p[i]) return false;
    }
    return true;
}

/* Compare one fixed-size element (raw bytes p) with its JSON form. */
static bool elem_eq(int t, const uint8_t *p, json_t *want) {
    uint64_t u;
    int64_t s;
    double d;
    decode(t, p, &u, &s, &d);
    if (t == QG_GGUF_BOOL) return json_is_boolean(want) && (u != 0) == json_is_true(want);
    const char *w = json_string_value(want);
    if (!w) return false;
    if (t == QG_GGUF_FLOAT32 || t == QG_GGUF_FLOAT64) return same_float(t, d, strtod(w, NULL));
    if (is_signed(t)) return s == strtoll(w, NULL, 10);
    return u == strtoull(w, NULL, 10);
}

static void check_kv(const qg_gguf *f, int64_t i, json_t *e) {
    const char *key = json_string_value(json_object_get(e, "key"));
    int type = (int)json_integer_value(json_object_get(e, "type"));
    json_t *val = json_object_get(e, "value");
    if (!key || strcmp(qg_gguf_key(f, i), key) != 0) {
        BAD("kv %" PRId64 ": key '%s', expected '%s'", i, qg_gguf_key(f, i), key ? key : "?");
        return;
    }
    if ((int)qg_gguf_kv_type(f, i) != type) {
        BAD("key '%s': type %d, expected %d", key, (int)qg_gguf_kv_type(f, i), type);
        return;
    }
    if (type == QG_GGUF_STRING) {
        qg_gguf_str s = qg_gguf_kv_str(f, i);
        if (!hex_eq(json_string_value(val), s.data, s.len)) BAD("key '%s': string differs", key);
    } else if (type == QG_GGUF_ARRAY) {
        int elem = (int)json_integer_value(json_object_get(val, "elem"));
        json_t *items = json_object_get(val, "items");
        uint64_t n = qg_gguf_arr_n(f, i);
        if ((int)qg_gguf_arr_type(f, i) != elem || n != json_array_size(items)) {
            BAD("key '%s': array of %d x %" PRIu64 ", expected %d x %zu", key, (int)qg_gguf_arr_type(f, i),
                n, elem, json_array_size(items));
            return;
        }
        const uint8_t *data = qg_gguf_arr_data(f, i);
        for (uint64_t j = 0; j < n; j++) {
            json_t *it = json_array_get(items, j);
            bool ok;
            if (elem == QG_GGUF_STRING) {
                qg_gguf_str s = qg_gguf_arr_str(f, i, j);
                ok = hex_eq(json_string_value(it), s.data, s.len);
            } else if (elem == QG_GGUF_ARRAY) {
                ok = json_is_object(it); /* contents: see the file comment */
            } else {
                ok = data && elem_eq(elem, data + j * vsize(elem), it);
            }
            if (!ok) BAD("key '%s': element %" PRIu64 " differs", key, j);
        }
    } else {
        /* scalars: go through the typed getters, as a user would */
        uint64_t u;
        int64_t s;
        double d;
        bool b;
        uint8_t raw[8];
        if (type == QG_GGUF_BOOL) {
            if (qg_gguf_get_bool(f, key, &b) != QG_OK || b != json_is_true(val)) BAD("key '%s': bool differs", key);
            return;
        }
        if (type == QG_GGUF_FLOAT32 || type == QG_GGUF_FLOAT64) {
            if (qg_gguf_get_f64(f, key, &d) != QG_OK) BAD("key '%s': %s", key, qg_last_error());
            else if (!same_float(type, d, strtod(json_string_value(val), NULL))) BAD("key '%s': float differs", key);
            return;
        }
        if (is_signed(type)) {
            if (qg_gguf_get_i64(f, key, &s) != QG_OK) BAD("key '%s': %s", key, qg_last_error());
            memcpy(raw, &s, 8);
        } else {
            if (qg_gguf_get_u64(f, key, &u) != QG_OK) BAD("key '%s': %s", key, qg_last_error());
            memcpy(raw, &u, 8);
        }
        if (!elem_eq(is_signed(type) ? QG_GGUF_INT64 : QG_GGUF_UINT64, raw, val)) BAD("key '%s': value differs", key);
    }
}

static int cmd_check(const char *path, const char *jpath) {
    json_error_t jerr;
    json_t *root = json_load_file(jpath, 0, &jerr);
    if (!root) {
        fprintf(stderr, "%s: %s\n", jpath, jerr.text);
        return 2;
    }
    qg_gguf *f = NULL;
    if (qg_gguf_open(path, &f) != QG_OK) {
        fprintf(stderr, "open failed: %s\n", qg_last_error());
        json_decref(root);
        return 1;
    }
    json_t *kvs = json_object_get(root, "kvs"), *ts = json_object_get(root, "tensors");
    if ((uint64_t)json_integer_value(json_object_get(root, "alignment")) != qg_gguf_alignment(f))
        BAD("alignment %zu", qg_gguf_alignment(f));
    if ((size_t)qg_gguf_n_kv(f) != json_array_size(kvs))
        BAD("%" PRId64 " kvs, expected %zu", qg_gguf_n_kv(f), json_array_size(kvs));
    for (int64_t i = 0; i < qg_gguf_n_kv(f) && (size_t)i < json_array_size(kvs); i++)
        check_kv(f, i, json_array_get(kvs, (size_t)i));
    if ((size_t)qg_gguf_n_tensors(f) != json_array_size(ts))
        BAD("%" PRId64 " tensors, expected %zu", qg_gguf_n_tensors(f), json_array_size(ts));
    for (int64_t i = 0; i < qg_gguf_n_tensors(f) && (size_t)i < json_array_size(ts); i++) {
        const qg_gguf_tensor_info *t = qg_gguf_tensor(f, i);
        json_t *e = json_array_get(ts, (size_t)i), *ne = json_object_get(e, "ne");
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!name || strcmp(t->name, name) != 0) BAD("tensor %" PRId64 ": name '%s'", i, t->name);
        if ((int)t->type != (int)json_integer_value(json_object_get(e, "type"))) BAD("tensor '%s': type %d", t->name, (int)t->type);
        if ((size_t)t->n_dims != json_array_size(ne)) BAD("tensor '%s': n_dims %d", t->name, t->n_dims);
        for (size_t d = 0; d < json_array_size(ne) && d < 4; d++)
            if (t->ne[d] != strtoll(json_string_value(json_array_get(ne, d)), NULL, 10))
                BAD("tensor '%s': ne[%zu] = %" PRId64, t->name, d, t->ne[d]);
        if (t->offset != strtoull(json_string_value(json_object_get(e, "offset")), NULL, 10))
            BAD("tensor '%s': offset %" PRIu64, t->name, t->offset);
        if (t->size != strtoull(json_string_value(json_object_get(e, "size")), NULL, 10))
            BAD("tensor '%s': size %" PRIu64, t->name, t->size);
        else if (!hex_eq(json_string_value(json_object_get(e, "hex")), t->data, t->size))
            BAD("tensor '%s': data differs", t->name);
    }
    printf("%s: %" PRId64 " kvs, %" PRId64 " tensors checked, %d mismatches\n", path, qg_gguf_n_kv(f),
           qg_gguf_n_tensors(f), n_bad);
    qg_gguf_close(f);
    json_decref(root);
    return n_bad ? 1 : 0;
}

static int cmd_copy(const char *src, const char *dst) {
    qg_gguf *f = NULL;
    qg_gguf_writer *w = NULL;
    qg_status st = qg_gguf_open(src, &f);
    if (st == QG_OK) st = qg_gguf_writer_new(&w);
    if (st == QG_OK) st = qg_gguf_copy_kv(w, f);
    for (int64_t i = 0; st == QG_OK && i < qg_gguf_n_tensors(f); i++) {
        const qg_gguf_tensor_info *t = qg_gguf_tensor(f, i);
        st = qg_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
    }
    if (st == QG_OK) st = qg_gguf_writer_save(w, dst);
    if (st != QG_OK) fprintf(stderr, "copy failed: %s\n", qg_last_error());
    qg_gguf_writer_free(w);
    qg_gguf_close(f);
    return st == QG_OK ? 0 : 1;
}

/* ---- write: our writer, with JSON describing its inputs ---- */

static json_t *jdec_u(uint64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%" PRIu64, v);
    return json_string(b);
}

static json_t *jdec_s(int64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%" PRId64, v);
    return json_string(b);
}

static json_t *jhex(const void *data, uint64_t n) {
    char *b = malloc(2 * n + 1);
    for (uint64_t i = 0; i < n; i++) snprintf(b + 2 * i, 3, "%02x", ((const uint8_t *)data)[i]);
    b[2 * n] = '\0';
    json_t *j = json_string(b);
    free(b);
    return j;
}

static json_t *jelem(int t, const uint8_t *p) {
    uint64_t u;
    int64_t s;
    double d;
    char b[64];
    decode(t, p, &u, &s, &d);
    if (t == QG_GGUF_BOOL) return json_boolean(u != 0);
    if (t == QG_GGUF_FLOAT32 || t == QG_GGUF_FLOAT64) {
        snprintf(b, sizeof b, "%a", d);
        return json_string(b);
    }
    return is_signed(t) ? jdec_s(s) : jdec_u(u);
}

static json_t *kvs_out;
static qg_status wst = QG_OK;

static void note(qg_status st, const char *key, int type, json_t *value) {
    if (st != QG_OK && wst == QG_OK) {
        wst = st;
        fprintf(stderr, "writer failed at '%s': %s\n", key, qg_last_error());
    }
    json_array_append_new(kvs_out, json_pack("{s:s, s:i, s:o}", "key", key, "type", type, "value", value));
}

static void put_scalar(qg_gguf_writer *w, const char *key, int t, const void *v) {
    qg_status st;
    switch (t) {
    case QG_GGUF_UINT8: st = qg_gguf_set_u8(w, key, *(const uint8_t *)v); break;
    case QG_GGUF_INT8: st = qg_gguf_set_i8(w, key, *(const int8_t *)v); break;
    case QG_GGUF_UINT16: st = qg_gguf_set_u16(w, key, *(const uint16_t *)v); break;
    case QG_GGUF_INT16: st = qg_gguf_set_i16(w, key, *(const int16_t *)v); break;
    case QG_GGUF_UINT32: st = qg_gguf_set_u32(w, key, *(const uint32_t *)v); break;
    case QG_GGUF_INT32: st = qg_gguf_set_i32(w, key, *(const int32_t *)v); break;
    case QG_GGUF_FLOAT32: st = qg_gguf_set_f32(w, key, *(const float *)v); break;
    case QG_GGUF_BOOL: st = qg_gguf_set_bool(w, key, *(const uint8_t *)v != 0); break;
    case QG_GGUF_UINT64: st = qg_gguf_set_u64(w, key, *(const uint64_t *)v); break;
    case QG_GGUF_INT64: st = qg_gguf_set_i64(w, key, *(const int64_t *)v); break;
    default: st = qg_gguf_set_f64(w, key, *(const double *)v); break;
    }
    note(st, key, t, jelem(t, v));
}

static void put_arr(qg_gguf_writer *w, const char *key, int t, const void *data, uint64_t n) {
    json_t *items = json_array();
    for (uint64_t j = 0; j < n; j++) json_array_append_new(items, jelem(t, (const uint8_t *)data + j * vsize(t)));
    note(qg_gguf_set_arr(w, key, (qg_gguf_vtype)t, data, n), key, QG_GGUF_ARRAY,
         json_pack("{s:i, s:o}", "elem", t, "items", items));
}

static void put_str(qg_gguf_writer *w, const char *key, const char *v) {
    note(qg_gguf_set_str(w, key, v), key, QG_GGUF_STRING, jhex(v, strlen(v)));
}

static void put_arr_str(qg_gguf_writer *w, const char *key, const char *const *v, uint64_t n) {
    json_t *items = json_array();
    for (uint64_t j = 0; j < n; j++) json_array_append_new(items, jhex(v[j], strlen(v[j])));
    note(qg_gguf_set_arr_str(w, key, v, n), key, QG_GGUF_ARRAY,
         json_pack("{s:i, s:o}", "elem", QG_GGUF_STRING, "items", items));
}

static int cmd_write(const char *path, const char *jpath) {
    static const struct { const char *name; qg_type type; int n_dims; int64_t ne[4]; } ts[] = {
        {"t.f32", QG_TYPE_F32, 2, {5, 3, 1, 1}},       {"t.f16", QG_TYPE_F16, 1, {7, 1, 1, 1}},
        {"t.q4_0", QG_TYPE_Q4_0, 2, {64, 3, 1, 1}},    {"t.q8_0", QG_TYPE_Q8_0, 3, {32, 2, 2, 1}},
        {"t.q4_K", QG_TYPE_Q4_K, 2, {256, 2, 1, 1}},   {"t.bf16", QG_TYPE_BF16, 4, {3, 1, 1, 2}},
        {"t.i32", QG_TYPE_I32, 1, {4, 1, 1, 1}},
    };
    const uint32_t align = 64;
    qg_gguf_writer *w = NULL;
    if (qg_gguf_writer_new(&w) != QG_OK) return 1;
    kvs_out = json_array();

    put_str(w, "general.architecture", "qgtest");
    note(qg_gguf_set_alignment(w, align), "general.alignment", QG_GGUF_UINT32, jdec_u(align));
    const uint8_t u8 = 250, b1 = 1, b0 = 0;
    const int8_t i8 = -128;
    const uint16_t u16 = 65535;
    const int16_t i16 = -12345;
    const uint32_t u32 = 4294967295u;
    const int32_t i32 = -2147483647 - 1;
    const float f32 = -1.0e-3f;
    const uint64_t u64 = 18446744073709551615ull;
    const int64_t i64 = -9223372036854775807ll;
    const double f64 = 2.718281828459045;
    put_scalar(w, "v.u8", QG_GGUF_UINT8, &u8);
    put_scalar(w, "v.i8", QG_GGUF_INT8, &i8);
    put_scalar(w, "v.u16", QG_GGUF_UINT16, &u16);
    put_scalar(w, "v.i16", QG_GGUF_INT16, &i16);
    put_scalar(w, "v.u32", QG_GGUF_UINT32, &u32);
    put_scalar(w, "v.i32", QG_GGUF_INT32, &i32);
    put_scalar(w, "v.f32", QG_GGUF_FLOAT32, &f32);
    put_scalar(w, "v.true", QG_GGUF_BOOL, &b1);
    put_scalar(w, "v.false", QG_GGUF_BOOL, &b0);
    put_scalar(w, "v.u64", QG_GGUF_UINT64, &u64);
    put_scalar(w, "v.i64", QG_GGUF_INT64, &i64);
    put_scalar(w, "v.f64", QG_GGUF_FLOAT64, &f64);
    put_str(w, "v.str", "plain ascii");
    put_str(w, "v.empty", "");
    put_str(w, "v.unicode", "\xce\xbb \xe2\x86\x92 \xf0\x9f\xa6\x99 caf\xc3\xa9");
    const uint8_t a8[] = {0, 1, 254, 255};
    const int16_t a16[] = {-32768, -1, 0, 32767};
    const uint32_t a32[] = {1, 10, 100};
    const float af[] = {0.5f, -2.0f, 1e30f};
    const uint8_t ab[] = {1, 0, 0, 1};
    const int64_t a64[] = {-1, 1ll << 40};
    const double ad[] = {1e-300, -0.0};
    put_arr(w, "a.u8", QG_GGUF_UINT8, a8, 4);
    put_arr(w, "a.i8", QG_GGUF_INT8, a8, 4);
    put_arr(w, "a.u16", QG_GGUF_UINT16, a16, 4);
    put_arr(w, "a.i16", QG_GGUF_INT16, a16, 4);
    put_arr(w, "a.u32", QG_GGUF_UINT32, a32, 3);
    put_arr(w, "a.i32", QG_GGUF_INT32, a32, 3);
    put_arr(w, "a.f32", QG_GGUF_FLOAT32, af, 3);
    put_arr(w, "a.bool", QG_GGUF_BOOL, ab, 4);
    put_arr(w, "a.u64", QG_GGUF_UINT64, a64, 2);
    put_arr(w, "a.i64", QG_GGUF_INT64, a64, 2);
    put_arr(w, "a.f64", QG_GGUF_FLOAT64, ad, 2);
    put_arr(w, "a.empty", QG_GGUF_INT32, NULL, 0);
    static const char *const toks[] = {"<s>", "</s>", "", "\xe2\x96\x81hello", "\xe4\xbd\xa0\xe5\xa5\xbd"};
    put_arr_str(w, "a.str", toks, 5);
    put_str(w, "v.str", "replaced value"); /* a second set replaces the first in place */
    size_t last = json_array_size(kvs_out) - 1;
    for (size_t i = 0; i < last; i++) {
        json_t *e = json_array_get(kvs_out, i);
        if (!strcmp(json_string_value(json_object_get(e, "key")), "v.str")) {
            json_object_set(e, "value", json_object_get(json_array_get(kvs_out, last), "value"));
            json_array_remove(kvs_out, last);
            break;
        }
    }

    json_t *tensors = json_array();
    uint8_t *bufs[sizeof ts / sizeof ts[0]] = {0};
    uint64_t off = 0, rng = 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        uint64_t rows = (uint64_t)(ts[i].ne[1] * ts[i].ne[2] * ts[i].ne[3]);
        uint64_t size = qg_row_size(ts[i].type, ts[i].ne[0]) * rows;
        bufs[i] = malloc(size);
        for (uint64_t j = 0; j < size; j++) {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            bufs[i][j] = (uint8_t)(rng >> 32);
        }
        qg_status st = qg_gguf_add_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne, bufs[i]);
        if (st != QG_OK && wst == QG_OK) wst = st;
        json_t *ne = json_array();
        for (int d = 0; d < ts[i].n_dims; d++) json_array_append_new(ne, jdec_s(ts[i].ne[d]));
        json_array_append_new(tensors, json_pack("{s:s, s:i, s:o, s:o, s:o, s:o}", "name", ts[i].name, "type",
                                                 (int)ts[i].type, "ne", ne, "offset", jdec_u(off), "size",
                                                 jdec_u(size), "hex", jhex(bufs[i], size)));
        off += (size + align - 1) / align * align;
    }
    if (wst == QG_OK) wst = qg_gguf_writer_save(w, path);
    if (wst != QG_OK) fprintf(stderr, "write failed: %s\n", qg_last_error());
    json_t *root = json_pack("{s:i, s:o, s:o}", "alignment", (int)align, "kvs", kvs_out, "tensors", tensors);
    int rc = wst == QG_OK && json_dump_file(root, jpath, JSON_INDENT(1)) == 0 ? 0 : 1;
    json_decref(root);
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) free(bufs[i]);
    qg_gguf_writer_free(w);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "check")) return cmd_check(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "copy")) return cmd_copy(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "write")) return cmd_write(argv[2], argv[3]);
    fprintf(stderr, "usage: %s check FILE JSON | copy SRC DST | write FILE JSON\n", argv[0]);
    return 2;
}
