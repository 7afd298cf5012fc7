/* Graph building without running anything: shape errors at build time, dependency
 * order, views, and the memory planner's reuse figures. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static qg_context *ctx_new(void) {
    qg_context *ctx = NULL;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    return ctx;
}

static void expect_error(qg_context *ctx, qg_tensor *r, qg_status st, const char *needle) {
    assert_null(r);
    assert_int_equal(qg_context_status(ctx), st);
    if (!strstr(qg_context_error(ctx), needle)) {
        printf("error '%s' does not mention '%s'\n", qg_context_error(ctx), needle);
        fail();
    }
}

static void test_shape_errors(void **state) {
    (void)state;
    struct {
        const char *needle;
        qg_status st;
    } cases[] = {
        {"inner dims", QG_ERR_SHAPE},     {"broadcast", QG_ERR_SHAPE},  {"n_dims", QG_ERR_SHAPE},
        {"I32 or I64", QG_ERR_SHAPE},     {"elements", QG_ERR_SHAPE},   {"outside", QG_ERR_SHAPE},
        {"permutation", QG_ERR_SHAPE},    {"block size", QG_ERR_SHAPE}, {"no dot product", QG_ERR_UNSUPPORTED},
        {"mask", QG_ERR_SHAPE},
    };
    for (int c = 0; c < (int)(sizeof cases / sizeof cases[0]); c++) {
        qg_context *ctx = ctx_new();
        qg_tensor *a = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, 64, 8), "a");
        qg_tensor *b = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, 32, 8), "b");
        qg_tensor *r = NULL;
        switch (c) {
        case 0: r = qg_mul_mat(ctx, a, b); break;
        case 1: r = qg_add(ctx, a, qg_new_tensor_2d(ctx, QG_TYPE_F32, 3, 8)); break;
        case 2: r = qg_rope(ctx, qg_new_tensor_3d(ctx, QG_TYPE_F32, 64, 2, 8), qg_new_tensor_1d(ctx, QG_TYPE_I32, 8), 65, 0, 1e4f, 1); break;
        case 3: r = qg_get_rows(ctx, a, qg_new_tensor_1d(ctx, QG_TYPE_F32, 2)); break;
        case 4: r = qg_cpy(ctx, a, b); break;
        case 5: r = a ? qg_view_2d(ctx, a, 64, 8, a->nb[1], 4) : NULL; break; /* a is NULL under QG_FAIL_ALLOC */
        case 6: r = qg_permute(ctx, a, 0, 0, 2, 3); break;
        case 7: r = qg_new_tensor_2d(ctx, QG_TYPE_Q4_0, 48, 2); break;
        case 8: r = qg_mul_mat(ctx, qg_new_tensor_2d(ctx, QG_TYPE_I32, 64, 2), a); break;
        case 9: r = qg_soft_max(ctx, a, qg_new_tensor_2d(ctx, QG_TYPE_F32, 64, 4), 1.0f); break;
        }
        expect_error(ctx, r, cases[c].st, cases[c].needle);
        qg_context_free(ctx);
    }
}

/* Once a builder failed, everything built on its NULL result fails too, and the context
 * keeps the first error. */
static void test_null_propagates(void **state) {
    (void)state;
    qg_context *ctx = ctx_new();
    qg_tensor *a = qg_new_tensor_2d(ctx, QG_TYPE_F32, 64, 8);
    qg_tensor *bad = qg_mul_mat(ctx, a, qg_new_tensor_2d(ctx, QG_TYPE_F32, 16, 8));
    qg_tensor *r = qg_silu(ctx, qg_add(ctx, bad, a));
    assert_null(r);
    assert_int_equal(qg_context_status(ctx), QG_ERR_SHAPE);
    assert_non_null(strstr(qg_context_error(ctx), "inner dims"));
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, r), QG_ERR_INVALID_ARG);
    qg_graph_free(g);
    qg_context_free(ctx);
}

static void test_result_shapes(void **state) {
    (void)state;
    qg_context *ctx = ctx_new();
    qg_tensor *w = qg_new_tensor_3d(ctx, QG_TYPE_Q8_0, 64, 10, 2);
    qg_tensor *x = qg_new_tensor_4d(ctx, QG_TYPE_F32, 64, 7, 4, 3);
    qg_tensor *y = qg_mul_mat(ctx, w, x);
    assert_non_null(y);
    assert_int_equal(y->ne[0], 10);
    assert_int_equal(y->ne[1], 7);
    assert_int_equal(y->ne[2], 4);
    assert_int_equal(y->ne[3], 3);
    assert_true(qg_is_contiguous(y));
    qg_tensor *t = qg_transpose(ctx, x);
    assert_int_equal(t->ne[0], 7);
    assert_int_equal(t->ne[1], 64);
    assert_int_equal(t->nb[0], x->nb[1]);
    assert_false(qg_is_contiguous(t));
    assert_ptr_equal(qg_view_root(t), x);
    qg_tensor *p = qg_permute(ctx, x, 0, 2, 1, 3);
    assert_int_equal(p->ne[2], 7);
    assert_int_equal(p->ne[1], 4);
    qg_tensor *v = qg_view_2d(ctx, x, 32, 2, x->nb[1], x->nb[1]);
    assert_int_equal(v->view_offs, x->nb[1]);
    qg_tensor *vv = qg_view_1d(ctx, v, 16, 16 * sizeof(float));
    assert_ptr_equal(vv->view_src, x); /* views of views point at the storage owner */
    assert_int_equal(vv->view_offs, x->nb[1] + 64);
    qg_tensor *q = qg_cast(ctx, x, QG_TYPE_Q4_0);
    assert_int_equal(q->type, QG_TYPE_Q4_0);
    assert_int_equal(qg_nbytes(q), (size_t)7 * 4 * 3 * 2 * 18);
    qg_tensor *cache = qg_new_tensor_2d(ctx, QG_TYPE_F16, 64, 100);
    qg_tensor *rows = qg_new_tensor_2d(ctx, QG_TYPE_F32, 64, 5);
    qg_tensor *ids = qg_new_tensor_1d(ctx, QG_TYPE_I64, 5);
    qg_tensor *sr = qg_set_rows(ctx, cache, rows, ids);
    assert_ptr_equal(sr->view_src, cache);
    assert_int_equal(qg_context_status(ctx), QG_OK);
    qg_context_free(ctx);
}

static void test_graph_order(void **state) {
    (void)state;
    qg_context *ctx = ctx_new();
    qg_tensor *x = qg_new_tensor_2d(ctx, QG_TYPE_F32, 32, 4);
    qg_tensor *w = qg_new_tensor_2d(ctx, QG_TYPE_F32, 32, 32);
    qg_tensor *a = qg_mul_mat(ctx, w, x);
    qg_tensor *b = qg_silu(ctx, a);
    qg_tensor *c = qg_mul(ctx, a, b); /* diamond: a feeds b and c */
    qg_tensor *d = qg_scale(ctx, qg_transpose(ctx, c), 2.0f);
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, d), QG_OK);
    assert_int_equal(qg_graph_add(g, d), QG_OK); /* idempotent */
    assert_int_equal(qg_graph_n_nodes(g), 5);     /* mul_mat, silu, mul, transpose, scale */
    assert_int_equal(qg_graph_n_leafs(g), 2);
    for (int i = 0; i < qg_graph_n_nodes(g); i++) {
        qg_tensor *n = qg_graph_node(g, i);
        for (int j = 0; j < QG_MAX_SRC; j++) {
            if (!n->src[j] || n->src[j]->op == QG_OP_NONE) continue;
            int found = -1;
            for (int k = 0; k < i; k++)
                if (qg_graph_node(g, k) == n->src[j]) found = k;
            assert_true(found >= 0); /* every source comes earlier */
        }
    }
    assert_true(d->flags & QG_FLAG_OUTPUT);
    qg_graph_free(g);
    qg_context_free(ctx);
}

/* A chain of n unary ops on one [1024] F32 tensor needs two live buffers at a time. */
static void test_planner_chain(void **state) {
    (void)state;
    qg_context *ctx = ctx_new();
    qg_tensor *t = qg_new_tensor_1d(ctx, QG_TYPE_F32, 1024);
    qg_set_input(t);
    const int n = 20;
    for (int i = 0; i < n; i++) t = (i % 2) ? qg_silu(ctx, t) : qg_scale(ctx, t, 0.5f);
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, t), QG_OK);
    qg_plan_stats st;
    assert_int_equal(qg_graph_plan(g, 64, &st), QG_OK);
    printf("chain of %d: planned %zu bytes, naive %zu bytes, %d tensors\n", n, st.planned_bytes, st.naive_bytes,
           st.n_tensors);
    assert_int_equal(st.n_tensors, n + 1); /* the input and every node */
    assert_int_equal(st.naive_bytes, (size_t)(n + 1) * 4096);
    /* The input and the final output are both alive at the end only if the input were
     * read late; here the input dies after node 1, so 2 buffers suffice. */
    assert_int_equal(st.planned_bytes, 2 * 4096);
    qg_graph_free(g);
    qg_context_free(ctx);
}

/* Outputs marked by the user are never reused, even when they are not the last node. */
static void test_planner_outputs_kept(void **state) {
    (void)state;
    qg_context *ctx = ctx_new();
    qg_tensor *x = qg_new_tensor_1d(ctx, QG_TYPE_F32, 256);
    qg_tensor *a = qg_scale(ctx, x, 2.0f);
    qg_set_output(a);
    qg_tensor *b = qg_scale(ctx, a, 2.0f);
    qg_tensor *c = qg_scale(ctx, b, 2.0f);
    qg_tensor *d = qg_scale(ctx, c, 2.0f);
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, d), QG_OK);
    qg_plan_stats st;
    assert_int_equal(qg_graph_plan(g, 32, &st), QG_OK);
    /* x and b are freed, a and d are kept: peak = a + d + one of the rest (1024 each). */
    assert_int_equal(st.planned_bytes, 3 * 1024);
    assert_int_equal(st.naive_bytes, 5 * 1024);
    qg_graph_free(g);
    qg_context_free(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_errors),   cmocka_unit_test(test_null_propagates),
        cmocka_unit_test(test_result_shapes),  cmocka_unit_test(test_graph_order),
        cmocka_unit_test(test_planner_chain),  cmocka_unit_test(test_planner_outputs_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
