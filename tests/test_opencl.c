/* The OpenCL backend (libqg-opencl.so) against cpu-ref: device properties, buffer
 * transfers, every non-MUL_MAT op through the scheduler with the OpenCL device alone
 * (element-wise with broadcasting and F16 tensors, norms, soft_max with masks, both
 * ROPE modes, GET_ROWS from every readable type, CPY into every type with a quantizer
 * (byte-identical blocks required, K-quant and IQ4 searches included), SET_ROWS, non-contiguous sources), a bad
 * row id, and the compiled-program cache. Device: $QG_OPENCL_DEVICE or "opencl0".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_opencl_cmp.h"

static const char *device(void) {
    const char *d = getenv("QG_OPENCL_DEVICE");
    return d && *d ? d : "opencl0";
}

static void test_props(void **state) {
    (void)state;
    const qg_device_props *p = qg_backend_props(cmp_be[1]);
    printf("  %s: %s [%s] memory %llu\n", p->name, p->description, p->features, (unsigned long long)p->memory_total);
    assert_string_equal(p->name, device());
    assert_false(p->host_memory);
    assert_true(p->memory_total > 0);
    assert_true(p->alignment > 0);
    assert_non_null(strstr(p->features, "opencl-c-"));
    if (p->kind == QG_DEVICE_CPU) assert_true(p->is_software);
}

static void test_buffers(void **state) {
    (void)state;
    qg_buffer *a;
    assert_int_equal(qg_backend_alloc_buffer(cmp_be[1], 4096, &a), QG_OK);
    unsigned char src[1000], dst[1000];
    for (int i = 0; i < 1000; i++) src[i] = (unsigned char)(i * 7 + 3);
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *ta = qg_new_tensor_1d(ctx, QG_TYPE_I8, 1000);
    assert_int_equal(qg_buffer_place(a, ta, 128), QG_OK);
    assert_int_equal(qg_tensor_set(ta, src, 0, 1000), QG_OK);
    memset(dst, 0, sizeof dst);
    assert_int_equal(qg_tensor_get(ta, dst, 0, 1000), QG_OK);
    assert_memory_equal(src, dst, 1000);
    assert_int_equal(qg_tensor_get(ta, dst, 10, 20), QG_OK);
    assert_memory_equal(src + 10, dst, 20);
    assert_int_not_equal(qg_tensor_get(ta, dst, 990, 20), QG_OK); /* out of range: error, no crash */
    qg_context_free(ctx);
    qg_buffer_free(a);
}

/* ---- element-wise, norms, soft_max, rope ---- */

typedef struct opcase {
    const char *what;
    qg_op op;
    qg_type ta, tb;
    int64_t ne[4], bne[4];
    int mode, n_dims;
    bool has_b;
} opcase;

static qg_tensor *leaf(qg_context *ctx, qg_type t, const int64_t ne[4], const char *name) {
    return qg_set_name(qg_new_tensor_4d(ctx, t, ne[0], ne[1], ne[2], ne[3]), "%s", name);
}

static qg_tensor *build_op(qg_context *ctx, const void *arg) {
    const opcase *c = arg;
    qg_tensor *a = leaf(ctx, c->ta, c->ne, "a*2");
    switch (c->op) {
    case QG_OP_ADD: return qg_add(ctx, a, leaf(ctx, c->tb, c->bne, "b"));
    case QG_OP_MUL: return qg_mul(ctx, a, leaf(ctx, c->tb, c->bne, "b"));
    case QG_OP_SCALE: return qg_scale(ctx, a, 0.37f);
    case QG_OP_SILU: return qg_silu(ctx, qg_scale(ctx, a, 3.0f));
    case QG_OP_GELU: return qg_gelu(ctx, qg_scale(ctx, a, 3.0f));
    case QG_OP_RMS_NORM: return qg_rms_norm(ctx, a, 1e-5f);
    case QG_OP_NORM: return qg_norm(ctx, a, 1e-5f);
    case QG_OP_SOFT_MAX: return qg_soft_max(ctx, a, c->has_b ? leaf(ctx, c->tb, c->bne, "mask*4") : NULL, 0.5f);
    case QG_OP_ROPE: {
        qg_tensor *pos = qg_set_name(qg_new_tensor_1d(ctx, c->tb, c->ne[2]), "ids4096");
        return qg_rope(ctx, a, pos, c->n_dims, c->mode, 10000.0f, 1.0f);
    }
    case QG_OP_TRANSPOSE: /* non-contiguous source: silu of a transposed view */
        return qg_silu(ctx, qg_transpose(ctx, a));
    default: return NULL;
    }
}

static void test_simple_ops(void **state) {
    (void)state;
    const opcase cases[] = {
        {"add f32 broadcast", QG_OP_ADD, QG_TYPE_F32, QG_TYPE_F32, {70, 5, 3, 2}, {70, 1, 3, 1}, 0, 0, true},
        {"add f16 + f32 row", QG_OP_ADD, QG_TYPE_F16, QG_TYPE_F32, {64, 4, 2, 1}, {64, 1, 1, 1}, 0, 0, true},
        {"mul f32 broadcast dim0", QG_OP_MUL, QG_TYPE_F32, QG_TYPE_F32, {96, 7, 1, 1}, {32, 7, 1, 1}, 0, 0, true},
        {"mul f16", QG_OP_MUL, QG_TYPE_F16, QG_TYPE_F16, {33, 3, 2, 1}, {33, 3, 2, 1}, 0, 0, true},
        {"scale f32", QG_OP_SCALE, QG_TYPE_F32, 0, {100, 9, 1, 1}, {0}, 0, 0, false},
        {"silu f32", QG_OP_SILU, QG_TYPE_F32, 0, {257, 3, 1, 1}, {0}, 0, 0, false},
        {"gelu f32", QG_OP_GELU, QG_TYPE_F32, 0, {257, 3, 1, 1}, {0}, 0, 0, false},
        {"gelu f16", QG_OP_GELU, QG_TYPE_F16, 0, {64, 3, 1, 1}, {0}, 0, 0, false},
        {"silu transposed", QG_OP_TRANSPOSE, QG_TYPE_F32, 0, {19, 23, 1, 1}, {0}, 0, 0, false},
        {"rms_norm f32", QG_OP_RMS_NORM, QG_TYPE_F32, 0, {1000, 6, 2, 1}, {0}, 0, 0, false},
        {"norm f32", QG_OP_NORM, QG_TYPE_F32, 0, {77, 6, 1, 1}, {0}, 0, 0, false},
        {"rms_norm f16", QG_OP_RMS_NORM, QG_TYPE_F16, 0, {128, 4, 1, 1}, {0}, 0, 0, false},
        {"soft_max no mask", QG_OP_SOFT_MAX, QG_TYPE_F32, 0, {300, 5, 2, 1}, {0}, 0, 0, false},
        {"soft_max f32 mask", QG_OP_SOFT_MAX, QG_TYPE_F32, QG_TYPE_F32, {64, 5, 4, 1}, {64, 8, 2, 1}, 0, 0, true},
        {"soft_max f16 mask", QG_OP_SOFT_MAX, QG_TYPE_F32, QG_TYPE_F16, {32, 3, 2, 1}, {32, 3, 1, 1}, 0, 0, true},
        {"rope normal", QG_OP_ROPE, QG_TYPE_F32, QG_TYPE_I32, {64, 4, 5, 1}, {0}, QG_ROPE_NORMAL, 64, false},
        {"rope neox partial", QG_OP_ROPE, QG_TYPE_F32, QG_TYPE_I32, {64, 2, 3, 1}, {0}, QG_ROPE_NEOX, 32, false},
        {"rope normal f16", QG_OP_ROPE, QG_TYPE_F16, QG_TYPE_I32, {32, 2, 3, 1}, {0}, QG_ROPE_NORMAL, 16, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) cmp_check(cases[i].what, build_op, &cases[i], 1e-10, false);
}

/* ---- rows: get_rows, cpy, set_rows ---- */

typedef struct rowcase {
    qg_op op;
    qg_type src, dst;
    int64_t k;
    bool transpose;
} rowcase;

static qg_tensor *build_rows(qg_context *ctx, const void *arg) {
    const rowcase *c = arg;
    switch (c->op) {
    case QG_OP_GET_ROWS: {
        qg_tensor *a = qg_set_name(qg_new_tensor_3d(ctx, c->src, c->k, 10, 2), "a*3");
        qg_tensor *ids = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_I32, 7, 2), "ids10");
        return qg_get_rows(ctx, a, ids);
    }
    case QG_OP_CPY: {
        if (c->transpose) {
            qg_tensor *a = qg_set_name(qg_new_tensor_2d(ctx, c->src, 12, c->k), "a*3");
            qg_tensor *d = qg_set_name(qg_new_tensor_2d(ctx, c->dst, c->k, 12), "d");
            return qg_cpy(ctx, qg_transpose(ctx, a), d);
        }
        qg_tensor *a = qg_set_name(qg_new_tensor_3d(ctx, c->src, c->k, 5, 2), "a*3");
        qg_tensor *d = qg_set_name(qg_new_tensor_3d(ctx, c->dst, c->k, 5, 2), "d");
        return qg_cpy(ctx, a, d);
    }
    case QG_OP_SET_ROWS: {
        qg_tensor *d = qg_set_name(qg_new_tensor_2d(ctx, c->dst, c->k, 16), "d");
        qg_tensor *s = qg_set_name(qg_new_tensor_2d(ctx, c->src, c->k, 6), "s*3");
        qg_tensor *ids = qg_set_name(qg_new_tensor_1d(ctx, QG_TYPE_I64, 6), "ids16");
        return qg_set_rows(ctx, d, s, ids);
    }
    default: return NULL;
    }
}

static const qg_type readable[] = {
    QG_TYPE_F32, QG_TYPE_F16, QG_TYPE_BF16, QG_TYPE_F8_E4M3, QG_TYPE_F8_E5M2, QG_TYPE_Q4_0, QG_TYPE_Q4_1,
    QG_TYPE_Q5_0, QG_TYPE_Q5_1, QG_TYPE_Q8_0, QG_TYPE_Q2_K, QG_TYPE_Q3_K, QG_TYPE_Q4_K, QG_TYPE_Q5_K,
    QG_TYPE_Q6_K, QG_TYPE_IQ4_NL, QG_TYPE_IQ4_XS, QG_TYPE_TQ1_0, QG_TYPE_TQ2_0, QG_TYPE_MXFP4, QG_TYPE_NVFP4,
    QG_TYPE_MXFP8_E4M3, QG_TYPE_MXFP8_E5M2, QG_TYPE_Q8_K, QG_TYPE_F64,
};
static const qg_type quantizable[] = {
    QG_TYPE_F32, QG_TYPE_F16, QG_TYPE_BF16, QG_TYPE_F8_E4M3, QG_TYPE_F8_E5M2, QG_TYPE_Q4_0, QG_TYPE_Q4_1,
    QG_TYPE_Q5_0, QG_TYPE_Q5_1, QG_TYPE_Q8_0, QG_TYPE_Q8_1, QG_TYPE_TQ1_0, QG_TYPE_TQ2_0, QG_TYPE_MXFP4,
    QG_TYPE_NVFP4, QG_TYPE_MXFP8_E4M3, QG_TYPE_MXFP8_E5M2, QG_TYPE_Q8_K, QG_TYPE_Q2_K, QG_TYPE_Q3_K,
    QG_TYPE_Q4_K, QG_TYPE_Q5_K, QG_TYPE_Q6_K, QG_TYPE_IQ4_NL, QG_TYPE_IQ4_XS, QG_TYPE_F64,
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void test_get_rows(void **state) {
    (void)state;
    for (size_t i = 0; i < N_OF(readable); i++) {
        rowcase c = {QG_OP_GET_ROWS, readable[i], QG_TYPE_F32, 256, false};
        char what[64];
        snprintf(what, sizeof what, "get_rows %s", qg_type_name(readable[i]));
        cmp_check(what, build_rows, &c, 0.0, true);
    }
}

static void test_cpy(void **state) {
    (void)state;
    for (size_t i = 0; i < N_OF(quantizable); i++) {
        rowcase c = {QG_OP_CPY, QG_TYPE_F32, quantizable[i], 512, false};
        char what[64];
        snprintf(what, sizeof what, "cpy f32 -> %s", qg_type_name(quantizable[i]));
        cmp_check(what, build_rows, &c, 1.0, true); /* bytes must match; nmse is the format's own error */
    }
    const rowcase more[] = {
        {QG_OP_CPY, QG_TYPE_F32, QG_TYPE_F16, 40, true},
        {QG_OP_CPY, QG_TYPE_F16, QG_TYPE_F32, 40, true},
        {QG_OP_CPY, QG_TYPE_Q4_K, QG_TYPE_F32, 256, false},
        {QG_OP_CPY, QG_TYPE_Q8_0, QG_TYPE_F16, 64, false},
        {QG_OP_CPY, QG_TYPE_BF16, QG_TYPE_Q8_0, 64, false},
    };
    for (size_t i = 0; i < N_OF(more); i++) {
        char what[64];
        snprintf(what, sizeof what, "cpy %s -> %s%s", qg_type_name(more[i].src), qg_type_name(more[i].dst),
                 more[i].transpose ? " (transposed)" : "");
        cmp_check(what, build_rows, &more[i], 0.0, true);
    }
}

static void test_set_rows(void **state) {
    (void)state;
    const qg_type dst[] = {QG_TYPE_F32, QG_TYPE_F16, QG_TYPE_Q8_0, QG_TYPE_Q4_0, QG_TYPE_MXFP4};
    for (size_t i = 0; i < N_OF(dst); i++) {
        rowcase c = {QG_OP_SET_ROWS, QG_TYPE_F32, dst[i], 64, false};
        char what[64];
        snprintf(what, sizeof what, "set_rows f32 -> %s", qg_type_name(dst[i]));
        cmp_check(what, build_rows, &c, 0.0, true);
    }
}

/* Integer destinations have no kernel: refused, never computed wrongly. */
static void test_refusals(void **state) {
    (void)state;
    rowcase c = {QG_OP_CPY, QG_TYPE_F32, QG_TYPE_I32, 256, false};
    assert_false(cmp_supported(build_rows, &c));
}

static qg_tensor *build_bad_ids(qg_context *ctx, const void *arg) {
    (void)arg;
    qg_tensor *a = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, 8, 4), "a");
    qg_tensor *ids = qg_set_name(qg_new_tensor_1d(ctx, QG_TYPE_I32, 3), "ids100"); /* ids up to 99, rows 4 */
    return qg_get_rows(ctx, a, ids);
}

static void test_bad_ids(void **state) {
    (void)state;
    cmp_result r;
    cmp_run(1, build_bad_ids, NULL, 7, &r);
    printf("  error: %s\n", r.err);
    assert_int_equal(r.st, QG_ERR_INVALID_ARG);
    assert_non_null(strstr(r.err, "out of range"));
    cmp_free(&r);
}

int main(void) {
    char why[512];
    if (qg_plugins_load_default() != QG_OK) return qgt_skip("no plugins: %s", qg_last_error());
    if (!cmp_open(device(), why, sizeof why)) return qgt_skip("%s", why);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_props),     cmocka_unit_test(test_buffers),  cmocka_unit_test(test_simple_ops),
        cmocka_unit_test(test_get_rows),  cmocka_unit_test(test_cpy),      cmocka_unit_test(test_set_rows),
        cmocka_unit_test(test_refusals),  cmocka_unit_test(test_bad_ids),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cmp_close();
    return rc;
}
