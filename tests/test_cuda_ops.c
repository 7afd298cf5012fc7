/* CUDA backend against the CPU reference: every op (several shapes, broadcast, permuted
 * and transposed inputs, F16 inputs and outputs), GET_ROWS from every readable type,
 * CPY into every writable type (bytes compared exactly: the device quantizers and the
 * host round trip must reproduce cpu-ref's quantizer), SET_ROWS with duplicate ids into
 * plain and block destinations, and MUL_MAT where the matrix kernels accept the node.
 * Each case builds the same graph with the same seeded leaf data on cpu-ref and on
 * cuda0 and runs it through a scheduler holding only that device (test_opencl_cmp.h).
 * Prints "SKIPPED: no CUDA device (<reason>)" and returns 77 when cuda0 cannot be opened.
 */
#include "test_opencl_cmp.h"

typedef struct bin_arg {
    qg_op op;
    qg_type ta, tb;
    int64_t a[4], b[4];
    bool transpose_a;
} bin_arg;

static qg_tensor *build_binary(qg_context *ctx, const void *p) {
    const bin_arg *g = p;
    qg_tensor *a = qg_new_tensor_4d(ctx, g->ta, g->a[0], g->a[1], g->a[2], g->a[3]);
    qg_tensor *b = qg_new_tensor_4d(ctx, g->tb, g->b[0], g->b[1], g->b[2], g->b[3]);
    qg_set_name(a, "a*3");
    qg_set_name(b, "b");
    if (g->transpose_a) a = qg_transpose(ctx, a);
    return g->op == QG_OP_ADD ? qg_add(ctx, a, b) : qg_mul(ctx, a, b);
}

static void test_binary(void **state) {
    (void)state;
    const bin_arg cases[] = {
        {QG_OP_ADD, QG_TYPE_F32, QG_TYPE_F32, {67, 5, 3, 2}, {67, 5, 3, 2}, false},
        {QG_OP_MUL, QG_TYPE_F32, QG_TYPE_F32, {64, 6, 4, 2}, {64, 1, 4, 1}, false},
        {QG_OP_ADD, QG_TYPE_F32, QG_TYPE_F32, {64, 6, 4, 1}, {16, 3, 1, 1}, false},
        {QG_OP_MUL, QG_TYPE_F32, QG_TYPE_F32, {9, 40, 1, 1}, {40, 9, 1, 1}, true},
        {QG_OP_ADD, QG_TYPE_F16, QG_TYPE_F32, {128, 7, 1, 1}, {128, 1, 1, 1}, false},
        {QG_OP_MUL, QG_TYPE_BF16, QG_TYPE_F16, {96, 5, 2, 1}, {96, 5, 1, 1}, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s %s,%s #%zu", qg_op_name(cases[i].op), qg_type_name(cases[i].ta),
                 qg_type_name(cases[i].tb), i);
        cmp_check(what, build_binary, &cases[i], 0, true);
    }
}

typedef struct un_arg {
    qg_op op;
    qg_type type;
    int64_t ne[4];
    bool transpose;
    float p;
} un_arg;

static qg_tensor *build_unary(qg_context *ctx, const void *p) {
    const un_arg *g = p;
    qg_tensor *a = qg_set_name(qg_new_tensor_4d(ctx, g->type, g->ne[0], g->ne[1], g->ne[2], g->ne[3]), "a*4");
    if (g->transpose) a = qg_transpose(ctx, a);
    switch (g->op) {
    case QG_OP_SCALE: return qg_scale(ctx, a, g->p);
    case QG_OP_SILU: return qg_silu(ctx, a);
    case QG_OP_GELU: return qg_gelu(ctx, a);
    case QG_OP_RMS_NORM: return qg_rms_norm(ctx, a, g->p);
    case QG_OP_NORM: return qg_norm(ctx, a, g->p);
    default: return NULL;
    }
}

static void test_unary_norm(void **state) {
    (void)state;
    const un_arg cases[] = {
        {QG_OP_SCALE, QG_TYPE_F32, {100, 3, 2, 1}, false, 0.3f},
        {QG_OP_SCALE, QG_TYPE_F16, {64, 5, 1, 1}, true, -1.7f},
        {QG_OP_SILU, QG_TYPE_F32, {300, 7, 1, 1}, false, 0},
        {QG_OP_SILU, QG_TYPE_F32, {30, 17, 1, 1}, true, 0},
        {QG_OP_GELU, QG_TYPE_F32, {256, 4, 3, 1}, false, 0},
        {QG_OP_GELU, QG_TYPE_F16, {33, 9, 1, 1}, false, 0},
        {QG_OP_RMS_NORM, QG_TYPE_F32, {4096, 3, 1, 1}, false, 1e-6f},
        {QG_OP_RMS_NORM, QG_TYPE_F32, {33, 7, 2, 1}, false, 1e-5f},
        {QG_OP_RMS_NORM, QG_TYPE_F32, {20, 48, 1, 1}, true, 1e-5f},
        {QG_OP_NORM, QG_TYPE_F32, {1000, 5, 1, 1}, false, 1e-5f},
        {QG_OP_NORM, QG_TYPE_F16, {64, 6, 1, 1}, false, 1e-3f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s %s%s #%zu", qg_op_name(cases[i].op), qg_type_name(cases[i].type),
                 cases[i].transpose ? " (transposed)" : "", i);
        /* SCALE is one float multiply: bytes equal; the others round a double result */
        const bool exact = cases[i].op == QG_OP_SCALE;
        cmp_check(what, build_unary, &cases[i], exact ? 0 : 1e-12, exact);
    }
}

typedef struct sm_arg {
    int64_t ne[4];
    int mask; /* 0 none, 1 F32, 2 F16 */
    int64_t mne1, mne2;
    float scale;
} sm_arg;

static qg_tensor *build_soft_max(qg_context *ctx, const void *p) {
    const sm_arg *g = p;
    qg_tensor *a = qg_set_name(qg_new_tensor_4d(ctx, QG_TYPE_F32, g->ne[0], g->ne[1], g->ne[2], g->ne[3]), "a*5");
    qg_tensor *m = NULL;
    if (g->mask)
        m = qg_set_name(qg_new_tensor_3d(ctx, g->mask == 1 ? QG_TYPE_F32 : QG_TYPE_F16, g->ne[0], g->mne1, g->mne2),
                        "mask*2");
    return qg_soft_max(ctx, a, m, g->scale);
}

static void test_soft_max(void **state) {
    (void)state;
    const sm_arg cases[] = {
        {{50, 7, 3, 1}, 0, 0, 0, 1.0f},
        {{50, 7, 3, 1}, 1, 9, 1, 0.5f},
        {{128, 4, 4, 2}, 2, 4, 2, 0.125f},
        {{1000, 3, 1, 1}, 1, 3, 1, 2.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "SOFT_MAX mask %d #%zu", cases[i].mask, i);
        cmp_check(what, build_soft_max, &cases[i], 1e-12, false);
    }
}

typedef struct rope_arg {
    qg_type type;
    int64_t head, n_head, n_tok;
    int n_dims, mode;
} rope_arg;

static qg_tensor *build_rope(qg_context *ctx, const void *p) {
    const rope_arg *g = p;
    qg_tensor *a = qg_set_name(qg_new_tensor_3d(ctx, g->type, g->head, g->n_head, g->n_tok), "x");
    qg_tensor *pos = qg_set_name(qg_new_tensor_1d(ctx, QG_TYPE_I32, g->n_tok), "ids4000");
    return qg_rope(ctx, a, pos, g->n_dims, g->mode, 10000.0f, 1.0f);
}

static void test_rope(void **state) {
    (void)state;
    const rope_arg cases[] = {
        {QG_TYPE_F32, 64, 4, 5, 64, QG_ROPE_NORMAL},
        {QG_TYPE_F32, 64, 4, 5, 32, QG_ROPE_NEOX},
        {QG_TYPE_F32, 128, 3, 7, 128, QG_ROPE_NEOX},
        {QG_TYPE_F16, 80, 2, 3, 40, QG_ROPE_NORMAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "ROPE %s mode %d n_dims %d", qg_type_name(cases[i].type), cases[i].mode,
                 cases[i].n_dims);
        cmp_check(what, build_rope, &cases[i], 1e-12, false);
    }
}

typedef struct rows_arg {
    qg_type ta, tb, tids;
    int64_t ne0;
} rows_arg;

static qg_tensor *build_get_rows(qg_context *ctx, const void *p) {
    const rows_arg *g = p;
    qg_tensor *a = qg_set_name(qg_new_tensor_3d(ctx, g->ta, g->ne0, 10, 2), "a*2");
    qg_tensor *ids = qg_set_name(qg_new_tensor_2d(ctx, g->tids, 7, 2), "ids10");
    return qg_get_rows(ctx, a, ids);
}

static void test_get_rows(void **state) {
    (void)state;
    int n = 0;
    const qg_type_traits *tt = qg_type_table(&n);
    for (int i = 0; i < n; i++) {
        if (!tt[i].to_float || tt[i].is_integer || tt[i].type == QG_TYPE_F64) continue;
        const rows_arg g = {tt[i].type, QG_TYPE_F32, i % 2 ? QG_TYPE_I64 : QG_TYPE_I32, 256};
        char what[64];
        snprintf(what, sizeof what, "GET_ROWS %s", tt[i].name);
        cmp_check(what, build_get_rows, &g, 0, true);
    }
}

static qg_tensor *build_cpy(qg_context *ctx, const void *p) {
    const rows_arg *g = p;
    qg_tensor *a = qg_set_name(qg_new_tensor_2d(ctx, g->ta, g->ne0, 6), "a*3");
    qg_tensor *b = qg_set_name(qg_new_tensor_2d(ctx, g->tb, g->ne0, 6), "b");
    return qg_cpy(ctx, a, b);
}

static void test_cpy_types(void **state) {
    (void)state;
    int n = 0;
    const qg_type_traits *tt = qg_type_table(&n);
    for (int i = 0; i < n; i++) {
        if (!tt[i].from_float) continue;
        const rows_arg g = {QG_TYPE_F32, tt[i].type, QG_TYPE_I32, 256};
        char what[64];
        snprintf(what, sizeof what, "CPY f32 -> %s", tt[i].name);
        cmp_check(what, build_cpy, &g, 0, true);
        const rows_arg back = {tt[i].type, QG_TYPE_F32, QG_TYPE_I32, 256};
        snprintf(what, sizeof what, "CPY %s -> f32", tt[i].name);
        cmp_check(what, build_cpy, &back, 0, true);
    }
}

/* Shapes that do not line up, and a transposed source made contiguous. */
static qg_tensor *build_cpy_reshape(qg_context *ctx, const void *p) {
    (void)p;
    qg_tensor *a = qg_set_name(qg_new_tensor_3d(ctx, QG_TYPE_F32, 12, 10, 2), "a");
    qg_tensor *b = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F16, 30, 8), "b");
    return qg_cpy(ctx, a, b);
}

static qg_tensor *build_cont_transposed(qg_context *ctx, const void *p) {
    const qg_type *t = p;
    qg_tensor *a = qg_set_name(qg_new_tensor_3d(ctx, QG_TYPE_F32, 64, 32, 3), "a");
    return qg_cast(ctx, qg_permute(ctx, a, 1, 0, 2, 3), *t);
}

static void test_cpy_shapes(void **state) {
    (void)state;
    cmp_check("CPY f32 [12,10,2] -> f16 [30,8]", build_cpy_reshape, NULL, 0, true);
    const qg_type types[] = {QG_TYPE_F32, QG_TYPE_F16, QG_TYPE_Q8_0, QG_TYPE_Q4_K};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "CAST transposed f32 -> %s", qg_type_name(types[i]));
        cmp_check(what, build_cont_transposed, &types[i], 0, true);
    }
}

static qg_tensor *build_set_rows(qg_context *ctx, const void *p) {
    const rows_arg *g = p;
    qg_tensor *dst = qg_set_name(qg_new_tensor_3d(ctx, g->tb, g->ne0, 6, 2), "cache");
    qg_tensor *src = qg_set_name(qg_new_tensor_3d(ctx, QG_TYPE_F32, g->ne0, 9, 2), "src*2");
    qg_tensor *ids = qg_set_name(qg_new_tensor_2d(ctx, g->tids, 9, 2), "ids6"); /* 9 ids in [0, 6): duplicates */
    return qg_set_rows(ctx, dst, src, ids);
}

static void test_set_rows(void **state) {
    (void)state;
    const rows_arg cases[] = {
        {QG_TYPE_F32, QG_TYPE_F32, QG_TYPE_I32, 64},  {QG_TYPE_F32, QG_TYPE_F16, QG_TYPE_I64, 128},
        {QG_TYPE_F32, QG_TYPE_Q8_0, QG_TYPE_I32, 64}, {QG_TYPE_F32, QG_TYPE_Q4_0, QG_TYPE_I64, 96},
        {QG_TYPE_F32, QG_TYPE_Q4_K, QG_TYPE_I32, 256}, {QG_TYPE_F32, QG_TYPE_MXFP8_E4M3, QG_TYPE_I32, 64},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "SET_ROWS -> %s (%s ids)", qg_type_name(cases[i].tb), qg_type_name(cases[i].tids));
        cmp_check(what, build_set_rows, &cases[i], 0, true);
    }
}

typedef struct mm_arg {
    qg_type tw;
    int64_t k, m, n;
} mm_arg;

static qg_tensor *build_mul_mat(qg_context *ctx, const void *p) {
    const mm_arg *g = p;
    qg_tensor *w = qg_set_name(qg_new_tensor_2d(ctx, g->tw, g->k, g->m), "w");
    qg_tensor *x = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, g->k, g->n), "x");
    return qg_mul_mat(ctx, w, x);
}

static void test_mul_mat(void **state) {
    (void)state;
    int n = 0, ran = 0;
    const qg_type_traits *tt = qg_type_table(&n);
    for (int i = 0; i < n; i++) {
        if (!tt[i].vec_dot) continue;
        for (int64_t cols = 1; cols <= 33; cols += 32) {
            const mm_arg g = {tt[i].type, 512, 48, cols};
            char what[64];
            snprintf(what, sizeof what, "MUL_MAT %s n=%lld", tt[i].name, (long long)cols);
            if (!cmp_supported(build_mul_mat, &g)) {
                printf("  %-40s not supported by the matrix kernels\n", what);
                continue;
            }
            cmp_check(what, build_mul_mat, &g, 1e-4, false);
            ran++;
        }
    }
    printf("  %d MUL_MAT cases ran\n", ran);
}

int main(void) {
    char why[512];
    if (!cmp_open("cuda0", why, sizeof why)) return qgt_skip("no CUDA device (%s)", why);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary),   cmocka_unit_test(test_unary_norm), cmocka_unit_test(test_soft_max),
        cmocka_unit_test(test_rope),     cmocka_unit_test(test_get_rows),   cmocka_unit_test(test_cpy_types),
        cmocka_unit_test(test_cpy_shapes), cmocka_unit_test(test_set_rows), cmocka_unit_test(test_mul_mat),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cmp_close();
    return rc;
}
