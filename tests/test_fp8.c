/* FP8 conversions (shared/spec/fp8.md): every code of E4M3 and E5M2 decodes to the value
 * of the spec formula (computed here with ldexp), encodes back to itself, ties round to
 * the even code, out-of-range values saturate, NaN stays NaN, E5M2 is the top byte of
 * fp16, random floats encode as ml_dtypes does (tests/data/fp8_fixture.bin, written by
 * tests/python/gen_fp8_fixture.py), and the MXFP8 block types follow the OCP MX rule. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The spec's formula, written independently of the library. */
static double spec_value(uint8_t v, int ebits, int mbits, int bias) {
    int s = v >> 7, e = (v >> mbits) & ((1 << ebits) - 1), m = v & ((1 << mbits) - 1);
    double mag;
    if (ebits == 4 && e == 15 && m == 7) return NAN; /* E4M3FN: S.1111.111 only */
    if (ebits == 5 && e == 31) mag = m ? NAN : INFINITY;
    else if (e == 0) mag = ldexp(m, 1 - bias - mbits);
    else mag = ldexp((1 << mbits) + m, e - bias - mbits);
    return s ? -mag : mag;
}

static double e4m3_ref(uint8_t v) { return spec_value(v, 4, 3, 7); }
static double e5m2_ref(uint8_t v) { return spec_value(v, 5, 2, 15); }

static void test_decode_all_codes(void **state) {
    (void)state;
    for (int c = 0; c < 256; c++) {
        double r4 = e4m3_ref((uint8_t)c), r5 = e5m2_ref((uint8_t)c);
        float v4 = qg_e4m3_to_fp32((uint8_t)c), v5 = qg_e5m2_to_fp32((uint8_t)c);
        if (isnan(r4)) assert_true(isnan(v4));
        else assert_true((double)v4 == r4 && !signbit(v4) == !signbit(r4));
        if (isnan(r5)) assert_true(isnan(v5));
        else assert_true((double)v5 == r5 && !signbit(v5) == !signbit(r5));
    }
    assert_true(qg_e4m3_to_fp32(0x7e) == 448.0f);
    assert_true(qg_e4m3_to_fp32(0x01) == ldexpf(1, -9));
    assert_true(qg_e4m3_to_fp32(0x08) == ldexpf(1, -6));
    assert_true(qg_e5m2_to_fp32(0x7b) == 57344.0f);
    assert_true(isinf(qg_e5m2_to_fp32(0x7c)) && isinf(qg_e5m2_to_fp32(0xfc)));
}

static void test_roundtrip_codes(void **state) {
    (void)state;
    for (int c = 0; c < 256; c++) {
        uint8_t u = (uint8_t)c;
        if (!isnan(e4m3_ref(u))) assert_int_equal(qg_fp32_to_e4m3(qg_e4m3_to_fp32(u)), u);
        if (!isnan(e5m2_ref(u))) assert_int_equal(qg_fp32_to_e5m2(qg_e5m2_to_fp32(u)), u);
    }
    assert_int_equal(qg_fp32_to_e4m3(0.0f), 0x00);
    assert_int_equal(qg_fp32_to_e4m3(-0.0f), 0x80);
    assert_int_equal(qg_fp32_to_e5m2(-0.0f), 0x80);
}

/* Between every two neighbouring finite codes of one sign, the exact midpoint goes to
 * the even code and its float neighbours to the nearer code. */
static void check_midpoints(uint8_t (*enc)(float), float (*dec)(uint8_t), int max_code) {
    for (int sign = 0; sign < 2; sign++) {
        for (int c = 0; c < max_code; c++) {
            uint8_t lo = (uint8_t)(c | sign << 7), hi = (uint8_t)((c + 1) | sign << 7);
            float a = dec(lo), b = dec(hi);
            float mid = (float)(((double)a + (double)b) / 2);
            assert_true((double)mid == ((double)a + (double)b) / 2); /* exact in float */
            uint8_t even = (c & 1) ? hi : lo;
            assert_int_equal(enc(mid), even);
            assert_int_equal(enc(nextafterf(mid, a)), lo);
            assert_int_equal(enc(nextafterf(mid, b)), hi);
        }
    }
}

static void test_ties_to_even(void **state) {
    (void)state;
    check_midpoints(qg_fp32_to_e4m3, qg_e4m3_to_fp32, 0x7e);
    check_midpoints(qg_fp32_to_e5m2, qg_e5m2_to_fp32, 0x7b);
    /* below half the smallest subnormal: zero; just above: the smallest subnormal */
    assert_int_equal(qg_fp32_to_e4m3(ldexpf(1, -10)), 0x00);
    assert_int_equal(qg_fp32_to_e4m3(nextafterf(ldexpf(1, -10), 1)), 0x01);
    assert_int_equal(qg_fp32_to_e4m3(1e-30f), 0x00);
    assert_int_equal(qg_fp32_to_e5m2(ldexpf(1, -17)), 0x00);
    assert_int_equal(qg_fp32_to_e5m2(nextafterf(ldexpf(1, -17), 1)), 0x01);
    /* the largest subnormal rounds up into the smallest normal */
    assert_int_equal(qg_fp32_to_e4m3(ldexpf(15, -10)), 0x08);
}

static void test_saturation_and_nan(void **state) {
    (void)state;
    const float big4[] = {448.5f, 464.0f, 480.0f, 1e6f, 3e38f, INFINITY};
    for (size_t i = 0; i < sizeof big4 / sizeof big4[0]; i++) {
        assert_int_equal(qg_fp32_to_e4m3(big4[i]), 0x7e);
        assert_int_equal(qg_fp32_to_e4m3(-big4[i]), 0xfe);
    }
    const float big5[] = {57345.0f, 61440.0f, 65536.0f, 1e9f, 3e38f};
    for (size_t i = 0; i < sizeof big5 / sizeof big5[0]; i++) {
        assert_int_equal(qg_fp32_to_e5m2(big5[i]), 0x7b);
        assert_int_equal(qg_fp32_to_e5m2(-big5[i]), 0xfb);
    }
    assert_int_equal(qg_fp32_to_e5m2(INFINITY), 0x7c);
    assert_int_equal(qg_fp32_to_e5m2(-INFINITY), 0xfc);
    assert_true(isnan(qg_e4m3_to_fp32(qg_fp32_to_e4m3(NAN))));
    assert_true(isnan(qg_e4m3_to_fp32(qg_fp32_to_e4m3(-NAN))));
    assert_true(isnan(qg_e5m2_to_fp32(qg_fp32_to_e5m2(NAN))));
    assert_true(isnan(qg_e4m3_to_fp32(0x7f)) && isnan(qg_e4m3_to_fp32(0xff)));
}

/* E5M2 is fp16 without its low byte: for every fp16 whose low byte is zero (the values
 * E5M2 represents exactly), the E5M2 code is the high byte. */
static void test_e5m2_is_fp16_top_byte(void **state) {
    (void)state;
    for (int hi = 0; hi < 256; hi++) {
        uint16_t h = (uint16_t)(hi << 8);
        float f = qg_fp16_to_fp32(h);
        if (isnan(f)) continue;
        assert_int_equal(qg_fp32_to_e5m2(f), hi);
        assert_true(qg_e5m2_to_fp32((uint8_t)hi) == f);
    }
}

static void test_ml_dtypes_fixture(void **state) {
    (void)state;
    FILE *fp = fopen(qgt_data_path("fp8_fixture.bin"), "rb");
    assert_non_null(fp);
    char magic[4];
    uint32_t version;
    assert_int_equal(fread(magic, 1, 4, fp), 4);
    assert_memory_equal(magic, "QGF8", 4);
    assert_int_equal(fread(&version, 4, 1, fp), 1);
    assert_int_equal(version, 1);
    uint8_t (*enc[2])(float) = {qg_fp32_to_e4m3, qg_fp32_to_e5m2};
    for (int s = 0; s < 2; s++) {
        uint32_t count;
        assert_int_equal(fread(&count, 4, 1, fp), 1);
        assert_true(count > 1000 && count <= 100000);
        int bad = 0;
        for (uint32_t i = 0; i < count; i++) {
            unsigned char rec[5];
            float v;
            assert_int_equal(fread(rec, 1, 5, fp), 5);
            memcpy(&v, rec, 4);
            if (enc[s](v) != rec[4]) {
                if (bad++ < 5)
                    printf("%s: %.9g -> 0x%02x, ml_dtypes 0x%02x\n", s ? "e5m2" : "e4m3",
                           (double)v, enc[s](v), rec[4]);
            }
        }
        printf("%s: %u fixture values, %d mismatches\n", s ? "e5m2" : "e4m3", count, bad);
        assert_int_equal(bad, 0);
    }
    fclose(fp);
}

/* Expected MXFP8 scale from the OCP rule, computed with log2 in double. */
static int mx_expected_scale(const float *x, int emax) {
    double amax = 0;
    for (int j = 0; j < 32; j++) amax = fmax(amax, fabs((double)x[j]));
    if (amax == 0) return 0;
    int e = (int)floor(log2(amax)) - emax + 127;
    return e < 0 ? 0 : e > 254 ? 254 : e;
}

static void check_mxfp8(qg_type type, int emax, uint8_t (*enc)(float), double (*ref)(uint8_t)) {
    const qg_type_traits *tr = qg_type_get(type);
    assert_non_null(tr);
    assert_int_equal(tr->block_size, 32);
    assert_int_equal(tr->type_size, 33);
    qgt_rng rng;
    qgt_seed(&rng, 7);
    enum { NB = 6 };
    float x[NB * 32], y[NB * 32];
    uint8_t q[NB * 33];
    const float scales[NB] = {1.0f, 448.0f, 3e-3f, 1e-41f, 0.0f, 6e37f};
    for (int b = 0; b < NB; b++)
        for (int j = 0; j < 32; j++) x[b * 32 + j] = scales[b] * qgt_normal(&rng);
    x[3 * 32 + 5] = ldexpf(1, -140);
    tr->from_float(x, q, NB * 32);
    tr->to_float(q, y, NB * 32);
    for (int b = 0; b < NB; b++) {
        int e = mx_expected_scale(x + 32 * b, emax);
        assert_int_equal(q[33 * b], e);
        for (int j = 0; j < 32; j++) {
            /* the element code is the element format's encoding of x / 2^(e-127) */
            double scaled = ldexp((double)x[32 * b + j], 127 - e);
            uint8_t code = enc((float)scaled);
            assert_int_equal(q[33 * b + 1 + j], code);
            /* one float rounding of the exact product (matters only below FLT_MIN) */
            assert_true(y[32 * b + j] == (float)(ref(code) * ldexp(1, e - 127)));
        }
    }
    assert_int_equal(q[33 * 4], 0); /* all-zero block */
}

static uint8_t e4m3_enc(float f) { return qg_fp32_to_e4m3(f); }
static uint8_t e5m2_enc(float f) { return qg_fp32_to_e5m2(f); }

static void test_mxfp8(void **state) {
    (void)state;
    check_mxfp8(QG_TYPE_MXFP8_E4M3, 8, e4m3_enc, e4m3_ref);
    check_mxfp8(QG_TYPE_MXFP8_E5M2, 15, e5m2_enc, e5m2_ref);
}

/* The plain FP8 rows convert arrays with the scalar functions. */
static void test_fp8_rows(void **state) {
    (void)state;
    const qg_type_traits *t4 = qg_type_get(QG_TYPE_F8_E4M3), *t5 = qg_type_get(QG_TYPE_F8_E5M2);
    assert_non_null(t4);
    assert_non_null(t5);
    float x[64], y[64];
    uint8_t q[64];
    qgt_rng rng;
    qgt_seed(&rng, 3);
    for (int i = 0; i < 64; i++) x[i] = 100.0f * qgt_normal(&rng);
    t4->from_float(x, q, 64);
    t4->to_float(q, y, 64);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(q[i], qg_fp32_to_e4m3(x[i]));
        assert_true(y[i] == qg_e4m3_to_fp32(q[i]));
    }
    t5->from_float(x, q, 64);
    t5->to_float(q, y, 64);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(q[i], qg_fp32_to_e5m2(x[i]));
        assert_true(y[i] == qg_e5m2_to_fp32(q[i]));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_all_codes),
        cmocka_unit_test(test_roundtrip_codes),
        cmocka_unit_test(test_ties_to_even),
        cmocka_unit_test(test_saturation_and_nan),
        cmocka_unit_test(test_e5m2_is_fp16_top_byte),
        cmocka_unit_test(test_ml_dtypes_fixture),
        cmocka_unit_test(test_mxfp8),
        cmocka_unit_test(test_fp8_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
