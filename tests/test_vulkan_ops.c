/* Vulkan backend against the CPU reference: every op, every MUL_MAT weight type (both
 * the mat-vec and the tiled path, with broadcast planes and a transposed x), GET_ROWS
 * from every readable type, and CPY into every writable type (K-quants and IQ4_XS
 * included; bytes compared exactly with the reference quantizer). Each case builds the same graph with
 * the same seeded leaf data on "cpu-ref" and on "vulkan0" and runs it through a
 * scheduler holding only that device. Skips (77) when vulkan0 cannot be opened.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAX_LEAF 8

typedef struct vcase {
    qg_context *ctx;
    int n;
    struct { qg_tensor *t; int kind; int64_t max; } leaf[MAX_LEAF];
} vcase;

typedef struct result {
    float *vals;
    unsigned char *bytes;
    size_t size;
    int64_t n;
    qg_status st;
    char err[512];
} result;

typedef qg_tensor *(*build_fn)(vcase *c, const void *arg);

static qg_backend *be_ref, *be_vk;

/* F64 data needs shaderFloat64 on the device. */
static bool skip_f64(qg_type t) {
    return t == QG_TYPE_F64 && !strstr(qg_backend_props(be_vk)->features, "fp64");
}

static qg_tensor *leaf_k(vcase *c, int kind, int64_t max, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                         int64_t ne3) {
    qg_tensor *t = qg_new_tensor_4d(c->ctx, type, ne0, ne1, ne2, ne3);
    assert_non_null(t);
    assert_true(c->n < MAX_LEAF);
    c->leaf[c->n].t = t;
    c->leaf[c->n].kind = kind;
    c->leaf[c->n].max = max;
    c->n++;
    return t;
}
static qg_tensor *leaf(vcase *c, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3) {
    return leaf_k(c, 0, 0, type, ne0, ne1, ne2, ne3);
}
static qg_tensor *ids(vcase *c, qg_type type, int64_t ne0, int64_t ne1, int64_t max) {
    return leaf_k(c, 1, max, type, ne0, ne1, 1, 1);
}

/* Leaf data: kind 0 uniform [-1, 1) (scaled by 3 for variety in row 0), kind 1 ids,
 * kind 2 a mask with some -inf entries and one fully masked row. */
static void fill(const vcase *c, int i, qgt_rng *rng) {
    qg_tensor *t = c->leaf[i].t;
    const int64_t n = qg_nelements(t);
    const size_t size = qg_nbytes(t);
    unsigned char *bytes = malloc(size);
    assert_non_null(bytes);
    if (c->leaf[i].kind == 1) {
        for (int64_t e = 0; e < n; e++) {
            int64_t v = (int64_t)(qgt_next(rng) % (uint64_t)c->leaf[i].max);
            if (t->type == QG_TYPE_I32) ((int32_t *)bytes)[e] = (int32_t)v;
            else ((int64_t *)bytes)[e] = v;
        }
    } else {
        float *f = malloc((size_t)n * sizeof *f);
        assert_non_null(f);
        qgt_fill_uniform(rng, f, n, -1.0f, 1.0f);
        if (c->leaf[i].kind == 2)
            for (int64_t e = 0; e < n; e++)
                if (e / t->ne[0] == 1 || qgt_next(rng) % 4 == 0) f[e] = -INFINITY;
        qg_type_get(t->type)->from_float(f, bytes, n);
        free(f);
    }
    assert_int_equal(qg_tensor_set(t, bytes, 0, size), QG_OK);
    free(bytes);
}

static void run(qg_backend *be, build_fn build, const void *arg, uint64_t seed, result *r) {
    memset(r, 0, sizeof *r);
    vcase c = {0};
    assert_int_equal(qg_context_new(&c.ctx), QG_OK);
    qg_tensor *out = build(&c, arg);
    assert_non_null(out);
    qg_tensor *target = (out->op == QG_OP_CPY || out->op == QG_OP_SET_ROWS) ? qg_view_root(out) : out;
    qg_buffer *buf = NULL;
    assert_int_equal(qg_backend_alloc_ctx_tensors(be, c.ctx, &buf), QG_OK);
    qgt_rng rng;
    qgt_seed(&rng, seed);
    for (int i = 0; i < c.n; i++) fill(&c, i, &rng);
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, out), QG_OK);
    qg_sched *s;
    assert_int_equal(qg_sched_new(&be, 1, &s), QG_OK);
    r->st = qg_sched_compute(s, g);
    if (r->st == QG_OK) r->st = qg_backend_synchronize(be);
    snprintf(r->err, sizeof r->err, "%s", qg_last_error());
    if (r->st == QG_OK) {
        r->n = qg_nelements(target);
        r->size = qg_nbytes(target);
        r->bytes = malloc(r->size);
        r->vals = malloc((size_t)r->n * sizeof(float));
        assert_non_null(r->bytes);
        assert_non_null(r->vals);
        assert_int_equal(qg_tensor_get(target, r->bytes, 0, r->size), QG_OK);
        qg_type_get(target->type)->to_float(r->bytes, r->vals, r->n);
    }
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(buf);
    qg_context_free(c.ctx);
}

static void result_free(result *r) {
    free(r->vals);
    free(r->bytes);
}

/* Runs on both devices; returns max|vk - ref| / max|ref| (NaN positions must agree). */
static double compare(const char *what, build_fn build, const void *arg, uint64_t seed, double tol) {
    result a, b;
    run(be_ref, build, arg, seed, &a);
    run(be_vk, build, arg, seed, &b);
    if (a.st != QG_OK) fail_msg("%s: cpu-ref failed: %s", what, a.err);
    if (b.st != QG_OK) fail_msg("%s: vulkan0 failed: %s", what, b.err);
    assert_int_equal(a.n, b.n);
    double maxref = 0, maxdiff = 0;
    int64_t worst = 0;
    for (int64_t i = 0; i < a.n; i++) {
        const bool na = isnan(a.vals[i]), nb = isnan(b.vals[i]);
        if (na || nb) {
            if (na != nb) fail_msg("%s: element %lld: ref %g, vulkan %g", what, (long long)i, a.vals[i], b.vals[i]);
            continue;
        }
        if (isinf(a.vals[i]) || isinf(b.vals[i])) {
            if (a.vals[i] != b.vals[i])
                fail_msg("%s: element %lld: ref %g, vulkan %g", what, (long long)i, a.vals[i], b.vals[i]);
            continue;
        }
        if (fabs(a.vals[i]) > maxref) maxref = fabs(a.vals[i]);
        const double dlt = fabs((double)a.vals[i] - (double)b.vals[i]);
        if (dlt > maxdiff) {
            maxdiff = dlt;
            worst = i;
        }
    }
    const double rel = maxdiff / (maxref > 0 ? maxref : 1.0);
    printf("  %-40s rel err %.2e (tol %.0e)\n", what, rel, tol);
    if (rel > tol)
        fail_msg("%s: relative error %.3e > %.1e at element %lld: ref %.9g, vulkan %.9g", what, rel, tol,
                 (long long)worst, a.vals[worst], b.vals[worst]);
    result_free(&a);
    result_free(&b);
    return rel;
}

/* Byte-exact comparison (quantizers). */
static void compare_bytes(const char *what, build_fn build, const void *arg, uint64_t seed) {
    result a, b;
    run(be_ref, build, arg, seed, &a);
    run(be_vk, build, arg, seed, &b);
    if (a.st != QG_OK || b.st != QG_OK) fail_msg("%s failed: ref: %s / vulkan: %s", what, a.err, b.err);
    assert_int_equal(a.size, b.size);
    size_t diff = 0, first = 0;
    for (size_t i = 0; i < a.size; i++)
        if (a.bytes[i] != b.bytes[i] && diff++ == 0) first = i;
    printf("  %-40s %zu of %zu bytes differ\n", what, diff, a.size);
    if (diff) {
        printf("  first differing block bytes (ref / vulkan) from %zu:\n   ", first);
        for (size_t i = first; i < first + 12 && i < a.size; i++) printf(" %02x/%02x", a.bytes[i], b.bytes[i]);
        printf("\n");
    }
    if (diff) fail_msg("%s: %zu bytes differ from the reference quantizer, first at %zu", what, diff, first);
    result_free(&a);
    result_free(&b);
}

#define QG_TYPE_COUNT_NONE ((qg_type)-1)

typedef struct args { int op; qg_type ta, tb, tout; int variant; } args;

static qg_tensor *b_binary(vcase *c, const void *p) {
    const args *a = p;
    qg_tensor *x = leaf(c, a->ta, 96, 5, 3, 2);
    if (a->op == QG_OP_SCALE) return qg_scale(c->ctx, x, 0.75f);
    if (a->op == QG_OP_SILU) return qg_silu(c->ctx, x);
    if (a->op == QG_OP_GELU) return qg_gelu(c->ctx, x);
    qg_tensor *y = a->variant ? leaf(c, a->tb, 32, 1, 3, 1) : leaf(c, a->tb, 96, 5, 3, 2);
    return a->op == QG_OP_ADD ? qg_add(c->ctx, x, y) : qg_mul(c->ctx, x, y);
}

static void test_eltwise(void **state) {
    (void)state;
    const int ops[] = {QG_OP_ADD, QG_OP_MUL, QG_OP_SCALE, QG_OP_SILU, QG_OP_GELU};
    for (int i = 0; i < 5; i++)
        for (int v = 0; v < 2; v++) {
            args a = {ops[i], v ? QG_TYPE_F16 : QG_TYPE_F32, QG_TYPE_F32, 0, v};
            char name[64];
            snprintf(name, sizeof name, "%s %s%s", qg_op_name(ops[i]), qg_type_name(a.ta), v ? " broadcast" : "");
            /* F16 results: the reference rounds a double once, we round a float: 1 ulp. */
            compare(name, b_binary, &a, 11 + i, v ? 1e-3 : 2e-6);
        }
}

static qg_tensor *b_norm(vcase *c, const void *p) {
    const args *a = p;
    qg_tensor *x = leaf(c, a->ta, a->variant ? 1000 : 64, 7, 2, 1);
    if (a->op == QG_OP_NORM) return qg_norm(c->ctx, x, 1e-5f);
    if (a->op == QG_OP_RMS_NORM) return qg_rms_norm(c->ctx, x, 1e-6f);
    qg_tensor *m = a->tb == QG_TYPE_COUNT_NONE ? NULL : leaf_k(c, 2, 0, a->tb, x->ne[0], 9, 1, 1);
    return qg_soft_max(c->ctx, x, m, 0.5f);
}
static void test_rows_ops(void **state) {
    (void)state;
    for (int v = 0; v < 2; v++) {
        args a = {QG_OP_NORM, QG_TYPE_F32, 0, 0, v};
        compare(v ? "NORM 1000 wide" : "NORM", b_norm, &a, 21, 1e-5);
        a.op = QG_OP_RMS_NORM;
        a.ta = v ? QG_TYPE_F16 : QG_TYPE_F32;
        compare(v ? "RMS_NORM f16 1000 wide" : "RMS_NORM", b_norm, &a, 22, 1e-5);
        a.op = QG_OP_SOFT_MAX;
        a.ta = QG_TYPE_F32;
        a.tb = QG_TYPE_COUNT_NONE;
        compare(v ? "SOFT_MAX 1000 wide" : "SOFT_MAX", b_norm, &a, 23, 1e-5);
        a.tb = v ? QG_TYPE_F16 : QG_TYPE_F32;
        compare(v ? "SOFT_MAX f16 mask, masked row" : "SOFT_MAX f32 mask, masked row", b_norm, &a, 24, 1e-5);
    }
}

static qg_tensor *b_rope(vcase *c, const void *p) {
    const args *a = p;
    qg_tensor *x = leaf(c, QG_TYPE_F32, 64, 4, 6, 1);
    qg_tensor *pos = ids(c, a->tb, 6, 1, 4096);
    return qg_rope(c->ctx, x, pos, a->variant ? 48 : 64, a->op, 10000.0f, a->variant ? 0.5f : 1.0f);
}

static void test_rope(void **state) {
    (void)state;
    for (int v = 0; v < 2; v++) {
        args a = {QG_ROPE_NORMAL, 0, QG_TYPE_I32, 0, v};
        compare(v ? "ROPE normal, partial, scaled" : "ROPE normal", b_rope, &a, 31, 2e-5);
        a.op = QG_ROPE_NEOX;
        compare(v ? "ROPE neox, partial, scaled" : "ROPE neox", b_rope, &a, 32, 2e-5);
    }
}

static qg_tensor *b_get_rows(vcase *c, const void *p) {
    const args *a = p;
    const int64_t k = qg_type_get(a->ta)->block_size == 256 ? 256 : 64;
    qg_tensor *src = leaf(c, a->ta, k, 10, 2, 1);
    qg_tensor *id = ids(c, a->tb, 7, 2, 10);
    return qg_get_rows(c->ctx, src, id);
}

static void test_get_rows_all_types(void **state) {
    (void)state;
    int n;
    const qg_type_traits *tab = qg_type_table(&n);
    for (int i = 0; i < n; i++) {
        const qg_type t = tab[i].type;
        if (tab[i].is_integer || !tab[i].from_float || skip_f64(t)) continue;
        args a = {0, t, i % 2 ? QG_TYPE_I64 : QG_TYPE_I32, 0, 0};
        char name[64];
        snprintf(name, sizeof name, "GET_ROWS from %s", tab[i].name);
        compare(name, b_get_rows, &a, 41 + i, 0.0);
    }
}

static qg_tensor *b_cpy(vcase *c, const void *p) {
    const args *a = p;
    qg_tensor *src = leaf(c, a->ta, 512, 6, 1, 1);
    qg_tensor *dst = leaf(c, a->tout, 512, 6, 1, 1);
    if (a->variant == 1) { /* transposed source into a contiguous destination */
        qg_tensor *s2 = leaf(c, a->ta, 6, 512, 1, 1);
        return qg_cpy(c->ctx, qg_transpose(c->ctx, s2), dst);
    }
    if (a->variant == 2) { /* rows that do not line up */
        qg_tensor *d2 = leaf(c, a->tout, 256, 12, 1, 1);
        return qg_cpy(c->ctx, src, d2);
    }
    return qg_cpy(c->ctx, src, dst);
}

static void test_cpy_quantize(void **state) {
    (void)state;
    const qg_type outs[] = {QG_TYPE_F32, QG_TYPE_F16, QG_TYPE_BF16, QG_TYPE_Q4_0, QG_TYPE_Q4_1, QG_TYPE_Q5_0,
                            QG_TYPE_Q5_1, QG_TYPE_Q8_0, QG_TYPE_IQ4_NL, QG_TYPE_MXFP4, QG_TYPE_NVFP4,
                            QG_TYPE_F8_E4M3, QG_TYPE_F8_E5M2, QG_TYPE_MXFP8_E4M3, QG_TYPE_MXFP8_E5M2,
                            QG_TYPE_Q8_1, QG_TYPE_Q8_K, QG_TYPE_TQ1_0, QG_TYPE_TQ2_0, QG_TYPE_F64,
                            QG_TYPE_Q2_K, QG_TYPE_Q3_K, QG_TYPE_Q4_K, QG_TYPE_Q5_K, QG_TYPE_Q6_K,
                            QG_TYPE_IQ4_XS};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        if (skip_f64(outs[i])) continue;
        args a = {0, QG_TYPE_F32, 0, outs[i], 0};
        char name[64];
        snprintf(name, sizeof name, "CPY f32 -> %s", qg_type_name(outs[i]));
        compare_bytes(name, b_cpy, &a, 51 + i);
    }
    args t = {0, QG_TYPE_F16, 0, QG_TYPE_F32, 1};
    compare("CPY transposed f16 -> f32", b_cpy, &t, 70, 0.0);
    t.variant = 2;
    t.ta = QG_TYPE_F32;
    t.tout = QG_TYPE_F16;
    compare("CPY f32 [512,6] -> f16 [256,12]", b_cpy, &t, 71, 0.0);
}

static qg_tensor *b_set_rows(vcase *c, const void *p) {
    const args *a = p;
    const int64_t ne0 = qg_type_get(a->tout)->block_size == 256 ? 256 : 64;
    qg_tensor *dst = leaf(c, a->tout, ne0, 16, 2, 1);
    qg_tensor *src = leaf(c, QG_TYPE_F32, ne0, 9, 2, 1);
    qg_tensor *id = ids(c, a->tb, 9, 2, 16); /* 9 ids in [0, 16): duplicates happen */
    return qg_set_rows(c->ctx, dst, src, id);
}

static void test_set_rows(void **state) {
    (void)state;
    const qg_type outs[] = {QG_TYPE_F32, QG_TYPE_F16, QG_TYPE_Q8_0, QG_TYPE_Q4_0, QG_TYPE_IQ4_XS};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        args a = {0, 0, i % 2 ? QG_TYPE_I64 : QG_TYPE_I32, outs[i], 0};
        char name[64];
        snprintf(name, sizeof name, "SET_ROWS -> %s", qg_type_name(outs[i]));
        compare_bytes(name, b_set_rows, &a, 81 + i);
    }
}

static qg_tensor *b_mul_mat(vcase *c, const void *p) {
    const args *a = p;
    const int64_t k = qg_type_get(a->ta)->block_size == 256 ? 512 : 128;
    const int64_t n = a->variant & 1 ? 40 : 3;
    qg_tensor *w = leaf(c, a->ta, k, 37, 2, 1);
    if (a->variant & 2) { /* transposed x, 4 planes broadcast over 2 weight planes */
        qg_tensor *xt = leaf(c, QG_TYPE_F32, n, k, 4, 1);
        return qg_mul_mat(c->ctx, w, qg_transpose(c->ctx, xt));
    }
    qg_tensor *x = leaf(c, QG_TYPE_F32, k, n, 4, 1);
    return qg_mul_mat(c->ctx, w, x);
}

static void test_mul_mat_all_types(void **state) {
    (void)state;
    int n;
    const qg_type_traits *tab = qg_type_table(&n);
    for (int i = 0; i < n; i++) {
        if (!tab[i].vec_dot) continue;
        for (int v = 0; v < 4; v++) {
            args a = {0, tab[i].type, 0, 0, v};
            char name[64];
            snprintf(name, sizeof name, "MUL_MAT %s %s%s", tab[i].name, v & 1 ? "tiled" : "vec",
                     v & 2 ? " transposed x" : "");
            /* Same activation rounding as the reference; only the float summation order
             * differs (type-1 weights: the reference also rounds sum(y) to fp16). */
            const bool type1 = tab[i].vec_dot_type == QG_TYPE_Q8_1;
            compare(name, b_mul_mat, &a, 100 + i, type1 ? 2e-3 : 2e-5);
        }
    }
}

static void test_mul_mat_no_subgroups(void **state) {
    (void)state;
    char v[8];
    assert_int_equal(qg_backend_get_option(be_vk, "subgroups", v, sizeof v), QG_OK);
    if (strcmp(v, "1") != 0) {
        printf("  (device has no subgroup arithmetic: the fallback was tested above)\n");
        return;
    }
    assert_int_equal(qg_backend_set_option(be_vk, "subgroups", "0"), QG_OK);
    args a = {0, QG_TYPE_Q4_K, 0, 0, 0};
    compare("MUL_MAT q4_K vec, shared-memory reduction", b_mul_mat, &a, 200, 2e-5);
    a.ta = QG_TYPE_F16;
    compare("MUL_MAT f16 vec, shared-memory reduction", b_mul_mat, &a, 201, 2e-5);
    assert_int_equal(qg_backend_set_option(be_vk, "subgroups", "1"), QG_OK);
}

int main(void) {
    if (qg_backend_open("vulkan0", &be_vk) != QG_OK) return qgt_skip("vulkan0 cannot be opened: %s", qg_last_error());
    if (qg_backend_open("cpu-ref", &be_ref) != QG_OK) return qgt_skip("cpu-ref cannot be opened: %s", qg_last_error());
    printf("vulkan0: %s [%s]\n", qg_backend_props(be_vk)->description, qg_backend_props(be_vk)->features);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eltwise),
        cmocka_unit_test(test_rows_ops),
        cmocka_unit_test(test_rope),
        cmocka_unit_test(test_get_rows_all_types),
        cmocka_unit_test(test_cpy_quantize),
        cmocka_unit_test(test_set_rows),
        cmocka_unit_test(test_mul_mat_all_types),
        cmocka_unit_test(test_mul_mat_no_subgroups),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qg_backend_free(be_vk);
    qg_backend_free(be_ref);
    return rc;
}
