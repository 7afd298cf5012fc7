/* MUL_MAT on the CPU devices for every weight type with a dot product.
 *
 * Two references, both in double from the weights' dequantized values w:
 *  - tight: against x converted exactly as the kernel must (the weight's vec_dot_type
 *    from_float, then to_float). Only float rounding inside vec_dot separates the two,
 *    bounded by 2k * FLT_EPSILON * sum|w*xq| (the classic bound for a length-k float
 *    sum of rounded products; it does not depend on the summation order). Q8_1 also
 *    stores s = d * sum(q) per block as fp16, which the type-1 weights (Q4_1, Q5_1)
 *    multiply by their block minimum m: that adds up to |m| |s| 2^-11 per block, with
 *    |m| <= the block's largest |w|;
 *  - loose: against the plain F32 x. Converting x to the partner type moves each x_j by
 *    at most e_j: 0 for F32, |x_j| 2^-11 for F16, |x_j| 2^-8 for BF16, and for the 8-bit
 *    partners (Q8_0, Q8_1, Q8_K) half a quantization step, amax/254, plus the fp16
 *    rounding of the scale felt by up to 127 steps (127 * amax/127 * 2^-11), counted here
 *    as 0.6 * amax/127 with amax the block's largest |x|. So |dst - ref| <= sum |w_j| e_j
 *    plus the tight bound.
 * Shapes cover k = one block, transposed x, and broadcasting of weight planes over x
 * planes in dims 2 and 3. 1, 2 and 3 threads must give the same bits.
 */
#include "ops_harness.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Largest change converting x[0..k) to the partner type vdt can make to each element. */
static void partner_error(qg_type vdt, const float *x, int64_t k, double *e) {
    const qg_type_traits *tv = qg_type_get(vdt);
    if (vdt == QG_TYPE_F32) {
        for (int64_t j = 0; j < k; j++) e[j] = 0.0;
    } else if (vdt == QG_TYPE_F16 || vdt == QG_TYPE_BF16) {
        const double rel = vdt == QG_TYPE_F16 ? 1.0 / 2048.0 : 1.0 / 256.0;
        for (int64_t j = 0; j < k; j++) e[j] = fabs(x[j]) * rel + 6.0e-8;
    } else if (vdt == QG_TYPE_Q8_0 || vdt == QG_TYPE_Q8_1 || vdt == QG_TYPE_Q8_K) {
        const int64_t bs = tv->block_size;
        for (int64_t b = 0; b < k; b += bs) {
            double amax = 0;
            for (int64_t j = b; j < b + bs; j++) amax = fmax(amax, fabs(x[j]));
            for (int64_t j = b; j < b + bs; j++) e[j] = 0.6 * amax / 127.0;
        }
    } else {
        fail_msg("no error model for partner type %s", tv->name);
    }
}

static void check_mul_mat(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const oh_mm_arg *a = p;
    const qg_tensor *w = c->out->src[0], *x = c->out->src[1];
    const qg_type_traits *tw = qg_type_get(a->type), *tv = qg_type_get(tw->vec_dot_type);
    const float *wv = oh_find_leaf(c, w)->vals;
    const int64_t n_out = a->m * a->n * a->b2 * a->b3;
    double *tight = calloc((size_t)n_out, sizeof(double)), *loose = calloc((size_t)n_out, sizeof(double));
    double *ttol = calloc((size_t)n_out, sizeof(double)), *ltol = calloc((size_t)n_out, sizeof(double));
    float *xr = malloc((size_t)a->k * sizeof(float)), *xq = malloc((size_t)a->k * sizeof(float));
    double *e = malloc((size_t)a->k * sizeof(double));
    void *qbuf = malloc(qg_row_size(tw->vec_dot_type, a->k) + 1);
    assert_true(tight && loose && ttol && ltol && xr && xq && e && qbuf);
    for (int64_t i3 = 0; i3 < a->b3; i3++)
        for (int64_t i2 = 0; i2 < a->b2; i2++)
            for (int64_t j = 0; j < a->n; j++) {
                for (int64_t l = 0; l < a->k; l++) xr[l] = (float)oh_at(c, x, l, j, i2, i3);
                tv->from_float(xr, qbuf, a->k);
                tv->to_float(qbuf, xq, a->k);
                partner_error(tw->vec_dot_type, xr, a->k, e);
                const int64_t w2 = i2 / (a->b2 / a->a2), w3 = i3 / (a->b3 / a->a3);
                for (int64_t i = 0; i < a->m; i++) {
                    const float *wr = wv + ((w3 * a->a2 + w2) * a->m + i) * a->k;
                    double st = 0, sl = 0, abs_t = 0, bound = 0, s_term = 0;
                    if (tw->vec_dot_type == QG_TYPE_Q8_1)
                        for (int64_t b = 0; b < a->k; b += 32) {
                            double wmax = 0, sum = 0;
                            for (int64_t l = b; l < b + 32; l++) {
                                wmax = fmax(wmax, fabs(wr[l]));
                                sum += xq[l];
                            }
                            s_term += wmax * (fabs(sum) / 2048.0 + 6.0e-8);
                        }
                    for (int64_t l = 0; l < a->k; l++) {
                        st += (double)wr[l] * xq[l];
                        sl += (double)wr[l] * xr[l];
                        abs_t += fabs((double)wr[l] * xq[l]);
                        bound += fabs((double)wr[l]) * e[l];
                    }
                    const int64_t o = ((i3 * a->b2 + i2) * a->n + j) * a->m + i;
                    tight[o] = st;
                    loose[o] = sl;
                    ttol[o] = 2.0 * (double)a->k * FLT_EPSILON * abs_t + s_term + 1e-30;
                    ltol[o] = ttol[o] + bound;
                }
            }
    char what[96];
    snprintf(what, sizeof what, "MUL_MAT %s %s (tight)", tw->name, dev);
    oh_expect_within(what, r->vals, tight, ttol, n_out);
    snprintf(what, sizeof what, "MUL_MAT %s %s (vs f32 x)", tw->name, dev);
    oh_expect_within(what, r->vals, loose, ltol, n_out);
    free(tight);
    free(loose);
    free(ttol);
    free(ltol);
    free(xr);
    free(xq);
    free(e);
    free(qbuf);
}

static int64_t pick(qgt_rng *r, int64_t max) { return 1 + (int64_t)(qgt_next(r) % (uint64_t)max); }

static void test_mul_mat_all_types(void **state) {
    (void)state;
    qgt_rng rng;
    qgt_seed(&rng, 909);
    int count = 0, tested = 0;
    const qg_type_traits *tab = qg_type_table(&count);
    for (int t = 0; t < count; t++) {
        if (!tab[t].vec_dot) continue;
        const int64_t bs = qg_type_get(tab[t].vec_dot_type)->block_size > tab[t].block_size
                               ? qg_type_get(tab[t].vec_dot_type)->block_size
                               : tab[t].block_size;
        for (int v = 0; v < 3; v++) {
            oh_mm_arg a = {.type = tab[t].type};
            a.k = bs * (v == 0 ? 1 : pick(&rng, bs >= 256 ? 2 : 4)); /* v == 0: one block */
            if (bs == 1) a.k = pick(&rng, 70);
            a.m = pick(&rng, v == 2 ? 40 : 9);
            a.n = pick(&rng, 5);
            a.a2 = v == 1 ? 2 : 1;
            a.a3 = 1;
            a.b2 = a.a2 * (v == 0 ? 1 : pick(&rng, 2));
            a.b3 = v == 2 ? 2 : 1;
            a.x_transposed = v == 1;
            oh_run_all(oh_build_mul_mat, &a, 10000 + (uint64_t)(t * 4 + v), check_mul_mat);
        }
        tested++;
    }
    assert_true(tested >= 15);
}

int main(void) {
    char why[512];
    if (!oh_devices_available(why, sizeof why)) return qgt_skip("%s", why);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mul_mat_all_types),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    oh_shutdown();
    return rc;
}
