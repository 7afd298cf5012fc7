/* The CPU backend's second set of SIMD row functions against scalar references written
 * here from the reference kernels' formulas, on odd lengths (tails shorter than a
 * vector), special values and in-place calls:
 *  - ADD, MUL, SCALE: one float operation per element, bit-identical (NaN for NaN).
 *  - ROPE (NEOX and adjacent pairs, n_dims below n, odd pair counts, in place): the
 *    rotation in double rounded once, bit-identical.
 *  - NORM: two passes summed in double; the SIMD sums in another order, so each output
 *    may differ by rounding of the double sums only: |d| <= 2 ulp of the float result.
 *  - GET_ROWS dequantizers (F16, BF16, Q4_0, Q8_0, Q4_K, Q6_K): bit-identical with the
 *    type table's to_float on random raw blocks (every level code), NaN where it is NaN.
 *  - FP8 dot products: an E4M3 NaN code anywhere (also inside a 32-element group, where
 *    the fast conversion would read it as 480) makes the result NaN, for F8_E4M3 and
 *    MXFP8_E4M3; E5M2 infinities give what the reference gives.
 * Without the AVX2 table (other processors or builds) the test prints SKIPPED and exits 77.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#ifdef QG_TEST_NO_CPU_SIMD
int main(void) { return qgt_skip("the CPU plugin (and its SIMD code) is not part of this build"); }
#else
#include "backends/cpu/simd.h"

static const cpu_simd_fns *simd;
static qgt_rng rng;

static bool same(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

/* Random floats with some NaN, infinities, signed zeros and subnormals mixed in. */
static void special_row(float *x, int64_t n) {
    static const float sp[] = {0.0f, -0.0f, 1e-40f, -3e-39f, 65504.0f, -1e30f, 3.4e38f, 1.0f};
    for (int64_t i = 0; i < n; i++) {
        const uint64_t r = qgt_next(&rng) % 16;
        x[i] = r < 8 ? qgt_normal(&rng) * 4.0f : sp[r - 8];
        if (qgt_next(&rng) % 23 == 0) x[i] = NAN;
        if (qgt_next(&rng) % 29 == 0) x[i] = (qgt_next(&rng) & 1) ? INFINITY : -INFINITY;
    }
}

static void test_binary_rows(void **state) {
    (void)state;
    float x[80], y[80], o[80], io[80];
    for (int64_t n = 1; n <= 70; n += (n < 20 ? 1 : 7)) {
        special_row(x, n);
        special_row(y, n);
        const float s = qgt_normal(&rng);
        for (int op = 0; op < 3; op++) {
            memcpy(io, x, sizeof x);
            if (op == 0) simd->add_row(x, y, o, n), simd->add_row(io, y, io, n);
            if (op == 1) simd->mul_row(x, y, o, n), simd->mul_row(io, y, io, n);
            if (op == 2) simd->scale_row(x, s, o, n), simd->scale_row(io, s, io, n);
            for (int64_t i = 0; i < n; i++) {
                const float want = op == 0 ? x[i] + y[i] : op == 1 ? x[i] * y[i] : x[i] * s;
                if (!same(o[i], want) || !same(io[i], want))
                    fail_msg("op %d n=%lld i=%lld: %.9g (in place %.9g), expected %.9g", op, (long long)n,
                             (long long)i, o[i], io[i], want);
            }
        }
    }
}

static void test_rope_row(void **state) {
    (void)state;
    enum { N = 96 };
    float x[N], o[N], io[N];
    double c[N / 2], s[N / 2];
    const int dims[] = {2, 6, 8, 18, 32, 64, 90, 96};
    for (int di = 0; di < (int)(sizeof dims / sizeof dims[0]); di++) {
        const int n_dims = dims[di], half = n_dims / 2;
        for (int neox = 0; neox < 2; neox++) {
            special_row(x, N);
            const double t = (double)(qgt_next(&rng) % 40000);
            for (int i = 0; i < half; i++) {
                const double th = t * pow(10000.0, -2.0 * i / n_dims);
                c[i] = cos(th);
                s[i] = sin(th);
            }
            memcpy(io, x, sizeof x);
            simd->rope_row(x, o, N, n_dims, neox, c, s);
            simd->rope_row(io, io, N, n_dims, neox, c, s);
            for (int i = 0; i < N; i++) {
                float want = x[i];
                if (i < 2 * half) {
                    const int p = neox ? i % half : i / 2;
                    const bool first = neox ? i < half : i % 2 == 0;
                    const int j0 = neox ? p : 2 * p, j1 = neox ? p + half : 2 * p + 1;
                    const double x0 = x[j0], x1 = x[j1];
                    want = first ? (float)(x0 * c[p] - x1 * s[p]) : (float)(x0 * s[p] + x1 * c[p]);
                }
                if (!same(o[i], want) || !same(io[i], want))
                    fail_msg("rope %s n_dims=%d i=%d: %.9g (in place %.9g), expected %.9g", neox ? "neox" : "normal",
                             n_dims, i, o[i], io[i], want);
            }
        }
    }
}

static float ulp(float v) {
    v = fabsf(v);
    return v < FLT_MIN ? FLT_TRUE_MIN : nextafterf(v, INFINITY) - v;
}

static void test_norm_row(void **state) {
    (void)state;
    float x[300], o[300];
    for (int64_t n = 1; n <= 300; n += (n < 12 ? 1 : 37)) {
        for (int kind = 0; kind < 3; kind++) {
            for (int64_t i = 0; i < n; i++)
                x[i] = kind == 0 ? qgt_normal(&rng) : kind == 1 ? 1000.0f + qgt_normal(&rng) * 1e-3f : 1e-20f * (float)i;
            const float eps = kind == 2 ? 0.0f : 1e-5f;
            simd->norm_row(x, o, n, eps);
            double mean = 0.0, sq = 0.0;
            for (int64_t i = 0; i < n; i++) mean += x[i];
            mean /= (double)n;
            for (int64_t i = 0; i < n; i++) sq += ((double)x[i] - mean) * ((double)x[i] - mean);
            const double inv = 1.0 / sqrt(sq / (double)n + eps);
            for (int64_t i = 0; i < n; i++) {
                const float want = (float)(((double)x[i] - mean) * inv);
                if (isnan(want) ? !isnan(o[i]) : !(fabsf(o[i] - want) <= 2.0f * ulp(want)))
                    fail_msg("norm n=%lld kind %d i=%lld: %.9g, expected %.9g", (long long)n, kind, (long long)i, o[i],
                             want);
            }
        }
    }
    /* a NaN or infinity makes the whole row NaN in both */
    for (int64_t i = 0; i < 19; i++) x[i] = (float)i;
    x[7] = INFINITY;
    simd->norm_row(x, o, 19, 1e-5f);
    for (int i = 0; i < 19; i++)
        if (!isnan(o[i])) fail_msg("norm with inf: o[%d] = %.9g, expected NaN", i, o[i]);
}

/* Random raw bytes; fp16 scale fields (at f16_off within each block) made finite. */
static void random_blocks(unsigned char *w, size_t bytes, size_t block, const int *f16_off, int n_f16) {
    for (size_t i = 0; i < bytes; i++) w[i] = (unsigned char)qgt_next(&rng);
    for (size_t b = 0; b + block <= bytes; b += block)
        for (int k = 0; k < n_f16; k++) {
            const uint16_t h = (uint16_t)(qgt_next(&rng) % 0x7800); /* below 2^15: finite */
            memcpy(w + b + (size_t)f16_off[k], &h, 2);
        }
}

static void test_to_float(void **state) {
    (void)state;
    static const struct {
        qg_type type;
        int n_f16, off[2];
    } cases[] = {
        {QG_TYPE_F16, 0, {0}},       {QG_TYPE_BF16, 0, {0}},      {QG_TYPE_Q4_0, 1, {0}},
        {QG_TYPE_Q8_0, 1, {0}},      {QG_TYPE_Q4_K, 2, {0, 2}},  {QG_TYPE_Q6_K, 1, {208}},
    };
    enum { K = 1024 };
    unsigned char w[4096];
    float got[K], want[K];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const qg_type_traits *t = qg_type_get(cases[c].type);
        qg_to_float_fn f = simd->to_float(cases[c].type);
        if (!f) { /* the AVX2 table must have them all; others (NEON) may leave some to the reference */
            if (strcmp(simd->name, "avx2") == 0) fail_msg("no SIMD to_float for %s", t->name);
            continue;
        }
        for (int rep = 0; rep < 20; rep++) {
            const int64_t n = t->block_size == 1 ? 1 + (int64_t)(qgt_next(&rng) % K) : K;
            const size_t bytes = qg_row_size(t->type, n);
            random_blocks(w, bytes, t->type_size, cases[c].off, cases[c].n_f16);
            f(w, got, n);
            t->to_float(w, want, n);
            for (int64_t i = 0; i < n; i++)
                if (!same(got[i], want[i]))
                    fail_msg("%s n=%lld element %lld: %.9g, expected %.9g", t->name, (long long)n, (long long)i,
                             got[i], want[i]);
        }
    }
}

static void test_fp8_special(void **state) {
    (void)state;
    const qg_type types[] = {QG_TYPE_F8_E4M3, QG_TYPE_MXFP8_E4M3, QG_TYPE_F8_E5M2, QG_TYPE_MXFP8_E5M2};
    enum { K = 128 };
    unsigned char w[K * 2];
    float y[K];
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const qg_type_traits *t = qg_type_get(types[ti]);
        const bool mx = t->block_size > 1, e4 = ti < 2;
        for (int pos = 0; pos < K; pos += 13) {
            for (int special = 0; special < 3; special++) {
                const size_t bytes = qg_row_size(t->type, K);
                for (size_t i = 0; i < bytes; i++) w[i] = (unsigned char)(qgt_next(&rng) % 0x70); /* finite, >= 0 */
                if (mx)
                    for (int b = 0; b < K / 32; b++) w[b * 33] = (unsigned char)(120 + qgt_next(&rng) % 16);
                for (int i = 0; i < K; i++) y[i] = qgt_normal(&rng);
                const size_t at = mx ? (size_t)(pos / 32) * 33 + 1 + (size_t)(pos % 32) : (size_t)pos;
                /* E4M3: NaN 0x7F / 0xFF; E5M2: +inf 0x7C, -inf 0xFC, NaN 0x7E */
                static const unsigned char e4c[3] = {0x7f, 0xff, 0x7f}, e5c[3] = {0x7c, 0xfc, 0x7e};
                w[at] = e4 ? e4c[special] : e5c[special];
                const float got = simd->vec_dot(t->type)(K, w, y), want = t->vec_dot(K, w, y);
                if (!(isnan(want) ? isnan(got) : got == want))
                    fail_msg("%s code 0x%02x at %d: %.9g, reference %.9g", t->name, w[at], pos, got, want);
            }
        }
    }
}

int main(void) {
    simd = cpu_simd_best();
    if (!simd || !simd->add_row)
        return qgt_skip("no SIMD table with the row functions for this processor (needs AVX2, FMA, F16C)");
    qgt_seed(&rng, 20261123);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_rows), cmocka_unit_test(test_rope_row), cmocka_unit_test(test_norm_row),
        cmocka_unit_test(test_to_float),    cmocka_unit_test(test_fp8_special),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
