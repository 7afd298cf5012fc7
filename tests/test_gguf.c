/* GGUF reader and writer: the ggml-written reference files read field by field, a
 * write/read round trip of every value type and several tensor types at alignments 32
 * and 64, the typed getters, copy_kv reproducing a hand-built file byte for byte
 * (nested arrays included), writer argument checks, and atomic saving (no temporary
 * file left behind, nothing created by a failed save).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char tmpdir[64];

static const char *tmp_path(const char *name) {
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

/* Number of directory entries other than . and ..; *tmp_seen set if any has ".tmp." */
static int count_entries(const char *dir, bool *tmp_seen) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    *tmp_seen = false;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strstr(e->d_name, ".tmp.")) *tmp_seen = true;
        n++;
    }
    closedir(d);
    return n;
}

static bool str_eq(qg_gguf_str s, const char *want) {
    return s.data && s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

/* ---- reference files written by ggml ---- */

static void check_ref(const char *type) {
    char rel[64];
    snprintf(rel, sizeof rel, "ref/quant/ref-%s.gguf", type);
    qg_gguf *f = NULL;
    qg_status st = qg_gguf_open(qgt_data_path(rel), &f);
    if (st != QG_OK) fail_msg("%s: %s", rel, qg_last_error());
    assert_int_equal(qg_gguf_version(f), 3);
    assert_int_equal(qg_gguf_alignment(f), 32);
    assert_int_equal(qg_gguf_n_kv(f), 7);
    assert_int_equal(qg_gguf_n_tensors(f), 5);

    qg_gguf_str s;
    assert_int_equal(qg_gguf_get_str(f, "ref.type", &s), QG_OK);
    assert_true(str_eq(s, type));
    uint64_t id;
    assert_int_equal(qg_gguf_get_u64(f, "ref.ggml_type_id", &id), QG_OK);
    assert_string_equal(qg_type_name((qg_type)id), type);
    int64_t ki = qg_gguf_find_key(f, "ref.rmse");
    assert_true(ki >= 0);
    assert_int_equal(qg_gguf_kv_type(f, ki), QG_GGUF_FLOAT32);
    double rmse;
    assert_int_equal(qg_gguf_get_f64(f, "ref.rmse", &rmse), QG_OK);

    static const char *const names[] = {"input", "quant", "dequant", "activation", "matvec"};
    uint64_t expect_off = 0;
    for (int i = 0; i < 5; i++) {
        const qg_gguf_tensor_info *t = qg_gguf_tensor(f, i);
        assert_non_null(t);
        assert_string_equal(t->name, names[i]);
        assert_int_equal(qg_gguf_find_tensor(f, names[i]), i);
        qg_type want = i == 1 ? (qg_type)id : QG_TYPE_F32;
        int64_t ne0 = i == 4 ? 8 : 2048, ne1 = i < 3 ? 8 : 1;
        assert_int_equal(t->type, want);
        assert_int_equal(t->n_dims, i < 3 ? 2 : 1);
        assert_int_equal(t->ne[0], ne0);
        assert_int_equal(t->ne[1], ne1);
        assert_int_equal(t->ne[2], 1);
        assert_int_equal(t->ne[3], 1);
        assert_int_equal(t->size, qg_row_size(want, ne0) * (uint64_t)ne1);
        /* ggml packs tensors in order, each padded to the alignment */
        assert_int_equal(t->offset, expect_off);
        expect_off += (t->size + 31) / 32 * 32;
        assert_non_null(t->data);
        assert_int_equal((const uint8_t *)t->data - (const uint8_t *)qg_gguf_tensor(f, 0)->data,
                         (int64_t)t->offset);
    }
    assert_int_equal(qg_gguf_data_offset(f) + expect_off, qg_gguf_file_size(f));
    /* ref.rmse is rmse(dequant, input): recomputing it from the mapped data checks that
     * the data pointers land on the right bytes. */
    const float *in = qg_gguf_tensor(f, 0)->data, *dq = qg_gguf_tensor(f, 2)->data;
    double got = qgt_rmse(dq, in, 2048 * 8);
    assert_true(fabs(got - rmse) <= 1e-5 * fmax(rmse, 1e-6));
    qg_gguf_close(f);
}

static void test_ref_files(void **state) {
    (void)state;
    static const char *const types[] = {"q4_0", "q4_1", "q5_0", "q8_0", "q2_K", "q4_K", "q6_K",
                                        "f16",  "bf16", "iq4_xs", "tq1_0", "mxfp4", "nvfp4"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) check_ref(types[i]);

    /* Facts read with python gguf.GGUFReader on ref-q4_K.gguf: data_offset 608, file
     * 149120 bytes, tensor offsets 0, 65536, 74752, 140288, 148480, quant 9216 bytes,
     * ref.rmse = 2.6017962 (f32). */
    qg_gguf *f = NULL;
    assert_int_equal(qg_gguf_open(qgt_data_path("ref/quant/ref-q4_K.gguf"), &f), QG_OK);
    assert_int_equal(qg_gguf_data_offset(f), 608);
    assert_int_equal(qg_gguf_file_size(f), 149120);
    static const uint64_t offs[] = {0, 65536, 74752, 140288, 148480};
    for (int i = 0; i < 5; i++) assert_int_equal(qg_gguf_tensor(f, i)->offset, offs[i]);
    assert_int_equal(qg_gguf_tensor(f, 1)->size, 9216);
    double rmse;
    assert_int_equal(qg_gguf_get_f64(f, "ref.rmse", &rmse), QG_OK);
    assert_true((float)rmse == 2.6017962f);
    qg_gguf_close(f);
}

/* ---- writer -> reader round trip ---- */

typedef struct tspec {
    const char *name;
    qg_type type;
    int n_dims;
    int64_t ne[4];
} tspec;

static const tspec tspecs[] = {
    {"w.f32", QG_TYPE_F32, 3, {7, 3, 2, 1}},    {"w.f16", QG_TYPE_F16, 1, {5, 1, 1, 1}},
    {"w.q4_0", QG_TYPE_Q4_0, 2, {96, 5, 1, 1}}, {"w.q8_0", QG_TYPE_Q8_0, 3, {64, 1, 3, 1}},
    {"w.q4_K", QG_TYPE_Q4_K, 4, {256, 3, 1, 2}}, {"w.empty", QG_TYPE_F32, 2, {4, 0, 1, 1}},
};
#define N_TSPECS (sizeof tspecs / sizeof tspecs[0])

static const char *const unicode = "Gr\xc3\xbc\xc3\x9f" "e, \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x99\x82";
static const char *const strs[] = {"a", "", "\xc3\xbcn\xc3\xaf", "a somewhat longer string with spaces"};

static const uint8_t a_u8[] = {1, 2, 255};
static const int8_t a_i8[] = {-128, 0, 127};
static const uint16_t a_u16[] = {0, 65535};
static const int16_t a_i16[] = {-32768, 5, 32767};
static const uint32_t a_u32[] = {0, 1, 4294967295u};
static const int32_t a_i32[] = {INT32_MIN, -1, INT32_MAX};
static const float a_f32[] = {1.5f, -0.0f, 3.4e38f, 1e-40f};
static const uint8_t a_bool[] = {1, 0, 1};
static const uint64_t a_u64[] = {UINT64_MAX, 0};
static const int64_t a_i64[] = {INT64_MIN, INT64_MAX, -7};
static const double a_f64[] = {3.141592653589793, -1e300, 5e-324};

static const struct {
    const char *key;
    qg_gguf_vtype type;
    const void *data;
    uint64_t n;
    size_t esize;
} arrays[] = {
    {"arr.u8", QG_GGUF_UINT8, a_u8, 3, 1},      {"arr.i8", QG_GGUF_INT8, a_i8, 3, 1},
    {"arr.u16", QG_GGUF_UINT16, a_u16, 2, 2},   {"arr.i16", QG_GGUF_INT16, a_i16, 3, 2},
    {"arr.u32", QG_GGUF_UINT32, a_u32, 3, 4},   {"arr.i32", QG_GGUF_INT32, a_i32, 3, 4},
    {"arr.f32", QG_GGUF_FLOAT32, a_f32, 4, 4},  {"arr.bool", QG_GGUF_BOOL, a_bool, 3, 1},
    {"arr.u64", QG_GGUF_UINT64, a_u64, 2, 8},   {"arr.i64", QG_GGUF_INT64, a_i64, 3, 8},
    {"arr.f64", QG_GGUF_FLOAT64, a_f64, 3, 8},  {"arr.empty", QG_GGUF_UINT32, NULL, 0, 4},
};
#define N_ARRAYS (sizeof arrays / sizeof arrays[0])

static uint8_t *tensor_data[N_TSPECS];

static uint64_t tspec_size(const tspec *t) {
    return qg_row_size(t->type, t->ne[0]) * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]);
}

static void write_everything(const char *path, uint32_t alignment) {
    qg_gguf_writer *w = NULL;
    assert_int_equal(qg_gguf_writer_new(&w), QG_OK);
    assert_int_equal(qg_gguf_set_u32(w, "dup", 1), QG_OK); /* replaced below, keeps index 0 */
    assert_int_equal(qg_gguf_set_u8(w, "s.u8", 200), QG_OK);
    assert_int_equal(qg_gguf_set_i8(w, "s.i8", -100), QG_OK);
    assert_int_equal(qg_gguf_set_u16(w, "s.u16", 60000), QG_OK);
    assert_int_equal(qg_gguf_set_i16(w, "s.i16", -30000), QG_OK);
    assert_int_equal(qg_gguf_set_u32(w, "s.u32", 4000000000u), QG_OK);
    assert_int_equal(qg_gguf_set_i32(w, "s.i32", -2000000000), QG_OK);
    assert_int_equal(qg_gguf_set_u64(w, "s.u64", UINT64_MAX), QG_OK);
    assert_int_equal(qg_gguf_set_i64(w, "s.i64", INT64_MIN), QG_OK);
    assert_int_equal(qg_gguf_set_f32(w, "s.f32", 3.25f), QG_OK);
    assert_int_equal(qg_gguf_set_f64(w, "s.f64", -2.5e-300), QG_OK);
    assert_int_equal(qg_gguf_set_bool(w, "s.true", true), QG_OK);
    assert_int_equal(qg_gguf_set_bool(w, "s.false", false), QG_OK);
    assert_int_equal(qg_gguf_set_str(w, "s.str", "hello"), QG_OK);
    assert_int_equal(qg_gguf_set_str(w, "s.empty", ""), QG_OK);
    assert_int_equal(qg_gguf_set_str(w, "s.unicode", unicode), QG_OK);
    for (size_t i = 0; i < N_ARRAYS; i++)
        assert_int_equal(qg_gguf_set_arr(w, arrays[i].key, arrays[i].type, arrays[i].data, arrays[i].n), QG_OK);
    assert_int_equal(qg_gguf_set_arr_str(w, "arr.str", strs, 4), QG_OK);
    assert_int_equal(qg_gguf_set_arr_str(w, "arr.str_empty", NULL, 0), QG_OK);
    assert_int_equal(qg_gguf_set_str(w, "dup", "second"), QG_OK);
    if (alignment != QG_GGUF_DEFAULT_ALIGNMENT) assert_int_equal(qg_gguf_set_alignment(w, alignment), QG_OK);
    for (size_t i = 0; i < N_TSPECS; i++)
        assert_int_equal(qg_gguf_add_tensor(w, tspecs[i].name, tspecs[i].type, tspecs[i].n_dims, tspecs[i].ne,
                                            tensor_data[i]),
                         QG_OK);
    assert_int_equal(qg_gguf_writer_save(w, path), QG_OK);
    qg_gguf_writer_free(w);
}

static void check_everything(const qg_gguf *f, uint32_t alignment) {
    uint64_t u;
    int64_t s;
    double d;
    bool b;
    qg_gguf_str str;
    assert_int_equal(qg_gguf_version(f), 3);
    assert_int_equal(qg_gguf_alignment(f), alignment);
    assert_int_equal(qg_gguf_data_offset(f) % alignment, 0);
    assert_int_equal(qg_gguf_file_size(f) % alignment, 0);
    assert_int_equal(qg_gguf_n_kv(f), 16 + N_ARRAYS + 2 + (alignment != 32));
    assert_int_equal(qg_gguf_find_key(f, "general.alignment") >= 0, alignment != 32);

    assert_string_equal(qg_gguf_key(f, 0), "dup");
    assert_int_equal(qg_gguf_kv_type(f, 0), QG_GGUF_STRING);
    assert_true(str_eq(qg_gguf_kv_str(f, 0), "second"));

    assert_int_equal(qg_gguf_get_u64(f, "s.u8", &u), QG_OK);
    assert_int_equal(u, 200);
    assert_int_equal(qg_gguf_get_i64(f, "s.i8", &s), QG_OK);
    assert_int_equal(s, -100);
    assert_int_equal(qg_gguf_get_u64(f, "s.i8", &u), QG_ERR_FORMAT); /* negative */
    assert_int_equal(qg_gguf_get_u64(f, "s.u16", &u), QG_OK);
    assert_int_equal(u, 60000);
    assert_int_equal(qg_gguf_get_i64(f, "s.i16", &s), QG_OK);
    assert_int_equal(s, -30000);
    assert_int_equal(qg_gguf_get_u64(f, "s.u32", &u), QG_OK);
    assert_int_equal(u, 4000000000u);
    assert_int_equal(qg_gguf_get_i64(f, "s.i32", &s), QG_OK);
    assert_int_equal(s, -2000000000);
    assert_int_equal(qg_gguf_get_u64(f, "s.u64", &u), QG_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(qg_gguf_get_i64(f, "s.u64", &s), QG_ERR_FORMAT); /* does not fit */
    assert_int_equal(qg_gguf_get_i64(f, "s.i64", &s), QG_OK);
    assert_true(s == INT64_MIN);
    assert_int_equal(qg_gguf_get_f64(f, "s.f32", &d), QG_OK);
    assert_true(d == 3.25);
    assert_int_equal(qg_gguf_get_f64(f, "s.f64", &d), QG_OK);
    assert_true(d == -2.5e-300);
    assert_int_equal(qg_gguf_get_f64(f, "s.u8", &d), QG_ERR_FORMAT);
    assert_int_equal(qg_gguf_get_bool(f, "s.true", &b), QG_OK);
    assert_true(b);
    assert_int_equal(qg_gguf_get_bool(f, "s.false", &b), QG_OK);
    assert_false(b);
    assert_int_equal(qg_gguf_get_bool(f, "s.u8", &b), QG_ERR_FORMAT);
    assert_int_equal(qg_gguf_get_str(f, "s.str", &str), QG_OK);
    assert_true(str_eq(str, "hello"));
    assert_int_equal(qg_gguf_get_str(f, "s.empty", &str), QG_OK);
    assert_int_equal(str.len, 0);
    assert_int_equal(qg_gguf_get_str(f, "s.unicode", &str), QG_OK);
    assert_true(str_eq(str, unicode));
    assert_int_equal(qg_gguf_get_str(f, "s.u8", &str), QG_ERR_FORMAT);
    assert_int_equal(qg_gguf_get_u64(f, "no.such.key", &u), QG_ERR_NOT_FOUND);
    assert_non_null(strstr(qg_last_error(), "no.such.key"));
    assert_int_equal(qg_gguf_kv_as_f64(f, qg_gguf_find_key(f, "s.u16"), &d), QG_OK);
    assert_true(d == 60000);
    assert_int_equal(qg_gguf_kv_as_f64(f, qg_gguf_find_key(f, "s.true"), &d), QG_OK);
    assert_true(d == 1);
    assert_int_equal(qg_gguf_kv_as_f64(f, qg_gguf_find_key(f, "s.str"), &d), QG_ERR_FORMAT);
    assert_int_equal(qg_gguf_kv_as_f64(f, 100000, &d), QG_ERR_INVALID_ARG);
    assert_null(qg_gguf_key(f, -1));
    assert_null(qg_gguf_key(f, qg_gguf_n_kv(f)));

    for (size_t i = 0; i < N_ARRAYS; i++) {
        int64_t k = qg_gguf_find_key(f, arrays[i].key);
        assert_true(k >= 0);
        assert_int_equal(qg_gguf_kv_type(f, k), QG_GGUF_ARRAY);
        assert_int_equal(qg_gguf_arr_type(f, k), arrays[i].type);
        assert_int_equal(qg_gguf_arr_n(f, k), arrays[i].n);
        if (arrays[i].n)
            assert_memory_equal(qg_gguf_arr_data(f, k), arrays[i].data, arrays[i].n * arrays[i].esize);
    }
    int64_t k = qg_gguf_find_key(f, "arr.str");
    assert_int_equal(qg_gguf_arr_type(f, k), QG_GGUF_STRING);
    assert_int_equal(qg_gguf_arr_n(f, k), 4);
    assert_null(qg_gguf_arr_data(f, k));
    for (uint64_t j = 0; j < 4; j++) assert_true(str_eq(qg_gguf_arr_str(f, k, j), strs[j]));
    assert_null(qg_gguf_arr_str(f, k, 4).data);
    k = qg_gguf_find_key(f, "arr.str_empty");
    assert_int_equal(qg_gguf_arr_type(f, k), QG_GGUF_STRING);
    assert_int_equal(qg_gguf_arr_n(f, k), 0);

    assert_int_equal(qg_gguf_n_tensors(f), N_TSPECS);
    for (size_t i = 0; i < N_TSPECS; i++) {
        const qg_gguf_tensor_info *t = qg_gguf_tensor(f, (int64_t)i);
        assert_string_equal(t->name, tspecs[i].name);
        assert_int_equal(qg_gguf_find_tensor(f, tspecs[i].name), (int64_t)i);
        assert_int_equal(t->type, tspecs[i].type);
        assert_int_equal(t->n_dims, tspecs[i].n_dims);
        for (int dd = 0; dd < 4; dd++) assert_int_equal(t->ne[dd], tspecs[i].ne[dd]);
        assert_int_equal(t->size, tspec_size(&tspecs[i]));
        assert_int_equal(t->offset % alignment, 0);
        if (t->size) assert_memory_equal(t->data, tensor_data[i], t->size);
        else assert_null(t->data);
    }
    assert_int_equal(qg_gguf_find_tensor(f, "absent"), -1);
    assert_null(qg_gguf_tensor(f, (int64_t)N_TSPECS));
}

static void test_roundtrip(void **state) {
    (void)state;
    qgt_rng r;
    qgt_seed(&r, 7);
    for (size_t i = 0; i < N_TSPECS; i++) {
        uint64_t n = tspec_size(&tspecs[i]);
        tensor_data[i] = malloc(n ? n : 1);
        for (uint64_t j = 0; j < n; j++) tensor_data[i][j] = (uint8_t)qgt_next(&r);
    }
    static const uint32_t aligns[] = {32, 64};
    for (int a = 0; a < 2; a++) {
        const char *path = tmp_path("all.gguf");
        write_everything(path, aligns[a]);
        qg_gguf *f = NULL;
        if (qg_gguf_open(path, &f) != QG_OK) fail_msg("%s", qg_last_error());
        check_everything(f, aligns[a]);
        qg_gguf_close(f);
        unlink(path);
    }
    for (size_t i = 0; i < N_TSPECS; i++) free(tensor_data[i]);
}

/* ---- copy_kv: a hand-built file (nested arrays, string arrays, alignment 64) written
 * back through the writer must come out byte for byte the same ---- */

typedef struct bb {
    uint8_t *p;
    size_t n, cap;
} bb;

static void bb_put(bb *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void bb_u32(bb *b, uint32_t v) { bb_put(b, &v, 4); }
static void bb_u64(bb *b, uint64_t v) { bb_put(b, &v, 8); }
static void bb_str(bb *b, const char *s) {
    bb_u64(b, strlen(s));
    bb_put(b, s, strlen(s));
}
static void bb_pad(bb *b, size_t a) {
    while (b->n % a) bb_put(b, "", 1);
}
static void bb_arr_hdr(bb *b, uint32_t et, uint64_t n) {
    bb_u32(b, et);
    bb_u64(b, n);
}

static bb build_nested_file(void) {
    bb b = {0};
    bb_put(&b, "GGUF", 4);
    bb_u32(&b, 3);
    bb_u64(&b, 2); /* tensors */
    bb_u64(&b, 5); /* kvs */
    bb_str(&b, "general.architecture");
    bb_u32(&b, QG_GGUF_STRING);
    bb_str(&b, "test");
    bb_str(&b, "nest.u16"); /* [[1, 2], [3], []] */
    bb_u32(&b, QG_GGUF_ARRAY);
    bb_arr_hdr(&b, QG_GGUF_ARRAY, 3);
    bb_arr_hdr(&b, QG_GGUF_UINT16, 2);
    bb_put(&b, "\x01\x00\x02\x00", 4);
    bb_arr_hdr(&b, QG_GGUF_UINT16, 1);
    bb_put(&b, "\x03\x00", 2);
    bb_arr_hdr(&b, QG_GGUF_UINT16, 0);
    bb_str(&b, "nest.str"); /* [[["a", "bc"]], []] */
    bb_u32(&b, QG_GGUF_ARRAY);
    bb_arr_hdr(&b, QG_GGUF_ARRAY, 2);
    bb_arr_hdr(&b, QG_GGUF_ARRAY, 1);
    bb_arr_hdr(&b, QG_GGUF_STRING, 2);
    bb_str(&b, "a");
    bb_str(&b, "bc");
    bb_arr_hdr(&b, QG_GGUF_ARRAY, 0);
    bb_str(&b, "toks");
    bb_u32(&b, QG_GGUF_ARRAY);
    bb_arr_hdr(&b, QG_GGUF_STRING, 3);
    bb_str(&b, "<s>");
    bb_str(&b, "");
    bb_str(&b, "\xe2\x96\x81the");
    bb_str(&b, "general.alignment");
    bb_u32(&b, QG_GGUF_UINT32);
    bb_u32(&b, 64);
    bb_str(&b, "a"); /* f32 [3] at 0 */
    bb_u32(&b, 1);
    bb_u64(&b, 3);
    bb_u32(&b, QG_TYPE_F32);
    bb_u64(&b, 0);
    bb_str(&b, "b"); /* q8_0 [32, 2] at 64 */
    bb_u32(&b, 2);
    bb_u64(&b, 32);
    bb_u64(&b, 2);
    bb_u32(&b, QG_TYPE_Q8_0);
    bb_u64(&b, 64);
    bb_pad(&b, 64);
    const float a[3] = {1, -2, 0.5f};
    bb_put(&b, a, sizeof a);
    bb_pad(&b, 64);
    for (int i = 0; i < 68; i++) bb_put(&b, &(uint8_t){(uint8_t)(i * 13 + 1)}, 1);
    bb_pad(&b, 64);
    return b;
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)sz + 1);
    assert_int_equal(fread(p, 1, (size_t)sz, fp), (size_t)sz);
    fclose(fp);
    *n = (size_t)sz;
    return p;
}

static void test_copy_kv(void **state) {
    (void)state;
    bb img = build_nested_file();
    qg_gguf *src = NULL;
    if (qg_gguf_open_memory(img.p, img.n, "nested", &src) != QG_OK) fail_msg("%s", qg_last_error());
    int64_t k = qg_gguf_find_key(src, "nest.u16");
    assert_int_equal(qg_gguf_arr_type(src, k), QG_GGUF_ARRAY);
    assert_int_equal(qg_gguf_arr_n(src, k), 3);
    assert_null(qg_gguf_arr_data(src, k));
    assert_int_equal(qg_gguf_alignment(src), 64);
    assert_int_equal(qg_gguf_version(src), 3);
    img.p[4] = 2; /* version 2 has the same layout and is accepted */
    qg_gguf *v2 = NULL;
    assert_int_equal(qg_gguf_open_memory(img.p, img.n, "v2", &v2), QG_OK);
    assert_int_equal(qg_gguf_version(v2), 2);
    assert_int_equal(qg_gguf_n_kv(v2), 5);
    qg_gguf_close(v2);
    img.p[4] = 3;

    qg_gguf_writer *w = NULL;
    assert_int_equal(qg_gguf_writer_new(&w), QG_OK);
    assert_int_equal(qg_gguf_copy_kv(w, src), QG_OK);
    for (int64_t i = 0; i < qg_gguf_n_tensors(src); i++) {
        const qg_gguf_tensor_info *t = qg_gguf_tensor(src, i);
        assert_int_equal(qg_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data), QG_OK);
    }
    const char *path = tmp_path("copy.gguf");
    assert_int_equal(qg_gguf_writer_save(w, path), QG_OK);
    size_t n;
    uint8_t *got = slurp(path, &n);
    assert_int_equal(n, img.n);
    assert_memory_equal(got, img.p, n);
    free(got);

    /* copying twice replaces rather than duplicates; a later set overrides */
    assert_int_equal(qg_gguf_copy_kv(w, src), QG_OK);
    assert_int_equal(qg_gguf_set_str(w, "general.architecture", "other"), QG_OK);
    assert_int_equal(qg_gguf_writer_save(w, path), QG_OK);
    qg_gguf *f = NULL;
    assert_int_equal(qg_gguf_open(path, &f), QG_OK);
    assert_int_equal(qg_gguf_n_kv(f), 5);
    qg_gguf_str s;
    assert_int_equal(qg_gguf_get_str(f, "general.architecture", &s), QG_OK);
    assert_true(str_eq(s, "other"));
    k = qg_gguf_find_key(f, "toks");
    assert_true(str_eq(qg_gguf_arr_str(f, k, 2), "\xe2\x96\x81the"));
    qg_gguf_close(f);
    qg_gguf_writer_free(w);
    qg_gguf_close(src);
    unlink(path);
    free(img.p);
}

/* ---- atomic saving ---- */

static qg_gguf_writer *small_writer(const float *data) {
    qg_gguf_writer *w = NULL;
    assert_int_equal(qg_gguf_writer_new(&w), QG_OK);
    assert_int_equal(qg_gguf_set_str(w, "general.name", "small"), QG_OK);
    const int64_t ne[1] = {4};
    assert_int_equal(qg_gguf_add_tensor(w, "x", QG_TYPE_F32, 1, ne, data), QG_OK);
    return w;
}

static void test_atomic_save(void **state) {
    (void)state;
    const float data[4] = {1, 2, 3, 4};
    char dir[128];
    snprintf(dir, sizeof dir, "%s/atomic", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    char path[192], sub[192], adir[192];
    snprintf(path, sizeof path, "%s/out.gguf", dir);
    snprintf(sub, sizeof sub, "%s/missing/out.gguf", dir);
    snprintf(adir, sizeof adir, "%s/adir", dir);
    bool tmp_seen;

    qg_gguf_writer *w = small_writer(data);
    assert_int_equal(qg_gguf_writer_save(w, path), QG_OK);
    assert_int_equal(count_entries(dir, &tmp_seen), 1);
    assert_false(tmp_seen);
    assert_int_equal(qg_gguf_writer_save(w, path), QG_OK); /* replaces in place */
    assert_int_equal(count_entries(dir, &tmp_seen), 1);
    qg_gguf *f = NULL;
    assert_int_equal(qg_gguf_open(path, &f), QG_OK);
    assert_memory_equal(qg_gguf_tensor(f, 0)->data, data, sizeof data);
    qg_gguf_close(f);

    /* directory does not exist: I/O error, nothing created */
    assert_int_equal(qg_gguf_writer_save(w, sub), QG_ERR_IO);
    printf("missing dir: %s\n", qg_last_error());
    assert_int_equal(count_entries(dir, &tmp_seen), 1);
    /* the target is a directory: the rename fails after the data was written, and the
     * temporary file must be gone */
    assert_int_equal(mkdir(adir, 0755), 0);
    assert_int_equal(qg_gguf_writer_save(w, adir), QG_ERR_IO);
    printf("target is a dir: %s\n", qg_last_error());
    assert_int_equal(count_entries(dir, &tmp_seen), 2);
    assert_false(tmp_seen);
    assert_int_equal(count_entries(adir, &tmp_seen), 0);
    /* unwritable directory (root bypasses permissions, so only checked as non-root) */
    if (geteuid() != 0) {
        char ro[192], rop[256];
        snprintf(ro, sizeof ro, "%s/ro", dir);
        snprintf(rop, sizeof rop, "%s/out.gguf", ro);
        assert_int_equal(mkdir(ro, 0555), 0);
        assert_int_equal(qg_gguf_writer_save(w, rop), QG_ERR_IO);
        assert_int_equal(count_entries(ro, &tmp_seen), 0);
        rmdir(ro);
    } else {
        printf("running as root: unwritable-directory case not checkable, skipped\n");
    }
    /* invalid alignment set as a raw kv: rejected before any file is created */
    assert_int_equal(qg_gguf_set_u32(w, "general.alignment", 48), QG_OK);
    unlink(path);
    assert_int_equal(qg_gguf_writer_save(w, path), QG_ERR_INVALID_ARG);
    assert_int_equal(count_entries(dir, &tmp_seen), 1); /* only adir */
    qg_gguf_writer_free(w);
    rmdir(adir);
    rmdir(dir);
}

static void test_writer_rejects(void **state) {
    (void)state;
    qg_gguf_writer *w = NULL;
    uint8_t buf[1024] = {0};
    assert_int_equal(qg_gguf_writer_new(&w), QG_OK);
    const int64_t ne_ok[2] = {32, 2}, ne_33[1] = {33}, ne_neg[2] = {32, -1};
    const int64_t ne_big[4] = {INT64_MAX / 2 + 1, 4, 1, 1};
    assert_int_equal(qg_gguf_add_tensor(w, "t", (qg_type)4, 2, ne_ok, buf), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_add_tensor(w, "t", (qg_type)31, 2, ne_ok, buf), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_add_tensor(w, "t", QG_TYPE_Q4_0, 0, ne_ok, buf), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_add_tensor(w, "t", QG_TYPE_Q4_0, 5, ne_ok, buf), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_add_tensor(w, "t", QG_TYPE_Q4_0, 1, ne_33, buf), QG_ERR_INVALID_ARG);
    assert_non_null(strstr(qg_last_error(), "block size"));
    assert_int_equal(qg_gguf_add_tensor(w, "t", QG_TYPE_F32, 2, ne_neg, buf), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_add_tensor(w, "t", QG_TYPE_F32, 4, ne_big, buf), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_add_tensor(w, "t", QG_TYPE_F32, 2, ne_ok, NULL), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_add_tensor(w, "", QG_TYPE_F32, 2, ne_ok, buf), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_add_tensor(w, "t", QG_TYPE_F32, 2, ne_ok, buf), QG_OK);
    assert_int_equal(qg_gguf_add_tensor(w, "t", QG_TYPE_F32, 2, ne_ok, buf), QG_ERR_INVALID_ARG);
    assert_non_null(strstr(qg_last_error(), "duplicate"));
    assert_int_equal(qg_gguf_set_arr(w, "k", QG_GGUF_STRING, buf, 1), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_set_arr(w, "k", QG_GGUF_ARRAY, buf, 1), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_set_arr(w, "k", (qg_gguf_vtype)13, buf, 1), QG_ERR_INVALID_ARG);
    const uint8_t bad_bool[2] = {1, 2};
    assert_int_equal(qg_gguf_set_arr(w, "k", QG_GGUF_BOOL, bad_bool, 2), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_set_alignment(w, 0), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_set_alignment(w, 96), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_set_u8(w, "", 1), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_set_u8(w, NULL, 1), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_gguf_set_str(w, "k", NULL), QG_ERR_INVALID_ARG);
    const char *with_null[2] = {"a", NULL};
    assert_int_equal(qg_gguf_set_arr_str(w, "k", with_null, 2), QG_ERR_INVALID_ARG);
    qg_gguf_writer_free(w);

    qg_gguf *f = (qg_gguf *)1;
    assert_int_equal(qg_gguf_open(tmp_path("does-not-exist.gguf"), &f), QG_ERR_IO);
    assert_null(f);
    assert_non_null(strstr(qg_last_error(), "does-not-exist.gguf"));
    f = (qg_gguf *)1;
    assert_int_equal(qg_gguf_open(tmpdir, &f), QG_ERR_IO); /* a directory */
    assert_null(f);
}

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/qg_test_gguf_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    return rmdir(tmpdir); /* fails (and so does the run) if a test left files behind */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref_files),   cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_copy_kv),     cmocka_unit_test(test_atomic_save),
        cmocka_unit_test(test_writer_rejects),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
