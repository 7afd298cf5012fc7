/* The type table and the plain conversions: every row against the block geometry and
 * partner types of shared/spec/quant-formats.md and fp8.md (restated here), id and name
 * lookups (retired and unknown ids give NULL), row sizes, all 65536 fp16 codes, bfloat16
 * round-to-nearest-even on chosen values, and the integer/F64 row conversions. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "testutil.h"

typedef struct {
    qg_type type;
    const char *name;
    int64_t block;
    size_t bytes;
    qg_type partner;
    bool has_dot;
} expected_row;

/* From the spec tables; partner per the project's vec_dot rules. */
static const expected_row expected[] = {
    {QG_TYPE_F32, "f32", 1, 4, QG_TYPE_F32, true},
    {QG_TYPE_F16, "f16", 1, 2, QG_TYPE_F16, true},
    {QG_TYPE_Q4_0, "q4_0", 32, 18, QG_TYPE_Q8_0, true},
    {QG_TYPE_Q4_1, "q4_1", 32, 20, QG_TYPE_Q8_1, true},
    {QG_TYPE_Q5_0, "q5_0", 32, 22, QG_TYPE_Q8_0, true},
    {QG_TYPE_Q5_1, "q5_1", 32, 24, QG_TYPE_Q8_1, true},
    {QG_TYPE_Q8_0, "q8_0", 32, 34, QG_TYPE_Q8_0, true},
    {QG_TYPE_Q8_1, "q8_1", 32, 36, QG_TYPE_Q8_1, false},
    {QG_TYPE_Q2_K, "q2_K", 256, 84, QG_TYPE_Q8_K, true},
    {QG_TYPE_Q3_K, "q3_K", 256, 110, QG_TYPE_Q8_K, true},
    {QG_TYPE_Q4_K, "q4_K", 256, 144, QG_TYPE_Q8_K, true},
    {QG_TYPE_Q5_K, "q5_K", 256, 176, QG_TYPE_Q8_K, true},
    {QG_TYPE_Q6_K, "q6_K", 256, 210, QG_TYPE_Q8_K, true},
    {QG_TYPE_Q8_K, "q8_K", 256, 292, QG_TYPE_Q8_K, false},
    {QG_TYPE_IQ4_NL, "iq4_nl", 32, 18, QG_TYPE_Q8_0, true},
    {QG_TYPE_IQ4_XS, "iq4_xs", 256, 136, QG_TYPE_Q8_K, true},
    {QG_TYPE_I8, "i8", 1, 1, QG_TYPE_I8, false},
    {QG_TYPE_I16, "i16", 1, 2, QG_TYPE_I16, false},
    {QG_TYPE_I32, "i32", 1, 4, QG_TYPE_I32, false},
    {QG_TYPE_I64, "i64", 1, 8, QG_TYPE_I64, false},
    {QG_TYPE_F64, "f64", 1, 8, QG_TYPE_F64, false},
    {QG_TYPE_BF16, "bf16", 1, 2, QG_TYPE_BF16, true},
    {QG_TYPE_TQ1_0, "tq1_0", 256, 54, QG_TYPE_Q8_K, true},
    {QG_TYPE_TQ2_0, "tq2_0", 256, 66, QG_TYPE_Q8_K, true},
    {QG_TYPE_MXFP4, "mxfp4", 32, 17, QG_TYPE_Q8_0, true},
    {QG_TYPE_NVFP4, "nvfp4", 64, 36, QG_TYPE_Q8_0, true},
    {QG_TYPE_F8_E4M3, "f8_e4m3", 1, 1, QG_TYPE_F32, true},
    {QG_TYPE_F8_E5M2, "f8_e5m2", 1, 1, QG_TYPE_F32, true},
    {QG_TYPE_MXFP8_E4M3, "mxfp8_e4m3", 32, 33, QG_TYPE_F32, true},
    {QG_TYPE_MXFP8_E5M2, "mxfp8_e5m2", 32, 33, QG_TYPE_F32, true},
};
#define N_EXPECTED ((int)(sizeof expected / sizeof expected[0]))

static void *lookup_thread(void *arg) {
    (void)arg;
    for (int k = 0; k < 1000; k++)
        for (int i = 0; i < N_EXPECTED; i++)
            if (!qg_type_get(expected[i].type)) return (void *)1;
    return NULL;
}

/* First use of the id index from several threads at once. */
static void test_concurrent_first_lookup(void **state) {
    (void)state;
    pthread_t th[4];
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, lookup_thread, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *ret;
        assert_int_equal(pthread_join(th[i], &ret), 0);
        assert_null(ret);
    }
}

static void test_rows_match_spec(void **state) {
    (void)state;
    int count = 0;
    const qg_type_traits *rows = qg_type_table(&count);
    assert_int_equal(count, N_EXPECTED);
    for (int i = 0; i < N_EXPECTED; i++) {
        const expected_row *e = &expected[i];
        const qg_type_traits *t = qg_type_get(e->type);
        assert_non_null(t);
        assert_true(t >= rows && t < rows + count);
        assert_int_equal(t->type, e->type);
        assert_string_equal(t->name, e->name);
        assert_int_equal(t->block_size, e->block);
        assert_int_equal(t->type_size, e->bytes);
        assert_int_equal(t->vec_dot_type, e->partner);
        assert_int_equal(t->vec_dot != NULL, e->has_dot);
        assert_non_null(t->to_float);
        assert_int_equal(t->is_quantized, e->block > 1);
        assert_int_equal(t->is_integer, e->type >= QG_TYPE_I8 && e->type <= QG_TYPE_I64);
        assert_string_equal(qg_type_name(e->type), e->name);
        /* the partner of every weight type is itself a row, convertible from float */
        const qg_type_traits *p = qg_type_get(t->vec_dot_type);
        assert_non_null(p);
    }
    /* the plain and 32-block types of this worker all quantize */
    const qg_type own[] = {QG_TYPE_F32, QG_TYPE_F16, QG_TYPE_BF16, QG_TYPE_F64, QG_TYPE_I8,
                           QG_TYPE_I16, QG_TYPE_I32, QG_TYPE_I64, QG_TYPE_Q4_0, QG_TYPE_Q4_1,
                           QG_TYPE_Q5_0, QG_TYPE_Q5_1, QG_TYPE_Q8_0, QG_TYPE_Q8_1, QG_TYPE_MXFP4,
                           QG_TYPE_NVFP4, QG_TYPE_TQ1_0, QG_TYPE_TQ2_0, QG_TYPE_F8_E4M3,
                           QG_TYPE_F8_E5M2, QG_TYPE_MXFP8_E4M3, QG_TYPE_MXFP8_E5M2};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        assert_non_null(qg_type_get(own[i])->from_float);
}

static void test_names(void **state) {
    (void)state;
    int count = 0;
    const qg_type_traits *rows = qg_type_table(&count);
    for (int i = 0; i < count; i++) {
        for (int j = i + 1; j < count; j++) {
            assert_int_not_equal(rows[i].type, rows[j].type);
            assert_true(strcasecmp(rows[i].name, rows[j].name) != 0);
        }
        assert_ptr_equal(qg_type_by_name(rows[i].name), &rows[i]);
        char upper[32];
        size_t n = strlen(rows[i].name);
        assert_true(n < sizeof upper);
        for (size_t k = 0; k <= n; k++)
            upper[k] = (char)(rows[i].name[k] >= 'a' && rows[i].name[k] <= 'z'
                                  ? rows[i].name[k] - 32 : rows[i].name[k]);
        assert_ptr_equal(qg_type_by_name(upper), &rows[i]);
    }
    assert_ptr_equal(qg_type_by_name("q4_k"), qg_type_get(QG_TYPE_Q4_K));
    assert_null(qg_type_by_name("q4"));
    assert_null(qg_type_by_name("q4_0x"));
    assert_null(qg_type_by_name(""));
    assert_null(qg_type_by_name(NULL));
}

static void test_retired_and_unknown_ids(void **state) {
    (void)state;
    const int bad[] = {4, 5, 16, 19, 29, 31, 32, 33, 36, 37, 38, 41, 63, 64, 999, 1004,
                       -1, 100000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(qg_type_get((qg_type)bad[i]));
        assert_string_equal(qg_type_name((qg_type)bad[i]), "?");
        assert_int_equal(qg_row_size((qg_type)bad[i], 32), 0);
    }
}

static void test_row_size(void **state) {
    (void)state;
    for (int i = 0; i < N_EXPECTED; i++) {
        const expected_row *e = &expected[i];
        for (int64_t k = 0; k < 5; k++)
            assert_int_equal(qg_row_size(e->type, k * e->block), (size_t)k * e->bytes);
        assert_int_equal(qg_row_size(e->type, 4096 * e->block), 4096 * e->bytes);
        if (e->block > 1) assert_int_equal(qg_row_size(e->type, e->block + 1), 0);
        assert_int_equal(qg_row_size(e->type, -e->block), 0);
    }
    assert_int_equal(qg_row_size(QG_TYPE_Q4_0, 4096), 4096 / 32 * 18);
    assert_int_equal(qg_row_size(QG_TYPE_Q4_K, 4096), 16 * 144);
}

/* fp16 value from its fields, independent of the library. */
static double fp16_ref(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

static void test_fp16_all_codes(void **state) {
    (void)state;
    for (uint32_t c = 0; c < 65536; c++) {
        uint16_t h = (uint16_t)c;
        float f = qg_fp16_to_fp32(h);
        double r = fp16_ref(h);
        uint16_t back = qg_fp32_to_fp16(f);
        if (isnan(r)) {
            /* NaN stays NaN with its sign; the payload is kept and made quiet */
            assert_true(isnan(f));
            assert_int_equal(back, h | 0x0200);
        } else {
            assert_true((double)f == r);
            assert_int_equal(!signbit(f), !signbit(r));
            assert_int_equal(back, h);
        }
    }
}

static void test_fp16_rounding(void **state) {
    (void)state;
    assert_int_equal(qg_fp32_to_fp16(1.0f + ldexpf(1, -11)), 0x3c00);     /* tie -> even */
    assert_int_equal(qg_fp32_to_fp16(1.0f + 3 * ldexpf(1, -11)), 0x3c02); /* tie -> even */
    assert_int_equal(qg_fp32_to_fp16(nextafterf(1.0f + ldexpf(1, -11), 2)), 0x3c01);
    assert_int_equal(qg_fp32_to_fp16(65504.0f), 0x7bff);
    assert_int_equal(qg_fp32_to_fp16(nextafterf(65520.0f, 0)), 0x7bff);
    assert_int_equal(qg_fp32_to_fp16(65520.0f), 0x7c00);                /* rounds to inf */
    assert_int_equal(qg_fp32_to_fp16(-1e10f), 0xfc00);
    assert_int_equal(qg_fp32_to_fp16(ldexpf(1, -25)), 0x0000);         /* tie -> 0 */
    assert_int_equal(qg_fp32_to_fp16(nextafterf(ldexpf(1, -25), 1)), 0x0001);
    assert_int_equal(qg_fp32_to_fp16(3 * ldexpf(1, -25)), 0x0002);     /* tie -> even */
    assert_int_equal(qg_fp32_to_fp16(-ldexpf(1, -30)), 0x8000);
    assert_int_equal(qg_fp32_to_fp16(ldexpf(1023.5f, -24)), 0x0400);  /* into normals */
    assert_int_equal(qg_fp32_to_fp16(1e-45f), 0x0000);
}

static void test_bf16(void **state) {
    (void)state;
    const float u = ldexpf(1, -8); /* half a bf16 ulp at 1.0 */
    assert_int_equal(qg_fp32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(qg_fp32_to_bf16(1.0f + u), 0x3f80);                /* tie -> even */
    assert_int_equal(qg_fp32_to_bf16(1.0f + 3 * u), 0x3f82);            /* tie -> even */
    assert_int_equal(qg_fp32_to_bf16(nextafterf(1.0f + u, 2)), 0x3f81);
    assert_int_equal(qg_fp32_to_bf16(nextafterf(1.0f + u, 0)), 0x3f80);
    assert_int_equal(qg_fp32_to_bf16(-2.0f), 0xc000);
    assert_int_equal(qg_fp32_to_bf16(INFINITY), 0x7f80);
    assert_int_equal(qg_fp32_to_bf16(-INFINITY), 0xff80);
    assert_int_equal(qg_fp32_to_bf16(3.4028235e38f), 0x7f80); /* FLT_MAX rounds up to inf */
    assert_int_equal(qg_fp32_to_bf16(1e-40f), 0x0001);        /* subnormal: 1e-40 ~ 0x000116c2 */
    uint32_t snan = 0x7f800001u;
    float fs;
    memcpy(&fs, &snan, 4);
    uint16_t b = qg_fp32_to_bf16(fs);
    assert_true(isnan(qg_bf16_to_fp32(b)));
    assert_true(b & 0x40); /* quiet */
    for (uint32_t c = 0; c < 65536; c++) {
        float f = qg_bf16_to_fp32((uint16_t)c);
        uint32_t bits;
        memcpy(&bits, &f, 4);
        assert_int_equal(bits, c << 16);
        if (!isnan(f)) assert_int_equal(qg_fp32_to_bf16(f), c);
    }
}

static void test_integer_rows(void **state) {
    (void)state;
    const float in[] = {0.0f, 2.5f, 3.5f, -2.5f, 127.4f, 127.5f, 200.0f, -128.6f, -1e30f, NAN, 1e30f, -0.4f};
    const int8_t want8[] = {0, 2, 4, -2, 127, 127, 127, -128, -128, 0, 127, 0};
    const int16_t want16[] = {0, 2, 4, -2, 127, 128, 200, -129, -32768, 0, 32767, 0};
    int8_t o8[12];
    int16_t o16[12];
    int64_t o64[12];
    qg_type_get(QG_TYPE_I8)->from_float(in, o8, 12);
    qg_type_get(QG_TYPE_I16)->from_float(in, o16, 12);
    qg_type_get(QG_TYPE_I64)->from_float(in, o64, 12);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(o8[i], want8[i]);
        assert_int_equal(o16[i], want16[i]);
    }
    assert_true(o64[8] == INT64_MIN && o64[10] == INT64_MAX && o64[7] == -129);
    const float big[] = {2147483648.0f, -2147483648.0f, 9.3e18f, -9.3e18f, 9.2233715e18f};
    int32_t o32[5];
    int64_t b64[5];
    qg_type_get(QG_TYPE_I32)->from_float(big, o32, 5);
    qg_type_get(QG_TYPE_I64)->from_float(big, b64, 5);
    assert_true(o32[0] == INT32_MAX && o32[1] == INT32_MIN && o32[2] == INT32_MAX);
    assert_true(b64[0] == 2147483648LL && b64[2] == INT64_MAX && b64[3] == INT64_MIN);
    float back[12];
    qg_type_get(QG_TYPE_I16)->to_float(o16, back, 12);
    for (int i = 0; i < 12; i++) assert_true(back[i] == (float)want16[i]);
    double d[3];
    const float fx[3] = {1.5f, -3e38f, 1e-45f};
    float fy[3];
    qg_type_get(QG_TYPE_F64)->from_float(fx, d, 3);
    qg_type_get(QG_TYPE_F64)->to_float(d, fy, 3);
    assert_memory_equal(fx, fy, sizeof fx);
}

/* F32/F16/BF16 dot products against a double sum of the converted values. */
static void test_float_dots(void **state) {
    (void)state;
    enum { N = 1000 };
    float a[N], b[N];
    uint16_t ha[N], hb[N];
    qgt_rng rng;
    qgt_seed(&rng, 11);
    for (int i = 0; i < N; i++) a[i] = qgt_normal(&rng), b[i] = qgt_normal(&rng);
    double ref = 0, abs = 0;
    for (int i = 0; i < N; i++) ref += (double)a[i] * b[i], abs += fabs((double)a[i] * b[i]);
    assert_true(fabs(qg_type_get(QG_TYPE_F32)->vec_dot(N, a, b) - ref) <= 1e-6 * abs);
    const qg_type tt[2] = {QG_TYPE_F16, QG_TYPE_BF16};
    for (int k = 0; k < 2; k++) {
        const qg_type_traits *t = qg_type_get(tt[k]);
        t->from_float(a, ha, N);
        t->from_float(b, hb, N);
        float ca[N], cb[N];
        t->to_float(ha, ca, N);
        t->to_float(hb, cb, N);
        double r = 0;
        for (int i = 0; i < N; i++) r += (double)ca[i] * cb[i];
        assert_true(fabs(t->vec_dot(N, ha, hb) - r) <= 1e-6 * abs);
    }
}

/* Quantizers take any float input without undefined behaviour (run under the sanitizers
 * with QG_SANITIZE): a block of NaN, infinities, extremes and subnormals is followed by
 * an ordinary block, which must come out exactly as when it is quantized alone. */
static void test_hostile_input(void **state) {
    (void)state;
    enum { N = 512 }; /* two 256-element blocks, or many smaller ones */
    float x[N], alone[N / 2];
    const float odd[] = {NAN, -NAN, INFINITY, -INFINITY, 3.4028235e38f, -3.4028235e38f,
                         1e-45f, -1e-40f, 0.0f, -0.0f, 1e30f, -7.0f};
    qgt_rng rng;
    qgt_seed(&rng, 5);
    for (int i = 0; i < N / 2; i++) x[i] = odd[i % 12];
    for (int i = N / 2; i < N; i++) x[i] = alone[i - N / 2] = qgt_normal(&rng);
    int count = 0;
    const qg_type_traits *rows = qg_type_table(&count);
    for (int r = 0; r < count; r++) {
        const qg_type_traits *t = &rows[r];
        if (!t->from_float) continue;
        static uint8_t q[N * 8], qa[N * 8];
        float back[N];
        t->from_float(x, q, N);
        t->to_float(q, back, N);
        t->from_float(alone, qa, N / 2);
        size_t half = qg_row_size(t->type, N / 2);
        assert_memory_equal(q + half, qa, half);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_first_lookup),
        cmocka_unit_test(test_rows_match_spec),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_retired_and_unknown_ids),
        cmocka_unit_test(test_row_size),
        cmocka_unit_test(test_fp16_all_codes),
        cmocka_unit_test(test_fp16_rounding),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_integer_rows),
        cmocka_unit_test(test_float_dots),
        cmocka_unit_test(test_hostile_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
