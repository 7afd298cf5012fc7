/* safetensors reader/writer round trips: every dtype, a scalar, a zero-size tensor and
 * metadata written by our writer and read back byte for byte (from a file and from
 * memory); header padding; sharded checkpoints through an index and through a directory;
 * path traversal and inconsistent indexes rejected; writer argument checks and atomic
 * save. Independent checks against the official python package live in
 * tests/python/st_crosscheck.py. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "qg/safetensors.h"

static char g_dir[256];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/qg_st_test_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static const char *path_in(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return p;
}

/* The set of tensors used by the round trip: one per dtype plus a scalar and an empty one. */
#define N_RT 14
typedef struct rt_tensor {
    const char *name;
    qg_st_dtype dt;
    int n_dims;
    int64_t shape[3];
    unsigned char *data;
    size_t size;
} rt_tensor;

static void make_set(rt_tensor *t, qgt_rng *r) {
    static const char *names[12] = {"f64", "f32", "f16", "bf16", "i64", "i32", "i16", "i8", "u8", "bool", "f8_e4m3", "f8_e5m2"};
    for (int i = 0; i < 12; i++) {
        t[i] = (rt_tensor){names[i], (qg_st_dtype)i, 2, {3, 5 + i, 0}, NULL, 0};
    }
    t[1].n_dims = 3; t[1].shape[2] = 2;
    t[12] = (rt_tensor){"layers.0.scalar \"quoted\"", QG_ST_F32, 0, {0}, NULL, 0};
    t[13] = (rt_tensor){"empty", QG_ST_BF16, 2, {0, 7, 0}, NULL, 0};
    for (int i = 0; i < N_RT; i++) {
        size_t nel = 1;
        for (int d = 0; d < t[i].n_dims; d++) nel *= (size_t)t[i].shape[d];
        t[i].size = nel * qg_st_dtype_size(t[i].dt);
        t[i].data = malloc(t[i].size ? t[i].size : 1);
        assert_non_null(t[i].data);
        for (size_t j = 0; j < t[i].size; j++) t[i].data[j] = (unsigned char)qgt_next(r);
        if (t[i].dt == QG_ST_BOOL)
            for (size_t j = 0; j < t[i].size; j++) t[i].data[j] &= 1;
    }
}

static void free_set(rt_tensor *t) {
    for (int i = 0; i < N_RT; i++) free(t[i].data);
}

static void check_set(const qg_st *st, const rt_tensor *t, const char *file) {
    assert_int_equal(qg_st_n_tensors(st), N_RT);
    for (int i = 0; i < N_RT; i++) {
        int64_t k = qg_st_find(st, t[i].name);
        assert_true(k >= 0);
        const qg_st_tensor_info *ti = qg_st_tensor(st, k);
        assert_non_null(ti);
        assert_string_equal(ti->name, t[i].name);
        assert_int_equal(ti->dtype, t[i].dt);
        assert_int_equal(ti->n_dims, t[i].n_dims);
        for (int d = 0; d < t[i].n_dims; d++) assert_int_equal(ti->shape[d], t[i].shape[d]);
        assert_int_equal(ti->size, t[i].size);
        if (t[i].size) assert_memory_equal(ti->data, t[i].data, t[i].size);
        else assert_null(ti->data);
        if (file) assert_string_equal(ti->file, file);
    }
    assert_int_equal(qg_st_find(st, "absent"), -1);
    assert_null(qg_st_tensor(st, N_RT));
    assert_null(qg_st_tensor(st, -1));
}

static void write_set(const rt_tensor *t, int from, int to, const char *path, int with_meta) {
    qg_st_writer *w = NULL;
    assert_int_equal(qg_st_writer_new(&w), QG_OK);
    if (with_meta) {
        assert_int_equal(qg_st_writer_meta(w, "format", "pt"), QG_OK);
        assert_int_equal(qg_st_writer_meta(w, "odd \"key\"", "line\nbreak\ttab \\ caf\xc3\xa9"), QG_OK);
    }
    for (int i = from; i < to; i++)
        assert_int_equal(qg_st_writer_add(w, t[i].name, t[i].dt, t[i].n_dims, t[i].shape, t[i].data), QG_OK);
    assert_int_equal(qg_st_writer_save(w, path), QG_OK);
    qg_st_writer_free(w);
}

static void check_meta(const qg_st *st) {
    assert_int_equal(qg_st_n_meta(st), 2);
    int seen = 0;
    for (int64_t i = 0; i < qg_st_n_meta(st); i++) {
        const char *k = qg_st_meta_key(st, i), *v = qg_st_meta_value(st, i);
        if (strcmp(k, "format") == 0) { assert_string_equal(v, "pt"); seen |= 1; }
        if (strcmp(k, "odd \"key\"") == 0) { assert_string_equal(v, "line\nbreak\ttab \\ caf\xc3\xa9"); seen |= 2; }
    }
    assert_int_equal(seen, 3);
    assert_null(qg_st_meta_key(st, 2));
}

static void test_roundtrip(void **state) {
    (void)state;
    qgt_rng r;
    qgt_seed(&r, 7);
    rt_tensor t[N_RT];
    make_set(t, &r);
    const char *p = path_in("rt.safetensors");
    write_set(t, 0, N_RT, p, 1);

    qg_st *st = NULL;
    qg_status s = qg_st_open(p, &st);
    if (s != QG_OK) print_message("%s\n", qg_last_error());
    assert_int_equal(s, QG_OK);
    check_set(st, t, p);
    check_meta(st);
    qg_st_close(st);

    /* The header is padded so data starts at a multiple of 8; the data section is the
     * tensors back to back in insertion order. */
    size_t size;
    unsigned char *img = read_all(p, &size);
    uint64_t n;
    memcpy(&n, img, 8);
    assert_int_equal((8 + n) % 8, 0);
    size_t total = 0;
    for (int i = 0; i < N_RT; i++) total += t[i].size;
    assert_int_equal(size, 8 + n + total);
    assert_memory_equal(img + 8 + n, t[0].data, t[0].size);

    assert_int_equal(qg_st_open_memory(img, size, "mem", &st), QG_OK);
    check_set(st, t, "mem");
    check_meta(st);
    /* Tensors come in data order: the first written is first. */
    assert_string_equal(qg_st_tensor(st, 0)->name, t[0].name);
    qg_st_close(st);
    free(img);
    free_set(t);
}

static void test_dtype_table(void **state) {
    (void)state;
    static const struct { qg_st_dtype d; size_t size; int type; } rows[] = {
        {QG_ST_F64, 8, QG_TYPE_F64}, {QG_ST_F32, 4, QG_TYPE_F32}, {QG_ST_F16, 2, QG_TYPE_F16},
        {QG_ST_BF16, 2, QG_TYPE_BF16}, {QG_ST_I64, 8, QG_TYPE_I64}, {QG_ST_I32, 4, QG_TYPE_I32},
        {QG_ST_I16, 2, QG_TYPE_I16}, {QG_ST_I8, 1, QG_TYPE_I8}, {QG_ST_U8, 1, -1}, {QG_ST_BOOL, 1, -1},
        {QG_ST_F8_E4M3, 1, QG_TYPE_F8_E4M3}, {QG_ST_F8_E5M2, 1, QG_TYPE_F8_E5M2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(qg_st_dtype_size(rows[i].d), rows[i].size);
        assert_int_equal(qg_st_dtype_to_type(rows[i].d), rows[i].type);
    }
    assert_int_equal(qg_st_dtype_size((qg_st_dtype)99), 0);
    assert_true(qg_st_dtype_to_type((qg_st_dtype)99) < 0);
}

static void write_shards(rt_tensor *t, const char *sub) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", g_dir, sub);
    assert_int_equal(mkdir(dir, 0755), 0);
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s/model-00001-of-00002.safetensors", dir);
    snprintf(p2, sizeof p2, "%s/model-00002-of-00002.safetensors", dir);
    write_set(t, 0, 6, p1, 1);
    write_set(t, 6, N_RT, p2, 0);
}

/* weight_map JSON for the set, with shard names given per tensor. */
static void write_index(const char *path, const rt_tensor *t, const char *const *shard_of) {
    char buf[8192];
    size_t k = (size_t)snprintf(buf, sizeof buf, "{\"metadata\": {\"total_size\": 123}, \"weight_map\": {");
    for (int i = 0; i < N_RT; i++) {
        char name[128];
        size_t m = 0;
        for (const char *c = t[i].name; *c; c++) { /* JSON-escape quotes in the test names */
            if (*c == '"') name[m++] = '\\';
            name[m++] = *c;
        }
        name[m] = '\0';
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s\"%s\": \"%s\"", i ? ", " : "", name, shard_of[i]);
    }
    snprintf(buf + k, sizeof buf - k, "}}\n");
    write_text(path, buf);
}

static void test_sharded(void **state) {
    (void)state;
    qgt_rng r;
    qgt_seed(&r, 11);
    rt_tensor t[N_RT];
    make_set(t, &r);
    write_shards(t, "sharded");
    const char *shard[N_RT];
    for (int i = 0; i < N_RT; i++) shard[i] = i < 6 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    write_index(path_in("sharded/model.safetensors.index.json"), t, shard);

    qg_st *st = NULL;
    qg_status s = qg_st_open(path_in("sharded/model.safetensors.index.json"), &st);
    if (s != QG_OK) print_message("%s\n", qg_last_error());
    assert_int_equal(s, QG_OK);
    check_set(st, t, NULL);
    check_meta(st); /* from shard 1 */
    assert_non_null(strstr(qg_st_tensor(st, qg_st_find(st, "f64"))->file, "model-00001-of-00002"));
    assert_non_null(strstr(qg_st_tensor(st, qg_st_find(st, "empty"))->file, "model-00002-of-00002"));
    qg_st_close(st);

    /* The directory opens through its index. */
    assert_int_equal(qg_st_open(path_in("sharded"), &st), QG_OK);
    check_set(st, t, NULL);
    qg_st_close(st);

    /* A tensor listed under the wrong shard. */
    shard[0] = "model-00002-of-00002.safetensors";
    write_index(path_in("sharded/wrong.json"), t, shard);
    st = (qg_st *)1;
    assert_int_equal(qg_st_open(path_in("sharded/wrong.json"), &st), QG_ERR_FORMAT);
    assert_null(st);
    print_message("wrong shard: %s\n", qg_last_error());
    assert_non_null(strstr(qg_last_error(), "f64"));

    /* Path traversal and subdirectories in shard names. */
    static const char *bad[] = {"../model-00001-of-00002.safetensors", "/etc/passwd", "sub/x.safetensors", "..", ""};
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        shard[0] = bad[b];
        write_index(path_in("sharded/bad.json"), t, shard);
        st = (qg_st *)1;
        assert_int_equal(qg_st_open(path_in("sharded/bad.json"), &st), QG_ERR_FORMAT);
        assert_null(st);
        print_message("shard '%s': %s\n", bad[b], qg_last_error());
        assert_non_null(strstr(qg_last_error(), "f64"));
    }

    /* A shard tensor missing from weight_map. */
    write_text(path_in("sharded/partial.json"),
               "{\"weight_map\": {\"f64\": \"model-00001-of-00002.safetensors\"}}");
    assert_int_equal(qg_st_open(path_in("sharded/partial.json"), &st), QG_ERR_FORMAT);
    print_message("partial: %s\n", qg_last_error());
    /* A missing shard file. */
    write_text(path_in("sharded/missing.json"), "{\"weight_map\": {\"f64\": \"nope.safetensors\"}}");
    assert_int_equal(qg_st_open(path_in("sharded/missing.json"), &st), QG_ERR_IO);
    assert_null(st);
    /* Index without weight_map, and not JSON. */
    write_text(path_in("sharded/nomap.json"), "{\"metadata\": {}}");
    assert_int_equal(qg_st_open(path_in("sharded/nomap.json"), &st), QG_ERR_FORMAT);
    write_text(path_in("sharded/notjson.json"), "{\"weight_map\": ");
    assert_int_equal(qg_st_open(path_in("sharded/notjson.json"), &st), QG_ERR_FORMAT);
    free_set(t);
}

static void test_directories(void **state) {
    (void)state;
    qgt_rng r;
    qgt_seed(&r, 3);
    rt_tensor t[N_RT];
    make_set(t, &r);
    qg_st *st = (qg_st *)1;
    assert_int_equal(mkdir(path_in("one"), 0755), 0);
    assert_int_equal(qg_st_open(path_in("one"), &st), QG_ERR_NOT_FOUND);
    assert_null(st);
    write_set(t, 0, N_RT, path_in("one/model.safetensors"), 1);
    assert_int_equal(qg_st_open(path_in("one"), &st), QG_OK);
    check_set(st, t, NULL);
    qg_st_close(st);
    write_set(t, 0, 2, path_in("one/other.safetensors"), 0);
    assert_int_equal(qg_st_open(path_in("one"), &st), QG_ERR_FORMAT);
    print_message("two files: %s\n", qg_last_error());
    assert_null(st);
    assert_int_equal(qg_st_open(path_in("does-not-exist.safetensors"), &st), QG_ERR_IO);
    assert_int_equal(qg_st_open(NULL, &st), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_open(path_in("one/model.safetensors"), NULL), QG_ERR_INVALID_ARG);
    free_set(t);
}

static void test_writer_errors(void **state) {
    (void)state;
    qg_st_writer *w = NULL;
    assert_int_equal(qg_st_writer_new(&w), QG_OK);
    float x[4] = {1, 2, 3, 4};
    int64_t shape[9] = {4, 1, 1, 1, 1, 1, 1, 1, 1};
    int64_t neg[1] = {-1};
    int64_t huge[2] = {INT64_MAX, 4};
    assert_int_equal(qg_st_writer_add(w, "a", QG_ST_F32, 1, shape, x), QG_OK);
    assert_int_equal(qg_st_writer_add(w, "a", QG_ST_F32, 1, shape, x), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_add(w, "__metadata__", QG_ST_F32, 1, shape, x), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_add(w, "", QG_ST_F32, 1, shape, x), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_add(w, "bad\xff", QG_ST_F32, 1, shape, x), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_add(w, "b", QG_ST_F32, 9, shape, x), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_add(w, "b", QG_ST_F32, 1, neg, x), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_add(w, "b", QG_ST_F32, 2, huge, x), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_add(w, "b", (qg_st_dtype)42, 1, shape, x), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_add(w, "b", QG_ST_F32, 1, shape, NULL), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_meta(w, "k", "v"), QG_OK);
    assert_int_equal(qg_st_writer_meta(w, "k", "w"), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_st_writer_meta(w, "k2", "\xc0\x80"), QG_ERR_INVALID_ARG); /* overlong NUL */
    print_message("last writer error: %s\n", qg_last_error());

    /* Saving into a missing directory fails and leaves nothing behind. */
    assert_int_equal(qg_st_writer_save(w, path_in("no/such/dir/x.safetensors")), QG_ERR_IO);
    /* Saving over an existing file replaces it atomically; no temporary file remains. */
    write_text(path_in("over.safetensors"), "old contents");
    assert_int_equal(qg_st_writer_save(w, path_in("over.safetensors")), QG_OK);
    qg_st_writer_free(w);
    qg_st *st = NULL;
    assert_int_equal(qg_st_open(path_in("over.safetensors"), &st), QG_OK);
    assert_int_equal(qg_st_n_tensors(st), 1);
    assert_memory_equal(qg_st_tensor(st, 0)->data, x, sizeof x);
    qg_st_close(st);
    DIR *d = opendir(g_dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) assert_null(strstr(de->d_name, ".tmp."));
    closedir(d);

    /* An empty writer saves a valid file with no tensors. */
    assert_int_equal(qg_st_writer_new(&w), QG_OK);
    assert_int_equal(qg_st_writer_save(w, path_in("empty.safetensors")), QG_OK);
    qg_st_writer_free(w);
    assert_int_equal(qg_st_open(path_in("empty.safetensors"), &st), QG_OK);
    assert_int_equal(qg_st_n_tensors(st), 0);
    assert_int_equal(qg_st_n_meta(st), 0);
    qg_st_close(st);
}

int main(void) {
    static const char tiny[16] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    qg_st *probe = NULL;
    if (qg_st_open_memory(tiny, sizeof tiny, "probe", &probe) == QG_ERR_UNSUPPORTED)
        return qgt_skip("%s", qg_last_error());
    qg_st_close(probe);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_dtype_table),
        cmocka_unit_test(test_sharded),
        cmocka_unit_test(test_directories),
        cmocka_unit_test(test_writer_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
