/* MUL_MAT on device "cpu" (SIMD kernels) against "cpu-ref" (scalar oracle), through the
 * public scheduler API, for every weight type that has a SIMD dot product.
 *
 * Shapes: n = 1, 2, 7, 32, 67 activation columns; m = 37 and 70 weight rows (not
 * multiples of the 16-row chunks); k = one block of the type (or of its partner type,
 * whichever is larger) and several blocks; the plain types also at k = 37. Weights are
 * random values quantized with the type's own from_float; activations random floats.
 * "cpu" runs with 2 threads, "cpu-ref" with 1.
 *
 * Both devices quantize the activations with bit-exact quantizers, so each output
 * element differs only by the rounding inside the dot product:
 *  - K-quants and IQ4_XS: none (the SIMD dot products reproduce the reference's float
 *    evaluation), so outputs must be bitwise equal;
 *  - the others: |cpu - ref| <= 2 (blocks + 16) FLT_EPSILON M, with M = sum over the row
 *    of |w| |xq| (xq: the activation as quantized; plus |block min| |xq| for Q4_1/Q5_1),
 *    the bound argued in test_cpu_simd.c.
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

static qg_backend *dev_fast, *dev_ref;
static qgt_rng rng;

static bool exact_type(qg_type t) {
    return t == QG_TYPE_Q2_K || t == QG_TYPE_Q3_K || t == QG_TYPE_Q4_K || t == QG_TYPE_Q5_K || t == QG_TYPE_Q6_K ||
           t == QG_TYPE_IQ4_XS;
}

/* out [m, n] = mul_mat(w [k, m] of type with bytes wq, x F32 [k, n]) on a device. */
static void run_mm(qg_backend *be, qg_type type, int64_t k, int64_t m, int64_t n, const void *wq, const float *x,
                   float *out) {
    qg_context *ctx = NULL;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *w = qg_new_tensor_2d(ctx, type, k, m);
    qg_tensor *xt = qg_new_tensor_2d(ctx, QG_TYPE_F32, k, n);
    qg_tensor *y = qg_mul_mat(ctx, w, xt);
    assert_non_null(y);
    qg_buffer *buf = NULL;
    qg_graph *g = NULL;
    qg_sched *s = NULL;
    assert_int_equal(qg_backend_alloc_ctx_tensors(be, ctx, &buf), QG_OK);
    assert_int_equal(qg_tensor_set(w, wq, 0, qg_nbytes(w)), QG_OK);
    assert_int_equal(qg_tensor_set(xt, x, 0, qg_nbytes(xt)), QG_OK);
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, y), QG_OK);
    assert_int_equal(qg_sched_new(&be, 1, &s), QG_OK);
    qg_status st = qg_sched_compute(s, g);
    if (st != QG_OK) fail_msg("%s: %s", qg_backend_name(be), qg_last_error());
    assert_int_equal(qg_tensor_get(y, out, 0, qg_nbytes(y)), QG_OK);
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(buf);
    qg_context_free(ctx);
}

/* Tolerance basis M for output (i, j). */
static double magnitude(const qg_type_traits *t, const unsigned char *wq, const float *wf, const float *xq, int64_t k,
                        int64_t i) {
    const bool type1 = t->type == QG_TYPE_Q4_1 || t->type == QG_TYPE_Q5_1;
    const unsigned char *row = wq + (size_t)i * qg_row_size(t->type, k);
    double m = 0;
    for (int64_t l = 0; l < k; l++) {
        double a = fabs((double)wf[i * k + l]);
        if (type1) {
            uint16_t h;
            memcpy(&h, row + (size_t)(l / 32) * t->type_size + 2, 2);
            a += fabs((double)qg_fp16_to_fp32(h));
        }
        m += a * fabs((double)xq[l]);
    }
    return m;
}

static void check_case(const qg_type_traits *t, int64_t k, int64_t m, int64_t n) {
    const qg_type_traits *tv = qg_type_get(t->vec_dot_type);
    const size_t wbytes = qg_row_size(t->type, k) * (size_t)m;
    unsigned char *wq = malloc(wbytes);
    float *wf = malloc((size_t)(k * m) * sizeof(float)), *x = malloc((size_t)(k * n) * sizeof(float));
    float *got = malloc((size_t)(m * n) * sizeof(float)), *ref = malloc((size_t)(m * n) * sizeof(float));
    float *xq = malloc((size_t)k * sizeof(float));
    unsigned char *qbuf = malloc(qg_row_size(t->vec_dot_type, k) + 1);
    assert_true(wq && wf && x && got && ref && xq && qbuf);
    for (int64_t i = 0; i < k * m; i++) wf[i] = qgt_normal(&rng) * (i % 11 == 0 ? 2.0f : 0.5f);
    for (int64_t i = 0; i < m; i++) t->from_float(wf + i * k, wq + (size_t)i * qg_row_size(t->type, k), k);
    t->to_float(wq, wf, k * m);
    qgt_fill_uniform(&rng, x, k * n, -2.0f, 2.0f);

    run_mm(dev_fast, t->type, k, m, n, wq, x, got);
    run_mm(dev_ref, t->type, k, m, n, wq, x, ref);

    const int64_t blocks = t->block_size == 1 ? k / 32 : k / t->block_size;
    for (int64_t j = 0; j < n; j++) {
        tv->from_float(x + j * k, qbuf, k);
        tv->to_float(qbuf, xq, k);
        for (int64_t i = 0; i < m; i++) {
            const float a = got[j * m + i], b = ref[j * m + i];
            if (exact_type(t->type)) {
                if (memcmp(&a, &b, sizeof a) != 0)
                    fail_msg("%s k=%lld m=%lld n=%lld: out[%lld,%lld] cpu %.9g != cpu-ref %.9g", t->name, (long long)k,
                             (long long)m, (long long)n, (long long)i, (long long)j, a, b);
                continue;
            }
            const double tol = 2.0 * (double)(blocks + 16) * FLT_EPSILON * magnitude(t, wq, wf, xq, k, i);
            if (!(fabs((double)a - (double)b) <= tol))
                fail_msg("%s k=%lld m=%lld n=%lld: out[%lld,%lld] cpu %.9g, cpu-ref %.9g, diff %.3g > %.3g", t->name,
                         (long long)k, (long long)m, (long long)n, (long long)i, (long long)j, a, b,
                         fabs((double)a - (double)b), tol);
        }
    }
    free(wq);
    free(wf);
    free(x);
    free(got);
    free(ref);
    free(xq);
    free(qbuf);
}

static void test_mul_mat(void **state) {
    (void)state;
    const cpu_simd_fns *simd = cpu_simd_avx2();
    int count = 0, n_types = 0;
    const qg_type_traits *table = qg_type_table(&count);
    static const int64_t ns[] = {1, 2, 7, 32, 67};
    for (int ti = 0; ti < count; ti++) {
        const qg_type_traits *t = &table[ti];
        if (!t->vec_dot || !t->from_float || !simd->vec_dot(t->type)) continue;
        const int64_t pb = qg_type_get(t->vec_dot_type)->block_size;
        const int64_t unit = t->block_size > pb ? t->block_size : pb;
        int64_t ks[3] = {unit, unit == 1 ? 100 : (unit >= 256 ? 3 * unit : 8 * unit), unit == 1 ? 37 : 0};
        for (int ki = 0; ki < 3; ki++) {
            if (ks[ki] == 0) continue;
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) check_case(t, ks[ki], ni % 2 ? 70 : 37, ns[ni]);
        }
        n_types++;
    }
    printf("mul_mat cpu vs cpu-ref: %d weight types with SIMD dot products checked\n", n_types);
    assert_true(n_types >= 20);
}

int main(void) {
    const cpu_simd_fns *simd = cpu_simd_avx2();
    if (!simd) return qgt_skip("no SIMD code is compiled for this processor architecture (skipped: avx2)");
    if (!cpu_simd_avx2_usable()) return qgt_skip("this processor lacks AVX2/FMA/F16C (skipped: avx2 paths)");
    if (qg_backend_open("cpu", &dev_fast) != QG_OK || qg_backend_open("cpu-ref", &dev_ref) != QG_OK)
        return qgt_skip("devices cpu and cpu-ref cannot be opened: %s", qg_last_error());
    if (qg_backend_set_option(dev_fast, "threads", "2") != QG_OK ||
        qg_backend_set_option(dev_ref, "threads", "1") != QG_OK) {
        fprintf(stderr, "cannot set thread counts: %s\n", qg_last_error());
        return 1;
    }
    qgt_seed(&rng, 5);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_mul_mat)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qg_backend_free(dev_fast);
    qg_backend_free(dev_ref);
    return rc;
}
#endif
