/* The tiled mat-mat of device "cpu" (simd_avx2_gemm*.c, used from the type's min_cols
 * activation columns, which the test asks the same table for) against the per-column dot
 * products, through the public ops API.
 *
 * For every weight type, each output is compared with the type table's scalar vec_dot of
 * the uploaded weight row and the activation column quantized by the partner type's
 * from_float (what cpu-ref computes): K-quants and IQ4_XS must match bitwise (the tiled path keeps
 * their double evaluation), the other types within 2 (blocks + 16) FLT_EPSILON M, with
 * M = sum |w| |xq| (plus |block min| |xq| for Q4_1/Q5_1), the bound of
 * test_cpu_simd_mul_mat.c. The harness also runs cpu-ref, and 1, 2 and 3 threads must give
 * the same bits. Shapes: row counts that leave partial register tiles and panels, k with a
 * partial 256-element group (legacy types), column counts that are odd and that make
 * the column split kick in, transposed x, weight planes broadcast over x planes, and
 * for Q4_1, Q8_0 and Q6_K enough rows (1045) for work units of several panels run
 * together, the last one partial (ctest runs it twice: with the default panel count, and
 * as test_cpu_gemm_panels4 with QG_CPU_GEMM_PANELS=4).
 */
#include "ops_harness.h"
#ifndef QG_TEST_NO_CPU_SIMD
#include "backends/cpu/simd.h"
#endif

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static bool exact_type(qg_type t) {
    return t == QG_TYPE_Q2_K || t == QG_TYPE_Q3_K || t == QG_TYPE_Q4_K || t == QG_TYPE_Q5_K || t == QG_TYPE_Q6_K ||
           t == QG_TYPE_IQ4_XS;
}

/* sum |w| |xq| over a row (with |block min| added for the type-1 weights). */
static double magnitude(const qg_type_traits *t, const unsigned char *row, const float *wf, const float *xq,
                        int64_t k) {
    const bool type1 = t->type == QG_TYPE_Q4_1 || t->type == QG_TYPE_Q5_1;
    double m = 0;
    for (int64_t l = 0; l < k; l++) {
        double a = fabs((double)wf[l]);
        if (type1) {
            uint16_t h;
            memcpy(&h, row + (size_t)(l / 32) * t->type_size + 2, 2);
            a += fabs((double)qg_fp16_to_fp32(h));
        }
        m += a * fabs((double)xq[l]);
    }
    return m;
}

static void check(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const oh_mm_arg *a = p;
    const qg_tensor *x = c->out->src[1];
    const oh_leaf *wl = oh_find_leaf(c, c->out->src[0]);
    const qg_type_traits *tw = qg_type_get(a->type), *tv = qg_type_get(tw->vec_dot_type);
    const size_t rs = qg_row_size(a->type, a->k);
    float *xr = malloc((size_t)a->k * sizeof(float)), *xq = malloc((size_t)a->k * sizeof(float));
    void *qx = malloc(qg_row_size(tw->vec_dot_type, a->k));
    assert_true(xr && xq && qx);
    const int64_t blocks = a->k / 32;
    int bad = 0;
    for (int64_t i3 = 0; i3 < a->b3; i3++)
        for (int64_t i2 = 0; i2 < a->b2; i2++)
            for (int64_t j = 0; j < a->n; j++) {
                for (int64_t l = 0; l < a->k; l++) xr[l] = (float)oh_at(c, x, l, j, i2, i3);
                tv->from_float(xr, qx, a->k);
                tv->to_float(qx, xq, a->k);
                const int64_t w2 = i2 / (a->b2 / a->a2), w3 = i3 / (a->b3 / a->a3);
                for (int64_t i = 0; i < a->m; i++) {
                    const int64_t wr = (w3 * a->a2 + w2) * a->m + i;
                    const unsigned char *row = (const unsigned char *)wl->bytes + (size_t)wr * rs;
                    const float want = tw->vec_dot(a->k, row, qx);
                    const float got = r->vals[((i3 * a->b2 + i2) * a->n + j) * a->m + i];
                    bool ok;
                    double tol = 0;
                    if (exact_type(a->type)) {
                        ok = memcmp(&got, &want, sizeof got) == 0;
                    } else {
                        tol = 2.0 * (double)(blocks + 16) * FLT_EPSILON *
                              magnitude(tw, row, wl->vals + (size_t)wr * (size_t)a->k, xq, a->k);
                        ok = fabs((double)got - (double)want) <= tol;
                    }
                    if (!ok && bad++ < 5)
                        print_error("%s %s k=%lld m=%lld n=%lld: out[%lld,%lld,%lld,%lld] = %.9g, vec_dot %.9g (tol %.3g)\n",
                                    tw->name, dev, (long long)a->k, (long long)a->m, (long long)a->n, (long long)i,
                                    (long long)j, (long long)i2, (long long)i3, got, want, tol);
                }
            }
    free(xr);
    free(xq);
    free(qx);
    if (bad) fail_msg("%s on %s: %d outputs differ from vec_dot", tw->name, dev, bad);
}

static const qg_type types[] = {QG_TYPE_Q4_0, QG_TYPE_Q4_1, QG_TYPE_Q5_0, QG_TYPE_Q5_1, QG_TYPE_Q8_0, QG_TYPE_IQ4_NL,
                                QG_TYPE_MXFP4, QG_TYPE_Q2_K, QG_TYPE_Q3_K, QG_TYPE_Q4_K, QG_TYPE_Q5_K, QG_TYPE_Q6_K,
                                QG_TYPE_IQ4_XS};

static void test_gemm_types(void **state) {
    (void)state;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const qg_type_traits *tw = qg_type_get(types[t]);
        const bool kq = tw->block_size == 256;
        /* k in blocks: one block; several with a partial 256-group for the 32-blocks */
        const int64_t unit = kq ? 256 : 32;
        /* n at and above the tiled path's threshold for the type */
        const cpu_gemm_fns *gf = cpu_simd_best()->gemm;
        const int64_t n0 = gf->min_cols ? gf->min_cols(gf->find(types[t])) : 64;
        /* several panels per work unit: the code is the same for every type but for the
         * kernel and the finish, so three types (legacy type-1, signed, K-quant) cover it */
        const bool many = types[t] == QG_TYPE_Q4_1 || types[t] == QG_TYPE_Q8_0 || types[t] == QG_TYPE_Q6_K;
        const oh_mm_arg cases[] = {
            {types[t], unit * 1, many ? 1045 : 5, n0, 1, 1, 1, 1, false},
            {types[t], unit * (kq ? 2 : 9), 37, n0 + 1, 1, 1, 1, 1, false},
            {types[t], unit * (kq ? 3 : 17), 17, n0 + 33, 1, 1, 1, 1, false},
            {types[t], unit * (kq ? 1 : 7), 3, n0 + 6, 1, 1, 1, 1, true},
            {types[t], unit * (kq ? 2 : 8), 20, n0 + 3, 2, 1, 4, 2, false},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            oh_run_all(oh_build_mul_mat, &cases[i], 4400 + 10 * t + i, check);
    }
}

int main(void) {
#ifdef QG_TEST_NO_CPU_SIMD
    return qgt_skip("the CPU plugin (and its SIMD code) is not part of this build");
#else
    const cpu_simd_fns *simd = cpu_simd_best();
    if (!simd || !simd->gemm) return qgt_skip("no tiled mat-mat for this processor (needs AVX2, FMA, F16C)");
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        if (!simd->gemm->find(types[t])) {
            fprintf(stderr, "no tiled mat-mat for %s\n", qg_type_get(types[t])->name);
            return 1;
        }
    char why[512];
    if (!oh_devices_available(why, sizeof why)) return qgt_skip("%s", why);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_gemm_types)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    oh_shutdown();
    return rc;
#endif
}
