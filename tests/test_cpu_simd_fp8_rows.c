/* The AVX2 FP8 four-column and multi-row dot products (vec_dot4, vec_dot_rows of
 * F8_E4M3, F8_E5M2, MXFP8_E4M3, MXFP8_E5M2) on rows holding special codes: E4M3 NaN
 * (0x7F, 0xFF) and E5M2 infinities and NaN (0x7C, 0xFC, 0x7E) at every 11th position,
 * mixed with rows of finite codes. The four columns of vec_dot4 share the weight row's
 * NaN scan, so one special row must not leak into the results of the others:
 *  - vec_dot4 must give, bit for bit (or NaN where it is NaN), vec_dot of each column;
 *  - vec_dot_rows over 5 rows (some special, some not) vec_dot of each row;
 *  - vec_dot on a special row exactly what the scalar reference gives (infinities and NaN
 *    dominate the sum).
 * Row lengths include a tail past the last 32 codes for the plain types.
 * Without the AVX2 table (other processors or builds) the test prints SKIPPED, exits 77.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#ifdef QG_TEST_NO_CPU_SIMD
int main(void) { return qgt_skip("the CPU plugin (and its SIMD code) is not part of this build"); }
#else
#include "backends/cpu/simd.h"

enum { ROWS = 5, MAXK = 160 };

static const cpu_simd_fns *simd;
static qgt_rng rng;

static bool same(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

/* Row r of w: random finite non-negative codes (E8M0 scales near 2^0 for MXFP8); rows 1
 * and 3 also get special code number `special` at position pos. */
static void make_rows(const qg_type_traits *t, int64_t k, int pos, int special, unsigned char *w, size_t xs) {
    const bool mx = t->block_size > 1;
    const bool e4 = t->type == QG_TYPE_F8_E4M3 || t->type == QG_TYPE_MXFP8_E4M3;
    static const unsigned char e4c[3] = {0x7f, 0xff, 0x7f}, e5c[3] = {0x7c, 0xfc, 0x7e};
    for (int r = 0; r < ROWS; r++) {
        unsigned char *row = w + (size_t)r * xs;
        for (size_t i = 0; i < xs; i++) row[i] = (unsigned char)(qgt_next(&rng) % 0x70);
        if (mx)
            for (int64_t b = 0; b < k / 32; b++) row[b * 33] = (unsigned char)(120 + qgt_next(&rng) % 16);
        if (r == 1 || r == 3) {
            const size_t at = mx ? (size_t)(pos / 32) * 33 + 1 + (size_t)(pos % 32) : (size_t)pos;
            row[at] = e4 ? e4c[special] : e5c[special];
        }
    }
}

static void check_type(qg_type type) {
    const qg_type_traits *t = qg_type_get(type);
    qg_vec_dot_fn dot = simd->vec_dot(type);
    cpu_dot4_fn dot4 = simd->vec_dot4(type);
    cpu_dot_rows_fn rows = simd->vec_dot_rows(type);
    assert_non_null(dot);
    assert_non_null(dot4);
    assert_non_null(rows);
    const int64_t k = t->block_size > 1 ? 128 : 128 + 7;
    const size_t xs = qg_row_size(type, k);
    const size_t ys = (size_t)MAXK * sizeof(float) + 12; /* not the row size */
    unsigned char *w = malloc(xs * ROWS);
    float *y = malloc(ys * 4);
    assert_non_null(w);
    assert_non_null(y);
    int checks = 0;
    for (int pos = 0; pos < k; pos += 11) {
        for (int special = 0; special < 3; special++) {
            make_rows(t, k, pos, special, w, xs);
            for (int c = 0; c < 4; c++) {
                float *yc = (float *)((char *)y + (size_t)c * ys);
                for (int64_t i = 0; i < k; i++) yc[i] = qgt_normal(&rng);
            }
            float out[ROWS + 1];
            out[ROWS] = 12345.0f;
            rows(k, w, xs, y, out, ROWS);
            if (out[ROWS] != 12345.0f) fail_msg("%s: vec_dot_rows wrote past its rows", t->name);
            for (int r = 0; r < ROWS; r++) {
                const unsigned char *row = w + (size_t)r * xs;
                const float one = dot(k, row, y);
                if (!same(out[r], one))
                    fail_msg("%s pos %d special %d row %d: vec_dot_rows %.9g, vec_dot %.9g", t->name, pos, special, r,
                             out[r], one);
                if (r == 1) {
                    const float want = t->vec_dot(k, row, y);
                    if (!same(one, want))
                        fail_msg("%s pos %d special %d: vec_dot %.9g, reference %.9g", t->name, pos, special, one, want);
                }
                float o4[4];
                dot4(k, row, y, ys, o4);
                for (int c = 0; c < 4; c++) {
                    const float oc = dot(k, row, (const char *)y + (size_t)c * ys);
                    if (!same(o4[c], oc))
                        fail_msg("%s pos %d special %d row %d column %d: vec_dot4 %.9g, vec_dot %.9g", t->name, pos,
                                 special, r, c, o4[c], oc);
                }
                checks++;
            }
        }
    }
    printf("%s: %d rows checked\n", t->name, checks);
    free(w);
    free(y);
}

static void test_f8_e4m3(void **state) {
    (void)state;
    check_type(QG_TYPE_F8_E4M3);
}
static void test_f8_e5m2(void **state) {
    (void)state;
    check_type(QG_TYPE_F8_E5M2);
}
static void test_mxfp8_e4m3(void **state) {
    (void)state;
    check_type(QG_TYPE_MXFP8_E4M3);
}
static void test_mxfp8_e5m2(void **state) {
    (void)state;
    check_type(QG_TYPE_MXFP8_E5M2);
}

int main(void) {
    simd = cpu_simd_best();
    if (!simd || !simd->vec_dot4 || !simd->vec_dot_rows || !simd->vec_dot4(QG_TYPE_F8_E4M3) ||
        !simd->vec_dot_rows(QG_TYPE_F8_E4M3))
        return qgt_skip("no SIMD FP8 four-column / multi-row dot products for this processor (AVX2 table)");
    qgt_seed(&rng, 20261123);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f8_e4m3),
        cmocka_unit_test(test_f8_e5m2),
        cmocka_unit_test(test_mxfp8_e4m3),
        cmocka_unit_test(test_mxfp8_e5m2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
