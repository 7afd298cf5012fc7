/* MUL_MAT on the OpenCL backend against cpu-ref, for every weight type with a vec_dot:
 * the mat-vec path (n = 1 and n = 5), the tiled path (n = 40, sizes not multiples of
 * the tile), broadcast weight planes over a 4-d x, and a transposed (non-contiguous) x.
 * The OpenCL kernels dequantize weights exactly and multiply in float after rounding x
 * as cpu-ref rounds activations (the weight's vec_dot_type), so results agree to float
 * accumulation error (NMSE ~1e-13) except for Q4_1/Q5_1, where cpu-ref multiplies the
 * weight minimum by the Q8_1 block sum rounded to fp16 (NMSE ~3e-7): NMSE <= 1e-6 is
 * required.
 * With QG_OPENCL_SPECIALIZE=1 the per-type specialised programs are used instead of the
 * generic one (a separate ctest case runs a few types that way).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_opencl_cmp.h"

typedef struct mmcase {
    qg_type w;
    int64_t k, m, n;
    int64_t a2, a3, b2, b3;
    bool transpose_x;
} mmcase;

static qg_tensor *build_mm(qg_context *ctx, const void *arg) {
    const mmcase *c = arg;
    qg_tensor *w = qg_set_name(qg_new_tensor_4d(ctx, c->w, c->k, c->m, c->a2, c->a3), "w");
    qg_tensor *x;
    if (c->transpose_x) {
        qg_tensor *xt = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, c->n, c->k), "xt");
        x = qg_transpose(ctx, xt);
    } else {
        x = qg_set_name(qg_new_tensor_4d(ctx, QG_TYPE_F32, c->k, c->n, c->b2, c->b3), "x");
    }
    return qg_mul_mat(ctx, w, x);
}

static const qg_type all_types[] = {
    QG_TYPE_F32,    QG_TYPE_F16,    QG_TYPE_BF16,   QG_TYPE_Q4_0,    QG_TYPE_Q4_1,       QG_TYPE_Q5_0,
    QG_TYPE_Q5_1,   QG_TYPE_Q8_0,   QG_TYPE_Q2_K,   QG_TYPE_Q3_K,    QG_TYPE_Q4_K,       QG_TYPE_Q5_K,
    QG_TYPE_Q6_K,   QG_TYPE_IQ4_NL, QG_TYPE_IQ4_XS, QG_TYPE_TQ1_0,   QG_TYPE_TQ2_0,      QG_TYPE_MXFP4,
    QG_TYPE_NVFP4,  QG_TYPE_F8_E4M3, QG_TYPE_F8_E5M2, QG_TYPE_MXFP8_E4M3, QG_TYPE_MXFP8_E5M2,
};
static const qg_type few_types[] = {QG_TYPE_F16, QG_TYPE_Q4_K};

static bool specialize(void) {
    const char *s = getenv("QG_OPENCL_SPECIALIZE");
    return s && strcmp(s, "1") == 0;
}

static void run_type(qg_type t) {
    const int64_t k = 512;
    const mmcase cases[] = {
        {t, k, 37, 1, 1, 1, 1, 1, false},
        {t, k, 19, 5, 1, 1, 1, 1, false},
        {t, k, 45, 40, 1, 1, 1, 1, false},
        {t, k, 9, 3, 2, 1, 4, 3, false},
        {t, k, 11, 7, 1, 1, 1, 1, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[96];
        const mmcase *c = &cases[i];
        snprintf(what, sizeof what, "mul_mat %s m%lld n%lld planes %lldx%lld%s", qg_type_name(t), (long long)c->m,
                 (long long)c->n, (long long)c->b2, (long long)c->b3, c->transpose_x ? " x^T" : "");
        cmp_check(what, build_mm, c, 1e-6, false);
    }
}

static void test_mul_mat(void **state) {
    (void)state;
    if (specialize()) {
        for (size_t i = 0; i < sizeof few_types / sizeof few_types[0]; i++) run_type(few_types[i]);
    } else {
        for (size_t i = 0; i < sizeof all_types / sizeof all_types[0]; i++) run_type(all_types[i]);
    }
}

/* Every type the core gives a vec_dot is covered above (so new types are not forgotten). */
static void test_coverage(void **state) {
    (void)state;
    int n = 0;
    const qg_type_traits *rows = qg_type_table(&n);
    for (int i = 0; i < n; i++) {
        if (!rows[i].vec_dot) continue;
        bool found = false;
        for (size_t j = 0; j < sizeof all_types / sizeof all_types[0]; j++) found |= all_types[j] == rows[i].type;
        if (!found) fail_msg("type %s has a vec_dot but no OpenCL mul_mat case", rows[i].name);
    }
}

int main(void) {
    char why[512];
    const char *dev = getenv("QG_OPENCL_DEVICE");
    if (qg_plugins_load_default() != QG_OK) return qgt_skip("no plugins: %s", qg_last_error());
    if (!cmp_open(dev && *dev ? dev : "opencl0", why, sizeof why)) return qgt_skip("%s", why);
    if (specialize() && qg_backend_set_option(cmp_be[1], "specialize", "1") != QG_OK)
        return qgt_skip("specialize option: %s", qg_last_error());
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_coverage), cmocka_unit_test(test_mul_mat)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cmp_close();
    return rc;
}
