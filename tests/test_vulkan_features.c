/* Vulkan feature variants and the QG_VK_DISABLE switch: an unknown word fails device
 * open with a message naming it; with each feature hidden (and with "all") the device
 * lists it as disabled, and MUL_MAT (F16, BF16, Q4_0, Q8_0 weights, mat-vec and tiled;
 * F16 also with products beyond the float16 range),
 * GET_ROWS from F16 and CPY F32 -> F16 still agree with cpu-ref; "variants" counts the
 * pipelines built from a feature variant (0 with "all"); option fp16math (float16
 * arithmetic) stays within the conform threshold. Skips (77) without vulkan0.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static qg_backend *be_ref;
static char reported[256]; /* features of vulkan0 with nothing disabled */

enum { G_MUL_MAT, G_GET_ROWS, G_CPY };

typedef struct gcase {
    int kind;
    qg_type type;
    int64_t k, m, n;
    float scale; /* data in [-2, 2) times this (0: 1) */
} gcase;

/* Builds the case's graph on be from seeded data and returns its F32 output (malloc'd). */
static float *run(qg_backend *be, const gcase *gc, int64_t *count) {
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *a = NULL, *b = NULL, *out = NULL, *target;
    if (gc->kind == G_MUL_MAT) {
        a = qg_new_tensor_2d(ctx, gc->type, gc->k, gc->m);
        b = qg_new_tensor_2d(ctx, QG_TYPE_F32, gc->k, gc->n);
        out = qg_mul_mat(ctx, a, b);
    } else if (gc->kind == G_GET_ROWS) {
        a = qg_new_tensor_2d(ctx, gc->type, gc->k, gc->m);
        b = qg_new_tensor_1d(ctx, QG_TYPE_I32, gc->n);
        out = qg_get_rows(ctx, a, b);
    } else {
        a = qg_new_tensor_2d(ctx, QG_TYPE_F32, gc->k, gc->m);
        b = qg_new_tensor_2d(ctx, gc->type, gc->k, gc->m);
        out = qg_cpy(ctx, a, b);
    }
    assert_non_null(out);
    target = out->op == QG_OP_CPY ? qg_view_root(out) : out;
    qg_buffer *buf = NULL;
    assert_int_equal(qg_backend_alloc_ctx_tensors(be, ctx, &buf), QG_OK);
    qgt_rng rng;
    qgt_seed(&rng, 7);
    qg_tensor *leaves[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        qg_tensor *t = leaves[i];
        const int64_t ne = qg_nelements(t);
        const size_t size = qg_nbytes(t);
        unsigned char *bytes = malloc(size);
        assert_non_null(bytes);
        if (t->type == QG_TYPE_I32) {
            for (int64_t e = 0; e < ne; e++) ((int32_t *)bytes)[e] = (int32_t)(qgt_next(&rng) % (uint64_t)gc->m);
        } else {
            float *f = malloc((size_t)ne * sizeof *f);
            assert_non_null(f);
            const float sc = gc->scale > 0 ? gc->scale : 1.0f;
            qgt_fill_uniform(&rng, f, ne, -2.0f * sc, 2.0f * sc);
            qg_type_get(t->type)->from_float(f, bytes, ne);
            free(f);
        }
        assert_int_equal(qg_tensor_set(t, bytes, 0, size), QG_OK);
        free(bytes);
    }
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, out), QG_OK);
    qg_sched *s;
    assert_int_equal(qg_sched_new(&be, 1, &s), QG_OK);
    qg_status st = qg_sched_compute(s, g);
    if (st == QG_OK) st = qg_backend_synchronize(be);
    if (st != QG_OK) fail_msg("%s: %s", qg_backend_name(be), qg_last_error());
    *count = qg_nelements(target);
    const size_t size = qg_nbytes(target);
    unsigned char *bytes = malloc(size);
    float *vals = malloc((size_t)*count * sizeof *vals);
    assert_non_null(bytes);
    assert_non_null(vals);
    assert_int_equal(qg_tensor_get(target, bytes, 0, size), QG_OK);
    qg_type_get(target->type)->to_float(bytes, vals, *count);
    free(bytes);
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(buf);
    qg_context_free(ctx);
    return vals;
}

static const gcase cases[] = {
    {G_MUL_MAT, QG_TYPE_F16, 256, 33, 3, 0},  {G_MUL_MAT, QG_TYPE_F16, 96, 40, 36, 0},
    /* products up to 160000, beyond float16: the _h16 variant must redo such partials */
    {G_MUL_MAT, QG_TYPE_F16, 256, 9, 2, 200.0f},
    {G_MUL_MAT, QG_TYPE_BF16, 256, 33, 2, 0}, {G_MUL_MAT, QG_TYPE_BF16, 64, 40, 36, 0},
    {G_MUL_MAT, QG_TYPE_Q4_0, 256, 33, 3, 0}, {G_MUL_MAT, QG_TYPE_Q8_0, 256, 17, 1, 0},
    {G_GET_ROWS, QG_TYPE_F16, 70, 9, 5, 0},   {G_CPY, QG_TYPE_F16, 70, 5, 0, 0},
};

/* Whether the space-separated list s has the word w. */
static bool has_word(const char *s, const char *w) {
    const size_t n = strlen(w);
    for (const char *p = strstr(s, w); p; p = strstr(p + 1, w))
        if ((p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
    return false;
}

/* Opens vulkan0 with QG_VK_DISABLE=disable (NULL: unset), runs every case against
 * cpu-ref, returns the "variants" count. */
static unsigned check_with_opt(const char *disable, bool fp16math) {
    if (disable) setenv("QG_VK_DISABLE", disable, 1);
    else unsetenv("QG_VK_DISABLE");
    qg_backend *be;
    if (qg_backend_open("vulkan0", &be) != QG_OK) fail_msg("QG_VK_DISABLE=%s: %s", disable, qg_last_error());
    if (fp16math) assert_int_equal(qg_backend_set_option(be, "fp16math", "1"), QG_OK);
    const char *f = qg_backend_props(be)->features;
    printf("  QG_VK_DISABLE=%s%s: features [%s]\n", disable ? disable : "(unset)", fp16math ? ", fp16math=1" : "", f);
    if (disable && strchr(disable, ',') == NULL && strcmp(disable, "all") != 0) {
        /* A reported feature that is hidden is listed as disabled, not as present. */
        const char *word = strcmp(disable, "subgroup") == 0 ? "subgroup-arith" : disable;
        if (has_word(reported, word)) {
            char off[64];
            snprintf(off, sizeof off, "disabled=%s", disable);
            assert_true(has_word(f, off));
            assert_false(has_word(f, word));
        }
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t n_ref = 0, n_vk = 0;
        float *ref = run(be_ref, &cases[i], &n_ref);
        float *vk = run(be, &cases[i], &n_vk);
        assert_int_equal(n_ref, n_vk);
        if (cases[i].kind == G_MUL_MAT) {
            const double nmse = qgt_nmse(vk, ref, n_ref);
            const double tol = cases[i].type == QG_TYPE_F16 || cases[i].type == QG_TYPE_BF16 ? 1e-6 : 2e-4;
            if (!(nmse <= tol))
                fail_msg("QG_VK_DISABLE=%s: mul_mat %s %lldx%lldx%lld: NMSE %.3g > %.0e", disable,
                         qg_type_get(cases[i].type)->name, (long long)cases[i].k, (long long)cases[i].m,
                         (long long)cases[i].n, nmse, tol);
        } else {
            assert_memory_equal(vk, ref, (size_t)n_ref * sizeof(float));
        }
        free(ref);
        free(vk);
    }
    char v[32];
    assert_int_equal(qg_backend_get_option(be, "variants", v, sizeof v), QG_OK);
    qg_backend_free(be);
    unsetenv("QG_VK_DISABLE");
    return (unsigned)strtoul(v, NULL, 10);
}

static unsigned check_with(const char *disable) { return check_with_opt(disable, false); }

static void test_unknown_word(void **state) {
    (void)state;
    setenv("QG_VK_DISABLE", "storage8,fp61", 1);
    qg_backend *be = NULL;
    assert_int_not_equal(qg_backend_open("vulkan0", &be), QG_OK);
    assert_null(be);
    const char *e = qg_last_error();
    printf("  %s\n", e);
    assert_non_null(strstr(e, "QG_VK_DISABLE"));
    assert_non_null(strstr(e, "\"fp61\""));
    unsetenv("QG_VK_DISABLE");
}

static void test_default(void **state) {
    (void)state;
    const unsigned v = check_with(NULL);
    /* lavapipe and most GPUs have 16-bit storage: F16 weights then use a variant. */
    if (strstr(reported, "storage16")) assert_true(v > 0);
}

/* Option fp16math: the F16 mat-vec in float16 arithmetic (variant _h16), still within
 * the conform threshold (NMSE 1e-6), overflowing partial sums included; refused when
 * fp16 is hidden. */
static void test_fp16math(void **state) {
    (void)state;
    if (!has_word(reported, "fp16") || !has_word(reported, "storage16")) {
        printf("  no fp16 + storage16 on vulkan0: fp16math not tested\n");
        return;
    }
    assert_true(check_with_opt(NULL, true) > 0);
    setenv("QG_VK_DISABLE", "fp16", 1);
    qg_backend *be;
    assert_int_equal(qg_backend_open("vulkan0", &be), QG_OK);
    assert_int_equal(qg_backend_set_option(be, "fp16math", "1"), QG_ERR_UNSUPPORTED);
    qg_backend_free(be);
    unsetenv("QG_VK_DISABLE");
}

static void test_all_disabled(void **state) {
    (void)state;
    assert_int_equal(check_with("all"), 0);
    assert_int_equal(check_with(" storage16 , storage8,fp16,int8,intdot,subgroup"), 0);
}

static void test_each_disabled(void **state) {
    (void)state;
    check_with("storage16");
    check_with("storage8");
    check_with("fp16");
    check_with("intdot");
    check_with("subgroup");
}

int main(void) {
    unsetenv("QG_VK_DISABLE");
    qg_backend *be;
    if (qg_backend_open("vulkan0", &be) != QG_OK) return qgt_skip("vulkan0 cannot be opened: %s", qg_last_error());
    snprintf(reported, sizeof reported, "%s", qg_backend_props(be)->features);
    qg_backend_free(be);
    if (qg_backend_open("cpu-ref", &be_ref) != QG_OK) return qgt_skip("cpu-ref cannot be opened: %s", qg_last_error());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_word),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_fp16math),
        cmocka_unit_test(test_all_disabled),
        cmocka_unit_test(test_each_disabled),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qg_backend_free(be_ref);
    return rc;
}
