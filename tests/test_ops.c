/* Element-wise and row-wise ops on the CPU devices (cpu-ref and cpu), against double
 * precision references written here: ADD/MUL with broadcasting, SCALE, SILU, GELU,
 * RMS_NORM, NORM, SOFT_MAX (mask F32/F16, broadcast, fully masked rows, NaN) and ROPE
 * (both modes, partial n_dims). Shapes are random (seeded) with odd sizes, dims 2-3 > 1
 * and non-contiguous inputs (transposed, permuted, windowed views); every case also
 * runs with 2 and 3 threads and must give the same bits as with 1.
 *
 * Tolerances: F32 outputs of + and * are one rounding of the exact result (rtol 2^-23
 * covers it); the transcendental and reduction ops allow rtol 1e-5 (the reference
 * kernels round once from double, faster kernels may accumulate in float); F16
 * outputs allow one F16 rounding (2^-11 relative, plus the F16 subnormal step).
 */
#include "ops_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F16_RTOL (1.0 / 2048.0)
#define F16_ATOL 6.0e-8

/* An input of shape ne: a plain leaf (view 0), a transposed leaf (1), a permuted leaf
 * (2), or a window into a larger leaf (3). */
static qg_tensor *input(oh_case *c, qg_type type, const int64_t ne[4], int view, float lo, float hi) {
    const qg_type_traits *tt = qg_type_get(type);
    switch (view) {
    case 1:
        return qg_transpose(c->ctx, oh_leaf_uniform(c, type, ne[1], ne[0], ne[2], ne[3], lo, hi));
    case 2:
        return qg_permute(c->ctx, oh_leaf_uniform(c, type, ne[0], ne[2], ne[1], ne[3], lo, hi), 0, 2, 1, 3);
    case 3: {
        qg_tensor *big = oh_leaf_uniform(c, type, ne[0] + 3, ne[1] + 1, ne[2], ne[3], lo, hi);
        return qg_view_4d(c->ctx, big, ne[0], ne[1], ne[2], ne[3], big->nb[1], big->nb[2], big->nb[3],
                          big->nb[1] + 2 * tt->type_size);
    }
    default:
        return oh_leaf_uniform(c, type, ne[0], ne[1], ne[2], ne[3], lo, hi);
    }
}

static void random_shape(qgt_rng *r, int64_t ne[4], int64_t max0) {
    ne[0] = 1 + (int64_t)(qgt_next(r) % (uint64_t)max0);
    ne[1] = 1 + (int64_t)(qgt_next(r) % 5);
    ne[2] = 1 + (int64_t)(qgt_next(r) % 3);
    ne[3] = 1 + (int64_t)(qgt_next(r) % 2);
}

static int64_t random_divisor(qgt_rng *r, int64_t n) {
    int64_t d;
    do d = 1 + (int64_t)(qgt_next(r) % (uint64_t)n);
    while (n % d != 0);
    return d;
}

static double *ref_alloc(const qg_tensor *t) {
    double *p = calloc((size_t)qg_nelements(t) + 1, sizeof(double));
    assert_non_null(p);
    return p;
}

#define FOR_EACH(t)                                   \
    for (int64_t i3 = 0; i3 < (t)->ne[3]; i3++)       \
        for (int64_t i2 = 0; i2 < (t)->ne[2]; i2++)   \
            for (int64_t i1 = 0; i1 < (t)->ne[1]; i1++)

static int64_t row_index(const qg_tensor *t, int64_t i1, int64_t i2, int64_t i3) {
    return ((i3 * t->ne[2] + i2) * t->ne[1] + i1) * t->ne[0];
}

static void expect_typed(const char *what, const qg_tensor *out, const oh_result *r, const double *ref, double atol,
                         double rtol) {
    if (out->type == QG_TYPE_F16)
        oh_expect_close(what, r->vals, ref, r->n, atol + F16_ATOL, rtol + F16_RTOL);
    else
        oh_expect_close(what, r->vals, ref, r->n, atol, rtol);
}

/* ADD / MUL. */

typedef struct { qg_op op; int64_t ne[4], bne[4]; qg_type ta, tb; int view_a, view_b; } bin_arg;

static qg_tensor *build_binary(oh_case *c, const void *p) {
    const bin_arg *a = p;
    qg_tensor *x = input(c, a->ta, a->ne, a->view_a, -2.0f, 2.0f);
    qg_tensor *y = input(c, a->tb, a->bne, a->view_b, -2.0f, 2.0f);
    return a->op == QG_OP_ADD ? qg_add(c->ctx, x, y) : qg_mul(c->ctx, x, y);
}

static void check_binary(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const bin_arg *a = p;
    const qg_tensor *out = c->out, *x = out->src[0], *y = out->src[1];
    double *ref = ref_alloc(out);
    FOR_EACH(out) {
        for (int64_t i0 = 0; i0 < out->ne[0]; i0++) {
            double u = oh_at(c, x, i0, i1, i2, i3);
            double v = oh_at(c, y, i0 % y->ne[0], i1 % y->ne[1], i2 % y->ne[2], i3 % y->ne[3]);
            ref[row_index(out, i1, i2, i3) + i0] = a->op == QG_OP_ADD ? u + v : u * v;
        }
    }
    char what[64];
    snprintf(what, sizeof what, "%s %s", qg_op_name(a->op), dev);
    expect_typed(what, out, r, ref, 0.0, 1.2e-7);
    free(ref);
}

static void test_binary(void **state) {
    (void)state;
    qgt_rng rng;
    qgt_seed(&rng, 101);
    for (int k = 0; k < 12; k++) {
        bin_arg a = {.op = k % 2 ? QG_OP_MUL : QG_OP_ADD};
        random_shape(&rng, a.ne, 70);
        for (int d = 0; d < 4; d++) a.bne[d] = random_divisor(&rng, a.ne[d]);
        if (k == 0) memcpy(a.bne, a.ne, sizeof a.ne);           /* same shape */
        if (k == 2) a.bne[1] = a.bne[2] = a.bne[3] = 1;          /* one row */
        a.ta = (k / 2) % 3 == 2 ? QG_TYPE_F16 : QG_TYPE_F32;
        a.tb = (k / 3) % 2 ? QG_TYPE_F16 : QG_TYPE_F32;
        a.view_a = (int)(qgt_next(&rng) % 4);
        a.view_b = (int)(qgt_next(&rng) % 4);
        oh_run_all(build_binary, &a, 1000 + (uint64_t)k, check_binary);
    }
}

/* SCALE / SILU / GELU. */

typedef struct { qg_op op; int64_t ne[4]; qg_type type; int view; float s; } un_arg;

static qg_tensor *build_unary(oh_case *c, const void *p) {
    const un_arg *a = p;
    qg_tensor *x = input(c, a->type, a->ne, a->view, -6.0f, 6.0f);
    switch (a->op) {
    case QG_OP_SCALE: return qg_scale(c->ctx, x, a->s);
    case QG_OP_SILU: return qg_silu(c->ctx, x);
    default: return qg_gelu(c->ctx, x);
    }
}

static void check_unary(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const un_arg *a = p;
    const qg_tensor *out = c->out, *x = out->src[0];
    double *ref = ref_alloc(out);
    FOR_EACH(out) {
        for (int64_t i0 = 0; i0 < out->ne[0]; i0++) {
            double v = oh_at(c, x, i0, i1, i2, i3), y;
            if (a->op == QG_OP_SCALE) y = v * (double)a->s;
            else if (a->op == QG_OP_SILU) y = v / (1.0 + exp(-v));
            else y = 0.5 * v * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
            ref[row_index(out, i1, i2, i3) + i0] = y;
        }
    }
    char what[64];
    snprintf(what, sizeof what, "%s %s", qg_op_name(a->op), dev);
    expect_typed(what, out, r, ref, 1e-7, a->op == QG_OP_SCALE ? 1.2e-7 : 1e-5);
    free(ref);
}

static void test_unary(void **state) {
    (void)state;
    qgt_rng rng;
    qgt_seed(&rng, 202);
    const qg_op ops[3] = {QG_OP_SCALE, QG_OP_SILU, QG_OP_GELU};
    for (int k = 0; k < 12; k++) {
        un_arg a = {.op = ops[k % 3], .type = (k / 3) % 2 ? QG_TYPE_F16 : QG_TYPE_F32};
        random_shape(&rng, a.ne, 70);
        a.view = (int)(qgt_next(&rng) % 4);
        a.s = qgt_uniform(&rng, -3.0f, 3.0f);
        oh_run_all(build_unary, &a, 2000 + (uint64_t)k, check_unary);
    }
}

/* RMS_NORM / NORM. */

typedef struct { qg_op op; int64_t ne[4]; qg_type type; int view; float eps; } norm_arg;

static qg_tensor *build_norm(oh_case *c, const void *p) {
    const norm_arg *a = p;
    qg_tensor *x = input(c, a->type, a->ne, a->view, -3.0f, 5.0f);
    return a->op == QG_OP_NORM ? qg_norm(c->ctx, x, a->eps) : qg_rms_norm(c->ctx, x, a->eps);
}

static void check_norm(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const norm_arg *a = p;
    const qg_tensor *out = c->out, *x = out->src[0];
    const int64_t n = out->ne[0];
    double *ref = ref_alloc(out);
    FOR_EACH(out) {
        double mean = 0, var = 0;
        if (a->op == QG_OP_NORM) {
            for (int64_t i0 = 0; i0 < n; i0++) mean += oh_at(c, x, i0, i1, i2, i3);
            mean /= (double)n;
        }
        for (int64_t i0 = 0; i0 < n; i0++) {
            double d = oh_at(c, x, i0, i1, i2, i3) - mean;
            var += d * d;
        }
        var /= (double)n;
        for (int64_t i0 = 0; i0 < n; i0++)
            ref[row_index(out, i1, i2, i3) + i0] = (oh_at(c, x, i0, i1, i2, i3) - mean) / sqrt(var + (double)a->eps);
    }
    char what[64];
    snprintf(what, sizeof what, "%s %s", qg_op_name(a->op), dev);
    expect_typed(what, out, r, ref, 1e-6, 1e-5);
    free(ref);
}

static void test_norms(void **state) {
    (void)state;
    qgt_rng rng;
    qgt_seed(&rng, 303);
    for (int k = 0; k < 10; k++) {
        norm_arg a = {.op = k % 2 ? QG_OP_NORM : QG_OP_RMS_NORM, .type = k % 5 == 4 ? QG_TYPE_F16 : QG_TYPE_F32};
        random_shape(&rng, a.ne, 130);
        if (k == 0) a.ne[0] = 1; /* a single element: NORM gives 0, RMS_NORM x/sqrt(x^2+eps) */
        a.view = (int)(qgt_next(&rng) % 4);
        a.eps = k % 3 ? 1e-5f : 1e-6f;
        oh_run_all(build_norm, &a, 3000 + (uint64_t)k, check_norm);
    }
}

/* SOFT_MAX. */

typedef struct {
    int64_t ne[4];
    int view;
    int mask;            /* 0 none, 1 F32, 2 F16 */
    int64_t mne[4];
    float scale;
    bool masked_row;     /* row 0 of mask plane 0 is all -inf */
} sm_arg;

static qg_tensor *build_soft_max(oh_case *c, const void *p) {
    const sm_arg *a = p;
    qg_tensor *x = input(c, QG_TYPE_F32, a->ne, a->view, -4.0f, 4.0f);
    qg_tensor *m = NULL;
    if (a->mask) {
        const int64_t n = a->mne[0] * a->mne[1] * a->mne[2] * a->mne[3];
        float *v = malloc((size_t)n * sizeof(float));
        assert_non_null(v);
        for (int64_t i = 0; i < n; i++)
            v[i] = qgt_next(&c->rng) % 5 == 0 ? -INFINITY : qgt_uniform(&c->rng, -3.0f, 1.0f);
        if (a->masked_row)
            for (int64_t i = 0; i < a->mne[0]; i++) v[i] = -INFINITY;
        m = oh_leaf_values(c, a->mask == 2 ? QG_TYPE_F16 : QG_TYPE_F32, a->mne, v);
        free(v);
    }
    return qg_soft_max(c->ctx, x, m, a->scale);
}

static void soft_max_ref(oh_case *c, const qg_tensor *out, float scale, double *ref) {
    const qg_tensor *x = out->src[0], *m = out->src[1];
    const int64_t n = out->ne[0];
    double *v = malloc((size_t)n * sizeof(double));
    assert_non_null(v);
    FOR_EACH(out) {
        double max = -INFINITY, sum = 0;
        for (int64_t i0 = 0; i0 < n; i0++) {
            v[i0] = oh_at(c, x, i0, i1, i2, i3) * (double)scale;
            if (m) v[i0] += oh_at(c, m, i0, i1, i2 % m->ne[2], i3 % m->ne[3]);
            if (v[i0] > max) max = v[i0];
        }
        double *o = ref + row_index(out, i1, i2, i3);
        if (max == -INFINITY) {
            for (int64_t i0 = 0; i0 < n; i0++) o[i0] = 0.0;
            continue;
        }
        for (int64_t i0 = 0; i0 < n; i0++) sum += exp(v[i0] - max);
        for (int64_t i0 = 0; i0 < n; i0++) o[i0] = exp(v[i0] - max) / sum;
    }
    free(v);
}

static void check_soft_max(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const sm_arg *a = p;
    double *ref = ref_alloc(c->out);
    soft_max_ref(c, c->out, a->scale, ref);
    char what[64];
    snprintf(what, sizeof what, "SOFT_MAX %s", dev);
    oh_expect_close(what, r->vals, ref, r->n, 1e-7, 1e-5);
    if (a->masked_row)
        for (int64_t i = 0; i < c->out->ne[0]; i++) assert_true(r->vals[i] == 0.0f);
    free(ref);
}

static void test_soft_max(void **state) {
    (void)state;
    qgt_rng rng;
    qgt_seed(&rng, 404);
    for (int k = 0; k < 12; k++) {
        sm_arg a = {.mask = k % 3, .scale = qgt_uniform(&rng, 0.1f, 2.0f)};
        random_shape(&rng, a.ne, 90);
        a.view = (int)(qgt_next(&rng) % 4);
        a.mne[0] = a.ne[0];
        a.mne[1] = a.ne[1] + (int64_t)(qgt_next(&rng) % 3);
        a.mne[2] = random_divisor(&rng, a.ne[2]);
        a.mne[3] = random_divisor(&rng, a.ne[3]);
        a.masked_row = a.mask && k % 2;
        oh_run_all(build_soft_max, &a, 4000 + (uint64_t)k, check_soft_max);
    }
}

static qg_tensor *build_soft_max_nan(oh_case *c, const void *p) {
    (void)p;
    const int64_t ne[4] = {5, 3, 1, 1};
    const float v[15] = {1, 2, 3, 4, 5, 0, NAN, 1, 2, 3, -1, -2, -3, -4, -5};
    return qg_soft_max(c->ctx, oh_leaf_values(c, QG_TYPE_F32, ne, v), NULL, 1.0f);
}

static void check_soft_max_nan(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    (void)p;
    (void)dev;
    double *ref = ref_alloc(c->out);
    soft_max_ref(c, c->out, 1.0f, ref);
    for (int i = 5; i < 10; i++) {
        assert_true(isnan(r->vals[i])); /* the NaN row is NaN throughout */
        ref[i] = NAN;
    }
    oh_expect_close("SOFT_MAX NaN", r->vals, ref, r->n, 1e-7, 1e-5);
    free(ref);
}

static void test_soft_max_nan(void **state) {
    (void)state;
    oh_run_all(build_soft_max_nan, NULL, 4100, check_soft_max_nan);
}

/* ROPE. */

typedef struct {
    int64_t hd, n_head, n_tok;
    int n_dims, mode;
    float base, fscale;
    qg_type type;
    bool permuted;       /* input is [hd, n_tok, n_head] permuted to [hd, n_head, n_tok] */
} rope_arg;

static qg_tensor *build_rope(oh_case *c, const void *p) {
    const rope_arg *a = p;
    const int64_t ne[4] = {a->hd, a->n_head, a->n_tok, 1};
    qg_tensor *x = a->permuted ? input(c, a->type, ne, 2, -2.0f, 2.0f) : input(c, a->type, ne, 0, -2.0f, 2.0f);
    qg_tensor *pos = oh_leaf_ids(c, QG_TYPE_I32, a->n_tok, 1, 1, 4096);
    return qg_rope(c->ctx, x, pos, a->n_dims, a->mode, a->base, a->fscale);
}

static void check_rope(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const rope_arg *a = p;
    const qg_tensor *out = c->out, *x = out->src[0], *pos = out->src[1];
    const int half = a->n_dims / 2;
    double *ref = ref_alloc(out);
    FOR_EACH(out) {
        double *o = ref + row_index(out, i1, i2, i3);
        for (int64_t i0 = 0; i0 < out->ne[0]; i0++) o[i0] = oh_at(c, x, i0, i1, i2, i3);
        const double t = oh_at(c, pos, i2, 0, 0, 0);
        for (int i = 0; i < half; i++) {
            const double theta = t * a->fscale * pow(a->base, -2.0 * i / a->n_dims);
            const int64_t j0 = a->mode == QG_ROPE_NEOX ? i : 2 * i, j1 = a->mode == QG_ROPE_NEOX ? i + half : 2 * i + 1;
            const double x0 = oh_at(c, x, j0, i1, i2, i3), x1 = oh_at(c, x, j1, i1, i2, i3);
            o[j0] = x0 * cos(theta) - x1 * sin(theta);
            o[j1] = x0 * sin(theta) + x1 * cos(theta);
        }
    }
    char what[64];
    snprintf(what, sizeof what, "ROPE %s", dev);
    expect_typed(what, out, r, ref, 2e-6, 1e-5);
    free(ref);
}

static void test_rope(void **state) {
    (void)state;
    qgt_rng rng;
    qgt_seed(&rng, 505);
    for (int k = 0; k < 10; k++) {
        rope_arg a = {.mode = k % 2 ? QG_ROPE_NEOX : QG_ROPE_NORMAL, .type = k % 4 == 3 ? QG_TYPE_F16 : QG_TYPE_F32};
        a.hd = 2 * (1 + (int64_t)(qgt_next(&rng) % 40));
        a.n_head = 1 + (int64_t)(qgt_next(&rng) % 4);
        a.n_tok = 1 + (int64_t)(qgt_next(&rng) % 5);
        a.n_dims = k < 4 ? (int)a.hd : 2 * (1 + (int)(qgt_next(&rng) % (uint64_t)(a.hd / 2)));
        a.base = k % 3 ? 10000.0f : 500000.0f;
        a.fscale = k % 5 == 1 ? 0.25f : 1.0f;
        a.permuted = k % 2 == 0;
        oh_run_all(build_rope, &a, 5000 + (uint64_t)k, check_rope);
    }
}

int main(void) {
    char why[512];
    if (!oh_devices_available(why, sizeof why)) return qgt_skip("%s", why);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary),   cmocka_unit_test(test_unary),        cmocka_unit_test(test_norms),
        cmocka_unit_test(test_soft_max), cmocka_unit_test(test_soft_max_nan), cmocka_unit_test(test_rope),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    oh_shutdown();
    return rc;
}
