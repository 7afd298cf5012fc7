/* The CPU backend's SIMD functions against the scalar references of the type table.
 *
 * vec_dot: for every weight type with a SIMD dot product, rows of random raw blocks (all
 * level codes, including -128 in Q8_0 and the largest K-quant sub-block scales; the
 * fp16/E8M0 scale fields are replaced by random finite ones so that no inf*0 can make
 * the two summation orders disagree), rows quantized from random floats, and saturated
 * rows (every level at its extreme against activations all +127 or all -127), against
 * activation rows in the partner type, at several lengths (one block, a few blocks,
 * many blocks; the plain types also at lengths that are not a multiple of 8).
 *  - K-quants and IQ4_XS: the SIMD code sums each super-block exactly in integers and
 *    does the float part in double exactly as the reference, so the results must be
 *    bitwise equal.
 *  - the other types: both sum exact per-block integer (or exact float-product) terms,
 *    in different orders and precisions. With M = sum over elements of |w|*|y| (plus
 *    |block min|*|y| for the type-1 Q4_1/Q5_1), both are within (chain length) * eps * M
 *    of the exact value, where the chain is at most (blocks + 8) roundings of one
 *    accumulator (per-lane chains plus the final horizontal sum, and the scale products).
 *    The test allows |simd - ref| <= 2 * (blocks + 16) * FLT_EPSILON * M (blocks = k/32
 *    for the plain types), far below what any wrong level, sign or scale would give on
 *    the short rows.
 * from_float: the SIMD quantizers of the partner types must be bit-exact with the
 *    scalar ones, on random rows and on rows full of rounding ties, NaN, infinities,
 *    subnormals and huge values.
 * vec_dot4 (one weight row against four activation rows) must give, bit for bit, what
 *    vec_dot gives for each of the four.
 * E4M3/E5M2: every one of the 256 codes must convert exactly (NaN stays NaN).
 * Row math (exp, SILU, GELU): against double references, bounds in test_rows. SOFT_MAX
 *    and RMS_NORM on the fast device are checked by test_ops against double references.
 *
 * Where the build has no SIMD code for this processor architecture, or the processor
 * lacks AVX2/FMA/F16C, the test prints which paths it skipped and exits 77.
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
#include "simd_case_data.h"
#include "simd_weight_cases.h"

static const cpu_simd_fns *simd;
static qgt_rng rng;

static bool is_plain(const qg_type_traits *t) { return t->block_size == 1; }





static void check_dot(const wcase *c, int64_t k, int mode, int sat) {
    const qg_type_traits *t = qg_type_get(c->type);
    qg_vec_dot_fn fast = simd->vec_dot(c->type);
    assert_non_null(fast);
    unsigned char *w = malloc(qg_row_size(c->type, k)), *y = malloc(qg_row_size(t->vec_dot_type, k));
    qgt_make_weights(&rng, c, k, mode, w);
    qgt_make_act(&rng, t->vec_dot_type, k, sat, 0, y);
    const float ref = t->vec_dot(k, w, y), got = fast(k, w, y);
    if (c->exact || isnan(ref)) {
        if (!(memcmp(&ref, &got, sizeof ref) == 0 || (isnan(ref) && isnan(got))))
            fail_msg("%s k=%lld mode=%d sat=%d: simd %.9g, scalar %.9g (must be equal)", t->name, (long long)k, mode,
                     sat, got, ref);
    } else {
        const int64_t blocks = is_plain(t) ? k / 32 : k / t->block_size;
        const double tol = 2.0 * (double)(blocks + 16) * FLT_EPSILON * qgt_dot_magnitude(t, c->min_off, w, y, k);
        if (!(fabs((double)got - (double)ref) <= tol) && !(isinf(ref) && got == ref))
            fail_msg("%s k=%lld mode=%d sat=%d: simd %.9g, scalar %.9g, diff %.3g > tol %.3g", t->name, (long long)k,
                     mode, sat, got, ref, fabs((double)got - (double)ref), tol);
    }
    free(w);
    free(y);
}

static void test_vec_dot(void **state) {
    (void)state;
    int n_checked = 0;
    for (int ci = 0; ci < N_CASES; ci++) {
        const wcase *c = &cases[ci];
        const qg_type_traits *t = qg_type_get(c->type);
        const int64_t bs = is_plain(t) ? 1 : t->block_size;
        const qg_type_traits *tv = qg_type_get(t->vec_dot_type);
        const int64_t unit = bs > tv->block_size ? bs : tv->block_size;
        int64_t ks[] = {unit, 3 * unit, 4096 / unit * unit > unit ? 4096 / unit * unit : 16 * unit, 0, 0};
        if (is_plain(t) && tv->block_size == 1) {
            ks[3] = 37;
            ks[4] = 1005;
        }
        if (c->type == QG_TYPE_F8_E4M3 || c->type == QG_TYPE_F8_E5M2) {
            ks[3] = 13;
            ks[4] = 1003;
        }
        for (int ki = 0; ki < 5; ki++) {
            if (ks[ki] == 0) continue;
            for (int rep = 0; rep < 4; rep++)
                for (int mode = 0; mode < 2; mode++) check_dot(c, ks[ki], mode, 0);
            check_dot(c, ks[ki], 2, 127);
            check_dot(c, ks[ki], 2, -127);
            n_checked++;
        }
    }
    printf("vec_dot: %d type/length combinations checked against the scalar references\n", n_checked);
}

/* vec_dot4 must return exactly what vec_dot returns for each of its four columns. */
static void test_vec_dot4(void **state) {
    (void)state;
    int n_types = 0;
    for (int ci = 0; ci < N_CASES; ci++) {
        const wcase *c = &cases[ci];
        cpu_dot4_fn dot4 = simd->vec_dot4(c->type);
        if (!dot4) continue;
        const qg_type_traits *t = qg_type_get(c->type);
        const qg_type_traits *tv = qg_type_get(t->vec_dot_type);
        const int64_t unit = t->block_size > tv->block_size ? t->block_size : tv->block_size;
        const int64_t ks[3] = {unit, 5 * unit, is_plain(t) ? 1003 : 17 * unit};
        for (int ki = 0; ki < 3; ki++) {
            const int64_t k = ks[ki];
            const size_t yrow = qg_row_size(t->vec_dot_type, k) + 24; /* a stride that is not the row size */
            unsigned char *w = malloc(qg_row_size(c->type, k)), *y = calloc(4, yrow);
            qgt_make_weights(&rng, c, k, ki == 2 ? 1 : 0, w);
            for (int col = 0; col < 4; col++) qgt_make_act(&rng, t->vec_dot_type, k, 0, 0, y + (size_t)col * yrow);
            float out[4];
            dot4(k, w, y, yrow, out);
            for (int col = 0; col < 4; col++) {
                const float one = simd->vec_dot(c->type)(k, w, y + (size_t)col * yrow);
                if (memcmp(&one, &out[col], sizeof one) != 0 && !(isnan(one) && isnan(out[col])))
                    fail_msg("%s k=%lld column %d: vec_dot4 %.9g, vec_dot %.9g", t->name, (long long)k, col, out[col],
                             one);
            }
            free(w);
            free(y);
        }
        n_types++;
    }
    printf("vec_dot4: %d types checked against vec_dot\n", n_types);
}

/* exp, SILU, GELU rows against double-precision references on a dense grid over
 * [-110, 110] plus NaN and infinities:
 *  - exp: within 2 ulp (of the float result; subnormal results within 2 units of 2^-149),
 *    infinity above the float range, NaN for NaN;
 *  - SILU x/(1+e^-x): relative error below 8 eps (one exp, one add, one divide);
 *  - GELU x/(1+e^-2z), z = sqrt(2/pi)(x + 0.044715 x^3): z in float carries about 3 eps
 *    of relative error, which e^-2z amplifies by |2z|, so relative error below
 *    (6|z| + 8) eps. The reference uses the same identity in double, which unlike the
 *    tanh form stays accurate where tanh z is close to -1.
 * Where the result is subnormal, e^t itself is a subnormal float with an absolute error
 * of up to 2^-150, multiplied by |x| <= 110: an absolute tolerance of 2^-140 covers it. */
static void test_rows(void **state) {
    (void)state;
    const int n = 200003;
    float *x = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
    float *g = malloc((size_t)n * sizeof(float)), *si = malloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) x[i] = -110.0f + 220.0f * (float)i / (float)n;
    x[7] = NAN;
    x[8] = INFINITY;
    x[9] = -INFINITY;
    simd->exp_row(x, y, n);
    simd->gelu_row(x, g, n);
    simd->silu_row(x, si, n);
    for (int i = 0; i < n; i++) {
        const double v = x[i];
        if (isnan(v)) {
            assert_true(isnan(y[i]) && isnan(g[i]) && isnan(si[i]));
            continue;
        }
        const double e = exp(v);
        if (e > FLT_MAX) {
            if (!isinf(y[i])) fail_msg("exp(%g) = %g, expected inf", v, y[i]);
        } else {
            const double ulp = e < FLT_MIN ? 0x1p-149 : e * FLT_EPSILON;
            if (!(fabs(y[i] - e) <= 2 * ulp)) fail_msg("exp(%.9g) = %.9g, expected %.9g", v, y[i], e);
        }
        if (isinf(v)) continue;
        const double rs = v / (1.0 + exp(-v));
        if (!(fabs(si[i] - rs) <= 8 * FLT_EPSILON * fabs(rs) + 0x1p-140))
            fail_msg("silu(%.9g) = %.9g, expected %.9g", v, si[i], rs);
        const double z = 0.79788456080286535588 * (v + 0.044715 * v * v * v);
        const double rg = v / (1.0 + exp(-2.0 * z));
        if (!(fabs(g[i] - rg) <= (6 * fabs(z) + 8) * FLT_EPSILON * fabs(rg) + 0x1p-140))
            fail_msg("gelu(%.9g) = %.9g, expected %.9g", v, g[i], rg);
    }
    free(x);
    free(y);
    free(g);
    free(si);
}

/* Every FP8 code alone against y = 1 must give exactly its value. */
static void test_fp8_codes(void **state) {
    (void)state;
    const qg_type types[2] = {QG_TYPE_F8_E4M3, QG_TYPE_F8_E5M2};
    for (int ti = 0; ti < 2; ti++) {
        const qg_type_traits *t = qg_type_get(types[ti]);
        for (int code = 0; code < 256; code++) {
            uint8_t x[16] = {0};
            float y[16] = {0};
            x[code % 16] = (uint8_t)code;
            y[code % 16] = 1.0f;
            float want;
            t->to_float(&x[code % 16], &want, 1);
            const float got = simd->vec_dot(types[ti])(16, x, y);
            if (!(got == want || (isnan(got) && isnan(want))))
                fail_msg("%s code 0x%02x: simd %.9g, expected %.9g", t->name, code, got, want);
        }
    }
}

/* Rows for the quantizer checks: random, ties, and special values. */
static void make_quant_row(float *x, int64_t k, int kind) {
    for (int64_t i = 0; i < k; i++) {
        switch (kind) {
        case 0: x[i] = qgt_normal(&rng) * 3.0f; break;
        case 1: /* amax 127 in every block: d = 1, so halves are exact ties */
            x[i] = (i % 32 == 0) ? 127.0f : (float)((int)(qgt_next(&rng) % 253) - 126) * 0.5f;
            break;
        case 2: {
            static const float sp[] = {0.0f, -0.0f, 1e-40f, -1e-45f, 65504.0f, 65520.0f, -1e30f, 3.4e38f,
                                       0.5f, -0.5f, 1.5f, 2.5f, 1e-8f, 6.1e-5f, 6.0e-8f, 2.98e-8f};
            x[i] = sp[qgt_next(&rng) % 16] * (qgt_next(&rng) % 3 == 0 ? qgt_normal(&rng) : 1.0f);
            if (qgt_next(&rng) % 29 == 0) x[i] = NAN;
            if (qgt_next(&rng) % 31 == 0) x[i] = (qgt_next(&rng) & 1) ? INFINITY : -INFINITY;
            break;
        }
        default: x[i] = (float)(i % 64) * 1e-3f * ((i & 1) ? -1.0f : 1.0f); break;
        }
    }
}

static void test_quantizers(void **state) {
    (void)state;
    const qg_type partners[] = {QG_TYPE_Q8_0, QG_TYPE_Q8_1, QG_TYPE_Q8_K, QG_TYPE_F16, QG_TYPE_BF16};
    const int64_t k = 1024;
    float *x = malloc(k * sizeof(float));
    unsigned char *a = malloc(2 * 1024 * 4), *b = malloc(2 * 1024 * 4);
    for (size_t pi = 0; pi < sizeof partners / sizeof partners[0]; pi++) {
        const qg_type_traits *t = qg_type_get(partners[pi]);
        qg_from_float_fn fast = simd->from_float(partners[pi]);
        assert_non_null(fast);
        for (int kind = 0; kind < 4; kind++)
            for (int rep = 0; rep < 8; rep++) {
                make_quant_row(x, k, kind);
                const int64_t len = t->block_size == 1 ? k - rep : k; /* tails for the plain types */
                const size_t bytes = qg_row_size(t->type, len);
                memset(a, 0x5A, bytes);
                memset(b, 0xA5, bytes);
                t->from_float(x, a, len);
                fast(x, b, len);
                for (size_t i = 0; i < bytes; i++)
                    if (a[i] != b[i]) fail_msg("%s kind %d rep %d: byte %zu differs (scalar 0x%02x, simd 0x%02x)",
                                               t->name, kind, rep, i, a[i], b[i]);
            }
    }
    free(x);
    free(a);
    free(b);
}

int main(void) {
    simd = cpu_simd_avx2();
    if (!simd) return qgt_skip("no SIMD code is compiled for this processor architecture (skipped: avx2)");
    if (!cpu_simd_avx2_usable()) return qgt_skip("this processor lacks AVX2/FMA/F16C (skipped: avx2 paths)");
    qgt_seed(&rng, 20261122);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vec_dot),
        cmocka_unit_test(test_vec_dot4),
        cmocka_unit_test(test_fp8_codes),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_quantizers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
