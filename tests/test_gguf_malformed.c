/* Malformed GGUF inputs: builds a small valid image by hand (recording where each field
 * lies), checks that it opens, then derives broken variants (truncation at every byte,
 * patched fields, nesting too deep) and feeds each to qg_gguf_open_memory (from an
 * exactly sized heap copy, so sanitizers see any overread) and, via a temp file, to
 * qg_gguf_open. Each must fail with QG_ERR_FORMAT, a NULL handle and a message; patched
 * cases must also mention the field that was broken. Finally, random byte changes must
 * either be rejected the same way or open into a handle whose every byte is readable.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

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
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void bb_u8(bb *b, uint8_t v) { bb_put(b, &v, 1); }
static void bb_u16(bb *b, uint16_t v) { bb_put(b, &v, 2); }
static void bb_u32(bb *b, uint32_t v) { bb_put(b, &v, 4); }
static void bb_u64(bb *b, uint64_t v) { bb_put(b, &v, 8); }
static void bb_str(bb *b, const char *s) {
    bb_u64(b, strlen(s));
    bb_put(b, s, strlen(s));
}

/* Offsets of the fields the variants patch. */
enum {
    F_MAGIC, F_VERSION, F_NT, F_NKV, F_K0_LEN, F_K0_NAME, F_ALIGN_TYPE, F_ALIGN_VAL, F_STR_TYPE,
    F_STR_LEN, F_BOOL_VAL, F_ARR_ETYPE, F_ARR_N, F_SARR_N, F_SARR_LEN0, F_NEST_N, F_NEST_INNER_TYPE,
    F_BARR_VAL1, F_KBB_NAME, F_T0_NAME_LEN, F_T0_NDIMS, F_T0_NE0, F_T0_TYPE, F_T1_NAME, F_T1_NE0,
    F_T1_OFFSET, F_T2_NE0, F_T2_TYPE, F_T2_OFFSET, F_COUNT
};
static size_t off[F_COUNT];
static size_t n_kv_base, n_tensors_base;

static void key(bb *b, const char *k, uint32_t type) {
    bb_str(b, k);
    bb_u32(b, type);
}

static void tensor(bb *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                   uint64_t offset, int which) {
    if (which == 0) off[F_T0_NAME_LEN] = b->n;
    bb_str(b, name);
    if (which == 1) off[F_T1_NAME] = b->n - strlen(name);
    if (which == 0) off[F_T0_NDIMS] = b->n;
    bb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) {
        if (which == 0 && d == 0) off[F_T0_NE0] = b->n;
        if (which == 1 && d == 0) off[F_T1_NE0] = b->n;
        if (which == 2 && d == 0) off[F_T2_NE0] = b->n;
        bb_u64(b, ne[d]);
    }
    if (which == 0) off[F_T0_TYPE] = b->n;
    if (which == 2) off[F_T2_TYPE] = b->n;
    bb_u32(b, type);
    if (which == 1) off[F_T1_OFFSET] = b->n;
    if (which == 2) off[F_T2_OFFSET] = b->n;
    bb_u64(b, offset);
}

/* The valid base image: 9 kvs, tensors f32 [8,2] @0, q4_0 [64,1] @64, q8_0 [32] @128,
 * alignment 32, the last tensor ending exactly at the end of the file. */
static bb build_base(void) {
    bb b = {0};
    off[F_MAGIC] = b.n;
    bb_put(&b, "GGUF", 4);
    off[F_VERSION] = b.n;
    bb_u32(&b, 3);
    off[F_NT] = b.n;
    bb_u64(&b, n_tensors_base = 3);
    off[F_NKV] = b.n;
    bb_u64(&b, n_kv_base = 9);
    off[F_K0_LEN] = b.n;
    off[F_K0_NAME] = b.n + 8;
    bb_str(&b, "general.alignment");
    off[F_ALIGN_TYPE] = b.n;
    bb_u32(&b, QG_GGUF_UINT32);
    off[F_ALIGN_VAL] = b.n;
    bb_u32(&b, 32);
    bb_str(&b, "a.str");
    off[F_STR_TYPE] = b.n;
    bb_u32(&b, QG_GGUF_STRING);
    off[F_STR_LEN] = b.n;
    bb_str(&b, "hello");
    key(&b, "a.bool", QG_GGUF_BOOL);
    off[F_BOOL_VAL] = b.n;
    bb_u8(&b, 1);
    key(&b, "a.arr16", QG_GGUF_ARRAY);
    off[F_ARR_ETYPE] = b.n;
    bb_u32(&b, QG_GGUF_UINT16);
    off[F_ARR_N] = b.n;
    bb_u64(&b, 3);
    for (uint16_t v = 1; v <= 3; v++) bb_u16(&b, v);
    key(&b, "a.sarr", QG_GGUF_ARRAY);
    bb_u32(&b, QG_GGUF_STRING);
    off[F_SARR_N] = b.n;
    bb_u64(&b, 2);
    off[F_SARR_LEN0] = b.n;
    bb_str(&b, "x");
    bb_str(&b, "yz");
    key(&b, "a.nest", QG_GGUF_ARRAY); /* [[1, 2], [3]] as u8 */
    bb_u32(&b, QG_GGUF_ARRAY);
    off[F_NEST_N] = b.n;
    bb_u64(&b, 2);
    off[F_NEST_INNER_TYPE] = b.n;
    bb_u32(&b, QG_GGUF_UINT8);
    bb_u64(&b, 2);
    bb_u8(&b, 1);
    bb_u8(&b, 2);
    bb_u32(&b, QG_GGUF_UINT8);
    bb_u64(&b, 1);
    bb_u8(&b, 3);
    key(&b, "a.barr", QG_GGUF_ARRAY);
    bb_u32(&b, QG_GGUF_BOOL);
    bb_u64(&b, 2);
    bb_u8(&b, 0);
    off[F_BARR_VAL1] = b.n;
    bb_u8(&b, 1);
    key(&b, "k.aa", QG_GGUF_UINT8);
    bb_u8(&b, 7);
    off[F_KBB_NAME] = b.n + 8;
    key(&b, "k.bb", QG_GGUF_UINT8);
    bb_u8(&b, 9);
    const uint64_t ne0[] = {8, 2}, ne1[] = {64, 1}, ne2[] = {32};
    tensor(&b, "t_a", 2, ne0, QG_TYPE_F32, 0, 0);
    tensor(&b, "t_b", 2, ne1, QG_TYPE_Q4_0, 64, 1);
    tensor(&b, "t_c", 1, ne2, QG_TYPE_Q8_0, 128, 2);
    while (b.n % 32) bb_u8(&b, 0);
    for (int i = 0; i < 128 + 34; i++) bb_u8(&b, (uint8_t)(i * 7)); /* q4_0/q8_0 scales: any bits */
    return b;
}

/* Array of arrays nested `depth` levels below the top-level array. */
static bb build_deep(int depth) {
    bb b = {0};
    bb_put(&b, "GGUF", 4);
    bb_u32(&b, 3);
    bb_u64(&b, 0);
    bb_u64(&b, 1);
    key(&b, "deep", QG_GGUF_ARRAY);
    for (int d = 0; d < depth; d++) {
        bb_u32(&b, QG_GGUF_ARRAY);
        bb_u64(&b, 1);
    }
    bb_u32(&b, QG_GGUF_INT32);
    bb_u64(&b, 1);
    bb_u32(&b, 42);
    return b;
}

static int n_cases;

/* One malformed image through both entry points. */
static void expect_bad(const char *desc, const uint8_t *img, size_t n, const char *want) {
    qg_gguf *f = (qg_gguf *)1;
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n) memcpy(copy, img, n);
    qg_status st = qg_gguf_open_memory(n ? copy : NULL, n, desc, &f);
    printf("[%3d] %-34s -> %s: %s\n", n_cases, desc, qg_status_name(st), qg_last_error());
    assert_int_equal(st, QG_ERR_FORMAT);
    assert_null(f);
    assert_true(strlen(qg_last_error()) > 0);
    assert_non_null(strstr(qg_last_error(), desc)); /* names the file */
    if (want) assert_non_null(strstr(qg_last_error(), want));
    free(copy);

    char path[] = "/tmp/qg_gguf_badXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, img, n), (ssize_t)n);
    close(fd);
    f = (qg_gguf *)1;
    st = qg_gguf_open(path, &f);
    assert_int_equal(st, QG_ERR_FORMAT);
    assert_null(f);
    assert_non_null(strstr(qg_last_error(), path));
    if (want) assert_non_null(strstr(qg_last_error(), want));
    unlink(path);
    n_cases++;
}

typedef struct patch {
    const char *desc;
    int field;
    int width;          /* 1, 4, 8, or 0 for a byte string */
    uint64_t value;
    const char *bytes;  /* for width 0 */
    const char *want;   /* substring the message must contain */
} patch;

static const patch patches[] = {
    {"bad magic", F_MAGIC, 0, 0, "GGUX", "magic"},
    {"version 0", F_VERSION, 4, 0, NULL, "version 0"},
    {"version 1", F_VERSION, 4, 1, NULL, "version 1"},
    {"version 99", F_VERSION, 4, 99, NULL, "version 99"},
    {"big-endian version", F_VERSION, 4, 0x03000000u, NULL, "big-endian"},
    {"n_tensors huge", F_NT, 8, UINT64_MAX, NULL, "tensors"},
    {"n_tensors 2^40", F_NT, 8, 1ull << 40, NULL, "tensors"},
    {"n_kv huge", F_NKV, 8, UINT64_MAX, NULL, "kvs"},
    {"n_kv 2^33", F_NKV, 8, 1ull << 33, NULL, "kvs"},
    {"key length huge", F_K0_LEN, 8, UINT64_MAX, NULL, "key 0"},
    {"key length 2^40", F_K0_LEN, 8, 1ull << 40, NULL, "key 0"},
    {"empty key", F_K0_LEN, 8, 0, NULL, "empty"},
    {"key with NUL", F_K0_NAME, 1, 0, NULL, "NUL"},
    {"alignment 0", F_ALIGN_VAL, 4, 0, NULL, "alignment"},
    {"alignment 3", F_ALIGN_VAL, 4, 3, NULL, "alignment"},
    {"alignment 48", F_ALIGN_VAL, 4, 48, NULL, "alignment"},
    {"alignment typed i32", F_ALIGN_TYPE, 4, QG_GGUF_INT32, NULL, "alignment"},
    {"alignment 2^31 (data past EOF)", F_ALIGN_VAL, 4, 1u << 31, NULL, "outside"},
    {"value type 13", F_STR_TYPE, 4, 13, NULL, "invalid value type 13"},
    {"value type 0xffffffff", F_STR_TYPE, 4, 0xffffffffu, NULL, "invalid value type"},
    {"string length huge", F_STR_LEN, 8, 1ull << 63, NULL, "a.str"},
    {"string length past EOF", F_STR_LEN, 8, 100000, NULL, "a.str"},
    {"bool value 2", F_BOOL_VAL, 1, 2, NULL, "bool"},
    {"bool value 255", F_BOOL_VAL, 1, 255, NULL, "bool"},
    {"array element type 13", F_ARR_ETYPE, 4, 13, NULL, "element type 13"},
    {"array count huge", F_ARR_N, 8, 1ull << 62, NULL, "array count"},
    {"array count past EOF", F_ARR_N, 8, 100000, NULL, "array count"},
    {"string array count huge", F_SARR_N, 8, UINT64_MAX, NULL, "array count"},
    {"string in array too long", F_SARR_LEN0, 8, 1ull << 50, NULL, "a.sarr"},
    {"nested array count huge", F_NEST_N, 8, 1ull << 60, NULL, "array count"},
    {"nested inner type 77", F_NEST_INNER_TYPE, 4, 77, NULL, "element type 77"},
    {"bool array element 7", F_BARR_VAL1, 1, 7, NULL, "bool element 1"},
    {"duplicate key", F_KBB_NAME, 0, 0, "k.aa", "duplicate key"},
    {"tensor name length huge", F_T0_NAME_LEN, 8, 1ull << 60, NULL, "tensor 0"},
    {"empty tensor name", F_T0_NAME_LEN, 8, 0, NULL, "empty name"},
    {"n_dims 0", F_T0_NDIMS, 4, 0, NULL, "n_dims 0"},
    {"n_dims 5", F_T0_NDIMS, 4, 5, NULL, "n_dims 5"},
    {"ne overflow", F_T0_NE0, 8, 1ull << 62, NULL, "overflow"},
    {"ne negative", F_T0_NE0, 8, 1ull << 63, NULL, "negative"},
    {"type id 4 (retired)", F_T0_TYPE, 4, 4, NULL, "type id 4"},
    {"type id 5 (retired)", F_T0_TYPE, 4, 5, NULL, "type id 5"},
    {"type id 31 (retired)", F_T0_TYPE, 4, 31, NULL, "type id 31"},
    {"type id 1004", F_T0_TYPE, 4, 1004, NULL, "type id 1004"},
    {"type id 999999", F_T0_TYPE, 4, 999999, NULL, "type id 999999"},
    {"type id 0xffffffff", F_T0_TYPE, 4, 0xffffffffu, NULL, "type id"},
    {"q4_0 row 33", F_T1_NE0, 8, 33, NULL, "block size"},
    {"q4_0 row 48", F_T1_NE0, 8, 48, NULL, "block size"},
    {"misaligned offset", F_T1_OFFSET, 8, 65, NULL, "not a multiple of the alignment"},
    {"overlap (same offset)", F_T1_OFFSET, 8, 0, NULL, "overlap"},
    {"overlap (partial)", F_T1_OFFSET, 8, 96, NULL, "overlap"},
    {"offset past EOF", F_T2_OFFSET, 8, 1ull << 40, NULL, "outside"},
    {"data runs past EOF", F_T2_OFFSET, 8, 160, NULL, "outside"},
    {"offset + size overflows", F_T2_OFFSET, 8, UINT64_MAX - 31, NULL, "outside"},
    {"duplicate tensor name", F_T1_NAME, 0, 0, "t_a", "duplicate tensor"},
};

static void apply(uint8_t *img, const patch *p) {
    uint8_t *d = img + off[p->field];
    if (p->width == 0) memcpy(d, p->bytes, strlen(p->bytes));
    else if (p->width == 1) *d = (uint8_t)p->value;
    else if (p->width == 4) { uint32_t v = (uint32_t)p->value; memcpy(d, &v, 4); }
    else memcpy(d, &p->value, 8);
}

static void test_base_is_valid(void **state) {
    (void)state;
    bb b = build_base();
    qg_gguf *f = NULL;
    assert_int_equal(qg_gguf_open_memory(b.p, b.n, "base", &f), QG_OK);
    assert_int_equal(qg_gguf_n_kv(f), (int64_t)n_kv_base);
    assert_int_equal(qg_gguf_n_tensors(f), (int64_t)n_tensors_base);
    const qg_gguf_tensor_info *t = qg_gguf_tensor(f, 2);
    assert_int_equal(qg_gguf_data_offset(f) + t->offset + t->size, b.n); /* ends at EOF */
    assert_int_equal(qg_gguf_arr_n(f, qg_gguf_find_key(f, "a.nest")), 2);
    qg_gguf_close(f);
    bb d = build_deep(7); /* the reader accepts 8 levels of arrays (GGUF_MAX_NESTING) */
    assert_int_equal(qg_gguf_open_memory(d.p, d.n, "deep-ok", &f), QG_OK);
    qg_gguf_close(f);
    free(d.p);
    free(b.p);
}

static void test_malformed(void **state) {
    (void)state;
    bb b = build_base();
    uint8_t *img = malloc(b.n);
    assert_non_null(img);
    char desc[64];

    for (size_t len = 0; len < b.n; len++) { /* every truncation, header and data */
        snprintf(desc, sizeof desc, "truncated to %zu of %zu", len, b.n);
        expect_bad(desc, b.p, len, NULL);
    }
    for (size_t i = 0; i < sizeof patches / sizeof patches[0]; i++) {
        memcpy(img, b.p, b.n);
        apply(img, &patches[i]);
        expect_bad(patches[i].desc, img, b.n, patches[i].want);
    }
    /* n_kv / n_tensors one too many: the parser runs off the end of the header */
    memcpy(img, b.p, b.n);
    uint64_t v = n_kv_base + 1;
    memcpy(img + off[F_NKV], &v, 8);
    expect_bad("n_kv + 1", img, b.n, NULL);
    memcpy(img, b.p, b.n);
    v = n_tensors_base + 1;
    memcpy(img + off[F_NT], &v, 8);
    expect_bad("n_tensors + 1", img, b.n, NULL);

    /* 1-d f32 with 2^62 elements: the count fits int64, the byte size does not fit u64 */
    memcpy(img, b.p, b.n);
    v = 1ull << 62;
    memcpy(img + off[F_T2_NE0], &v, 8);
    uint32_t f32 = QG_TYPE_F32;
    memcpy(img + off[F_T2_TYPE], &f32, 4);
    expect_bad("byte size overflow", img, b.n, "byte size overflows");

    bb d = build_deep(40);
    expect_bad("arrays nested 40 deep", d.p, d.n, "nested deeper");
    free(d.p);
    printf("%d malformed cases rejected\n", n_cases);
    assert_true(n_cases >= 40);
    assert_true(n_cases >= (int)(b.n + sizeof patches / sizeof patches[0]));
    free(img);
    free(b.p);
}

/* Touch everything an accepted file exposes, so a sanitizer sees any bad pointer. */
static uint64_t walk(const qg_gguf *f) {
    uint64_t sum = 0;
    for (int64_t i = 0; i < qg_gguf_n_kv(f); i++) {
        sum += strlen(qg_gguf_key(f, i));
        qg_gguf_str s = qg_gguf_kv_str(f, i);
        for (uint64_t j = 0; j < s.len; j++) sum += (uint8_t)s.data[j];
        double d;
        if (qg_gguf_kv_as_f64(f, i, &d) == QG_OK) sum += d == d;
        if (qg_gguf_kv_type(f, i) != QG_GGUF_ARRAY) continue;
        for (uint64_t j = 0; j < qg_gguf_arr_n(f, i); j++) {
            s = qg_gguf_arr_str(f, i, j);
            for (uint64_t k = 0; k < s.len; k++) sum += (uint8_t)s.data[k];
        }
    }
    for (int64_t i = 0; i < qg_gguf_n_tensors(f); i++) {
        const qg_gguf_tensor_info *t = qg_gguf_tensor(f, i);
        for (uint64_t j = 0; j < t->size; j++) sum += ((const uint8_t *)t->data)[j];
    }
    return sum;
}

/* Random byte changes to the base image: each result either opens (and every exposed
 * byte is readable) or fails with QG_ERR_FORMAT, a NULL handle and a message. */
static void test_random_mutations(void **state) {
    (void)state;
    bb b = build_base();
    uint8_t *img = malloc(b.n);
    assert_non_null(img);
    qgt_rng r;
    qgt_seed(&r, 1234);
    int accepted = 0, rejected = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(img, b.p, b.n);
        int flips = 1 + (int)(qgt_next(&r) % 4);
        for (int k = 0; k < flips; k++) {
            size_t pos = (size_t)(qgt_next(&r) % 440); /* the header region, mostly */
            uint64_t kind = qgt_next(&r) % 3;
            img[pos] = kind == 0 ? (uint8_t)qgt_next(&r) : kind == 1 ? 0xff : (uint8_t)(img[pos] ^ 1);
        }
        qg_gguf *f = (qg_gguf *)1;
        qg_status st = qg_gguf_open_memory(img, b.n, "mutant", &f);
        if (st == QG_OK) {
            assert_non_null(f);
            (void)walk(f);
            qg_gguf_close(f);
            accepted++;
        } else {
            if (st != QG_ERR_FORMAT) fail_msg("iteration %d: %s: %s", iter, qg_status_name(st), qg_last_error());
            assert_null(f);
            assert_true(strlen(qg_last_error()) > 0);
            rejected++;
        }
    }
    printf("random mutations: %d accepted, %d rejected\n", accepted, rejected);
    assert_true(rejected > 0);
    free(img);
    free(b.p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_is_valid),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_random_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
