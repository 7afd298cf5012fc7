/* The AVX2 MXFP8 dot products against the scalar references for every E8M0 block scale
 * (0, whose 2^-127 is a subnormal float, to 254, and 0xFF, NaN): the SIMD code reads the
 * scale from a 256-entry table, so each entry is checked, for both element formats.
 *
 * Rows of 4 blocks of random finite codes: either every block has scale e, or the block
 * under test has scale e and the others a middle scale but zero activations (so that a
 * wrong tiny scale cannot hide under the other blocks); normal activations, scaled by
 * 2^-60 for e >= 200 so that no partial sum leaves the float range. Both sides sum exact
 * products in different orders and precisions; the SIMD side may also round block sums
 * that fall below the normal range (scale 2^-127), so the bound is
 * 2 * (blocks + 16) * FLT_EPSILON * M + 16 * 2^-149 with M = sum |w| |y|. Scale 0xFF must
 * give NaN like the reference.
 * Without the AVX2 table (other processors or builds) the test prints SKIPPED, exits 77.
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

enum { BLOCKS = 4, K = 32 * BLOCKS };

static const cpu_simd_fns *simd;
static qgt_rng rng;

static void check_scales(qg_type type) {
    const qg_type_traits *t = qg_type_get(type);
    const bool e4 = type == QG_TYPE_MXFP8_E4M3;
    qg_vec_dot_fn fast = simd->vec_dot(type);
    assert_non_null(fast);
    unsigned char w[BLOCKS * 33];
    float y[K], wf[K];
    for (int e = 0; e < 256; e++) {
        for (int at = -1; at < BLOCKS; at++) { /* -1: every block has scale e */
            for (int i = 0; i < BLOCKS * 33; i++) {
                unsigned char c = (unsigned char)qgt_next(&rng);
                if (e4 && (c & 0x7f) == 0x7f) c ^= 1;      /* no E4M3 NaN */
                if (!e4 && (c & 0x7c) == 0x7c) c &= 0xfb;  /* no E5M2 inf/NaN */
                w[i] = c;
            }
            for (int b = 0; b < BLOCKS; b++) w[b * 33] = (unsigned char)(at < 0 || b == at ? e : 120 + b);
            const float ys = e >= 200 ? 0x1p-60f : 1.0f;
            for (int i = 0; i < K; i++) y[i] = at < 0 || i / 32 == at ? qgt_normal(&rng) * ys : 0.0f;
            const float ref = t->vec_dot(K, w, y), got = fast(K, w, y);
            if (e == 255) {
                if (!isnan(got) || !isnan(ref))
                    fail_msg("%s scale 0xFF in block %d (-1: all): simd %.9g, reference %.9g (both must be NaN)",
                             t->name, at, got, ref);
                continue;
            }
            t->to_float(w, wf, K);
            double m = 0;
            for (int i = 0; i < K; i++) m += fabs((double)wf[i]) * fabs((double)y[i]);
            const double tol = 2.0 * (BLOCKS + 16) * FLT_EPSILON * m + 16.0 * 0x1p-149;
            if (!isfinite(ref) || !(fabs((double)got - (double)ref) <= tol))
                fail_msg("%s scale %d in block %d (-1: all): simd %.9g, reference %.9g, diff %.3g > tol %.3g", t->name,
                         e, at, got, ref, fabs((double)got - (double)ref), tol);
        }
    }
}

static void test_mxfp8_e4m3_scales(void **state) {
    (void)state;
    check_scales(QG_TYPE_MXFP8_E4M3);
}

static void test_mxfp8_e5m2_scales(void **state) {
    (void)state;
    check_scales(QG_TYPE_MXFP8_E5M2);
}

int main(void) {
    simd = cpu_simd_best();
    if (!simd || !simd->vec_dot(QG_TYPE_MXFP8_E4M3) || !simd->vec_dot(QG_TYPE_MXFP8_E5M2))
        return qgt_skip("no SIMD MXFP8 dot products for this processor (needs AVX2, FMA, F16C)");
    qgt_seed(&rng, 20261123);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mxfp8_e4m3_scales),
        cmocka_unit_test(test_mxfp8_e5m2_scales),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
