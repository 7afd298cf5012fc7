/* The scheduler across two backends: the out-of-tree template plugin (ADD and MUL_MAT
 * on F32 only) first and the CPU plugin as the fallback. Checks where each node runs,
 * that sources crossing backends are copied, that results match a double-precision
 * computation and a CPU-only run, that inputs allocated by the scheduler can be set
 * between runs, and that a node no backend supports is reported at allocation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { K = 48, M = 40, N = 5 };

static qg_backend *cpu, *tmpl;

static int setup(void **state) {
    (void)state;
    const char *path = getenv("QG_TEMPLATE_PLUGIN");
    qg_plugin *p;
    if (!path || qg_plugin_load(path, &p) != QG_OK) {
        printf("cannot load the template plugin (%s): %s\n", path ? path : "QG_TEMPLATE_PLUGIN unset", qg_last_error());
        return -1;
    }
    if (qg_backend_open("cpu", &cpu) != QG_OK || qg_backend_open("template0", &tmpl) != QG_OK) {
        printf("open: %s\n", qg_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    qg_backend_free(cpu);
    qg_backend_free(tmpl);
    return 0;
}

typedef struct model {
    qg_context *ctx;
    qg_tensor *w1, *w2, *bias, *x, *y1, *y2, *h, *out;
    qg_graph *g;
    qg_buffer *wbuf;
    float hw1[M][K], hw2[M][M], hb[M];
} model;

/* out = w2 * (silu(w1 * x) + bias): MUL_MAT, SILU, ADD, MUL_MAT. x is an input the
 * scheduler allocates; weights live in a CPU buffer. */
static void build(model *m, qg_backend *weights_on) {
    qgt_rng r;
    qgt_seed(&r, 7);
    assert_int_equal(qg_context_new(&m->ctx), QG_OK);
    m->w1 = qg_set_name(qg_new_tensor_2d(m->ctx, QG_TYPE_F32, K, M), "w1");
    m->w2 = qg_set_name(qg_new_tensor_2d(m->ctx, QG_TYPE_F32, M, M), "w2");
    m->bias = qg_set_name(qg_new_tensor_1d(m->ctx, QG_TYPE_F32, M), "bias");
    assert_int_equal(qg_backend_alloc_ctx_tensors(weights_on, m->ctx, &m->wbuf), QG_OK);
    qgt_fill_uniform(&r, &m->hw1[0][0], M * K, -1, 1);
    qgt_fill_uniform(&r, &m->hw2[0][0], M * M, -1, 1);
    qgt_fill_uniform(&r, m->hb, M, -1, 1);
    assert_int_equal(qg_tensor_set(m->w1, m->hw1, 0, sizeof m->hw1), QG_OK);
    assert_int_equal(qg_tensor_set(m->w2, m->hw2, 0, sizeof m->hw2), QG_OK);
    assert_int_equal(qg_tensor_set(m->bias, m->hb, 0, sizeof m->hb), QG_OK);
    m->x = qg_set_name(qg_new_tensor_2d(m->ctx, QG_TYPE_F32, K, N), "x");
    qg_set_input(m->x);
    m->y1 = qg_set_name(qg_mul_mat(m->ctx, m->w1, m->x), "y1");
    m->h = qg_set_name(qg_silu(m->ctx, m->y1), "h");
    m->y2 = qg_set_name(qg_add(m->ctx, m->h, m->bias), "y2");
    m->out = qg_set_name(qg_mul_mat(m->ctx, m->w2, m->y2), "out");
    assert_int_equal(qg_context_status(m->ctx), QG_OK);
    assert_int_equal(qg_graph_new(&m->g), QG_OK);
    assert_int_equal(qg_graph_add(m->g, m->out), QG_OK);
}

static void destroy(model *m) {
    qg_graph_free(m->g);
    qg_buffer_free(m->wbuf);
    qg_context_free(m->ctx);
}

static void reference(const model *m, const float x[N][K], double out[N][M]) {
    for (int n = 0; n < N; n++) {
        double y2[M];
        for (int i = 0; i < M; i++) {
            double a = 0;
            for (int k = 0; k < K; k++) a += (double)m->hw1[i][k] * x[n][k];
            y2[i] = a / (1 + exp(-a)) + m->hb[i];
        }
        for (int i = 0; i < M; i++) {
            double a = 0;
            for (int k = 0; k < M; k++) a += (double)m->hw2[i][k] * y2[k];
            out[n][i] = a;
        }
    }
}

static void run_and_check(qg_sched *s, model *m, uint64_t seed, float result[N][M]) {
    qgt_rng r;
    qgt_seed(&r, seed);
    float x[N][K];
    qgt_fill_uniform(&r, &x[0][0], N * K, -1, 1);
    assert_int_equal(qg_sched_alloc(s, m->g), QG_OK);
    assert_int_equal(qg_tensor_set(m->x, x, 0, sizeof x), QG_OK);
    assert_int_equal(qg_sched_compute(s, m->g), QG_OK);
    assert_int_equal(qg_tensor_get(m->out, result, 0, sizeof(float) * N * M), QG_OK);
    double ref[N][M];
    reference(m, x, ref);
    double max_err = 0;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < M; i++) max_err = fmax(max_err, fabs(ref[n][i] - result[n][i]) / (1 + fabs(ref[n][i])));
    printf("max relative error vs double: %.3g\n", max_err);
    assert_true(max_err < 1e-5);
}

static void test_two_backends(void **state) {
    (void)state;
    model m;
    build(&m, cpu);
    qg_backend *list[] = {tmpl, cpu};
    qg_sched *s;
    assert_int_equal(qg_sched_new(list, 2, &s), QG_OK);
    float r2[N][M], r1[N][M];
    run_and_check(s, &m, 11, r2);
    /* MUL_MAT and ADD go to the template, SILU falls back to the CPU. */
    assert_ptr_equal(qg_sched_node_backend(s, m.y1), tmpl);
    assert_ptr_equal(qg_sched_node_backend(s, m.h), cpu);
    assert_ptr_equal(qg_sched_node_backend(s, m.y2), tmpl);
    assert_ptr_equal(qg_sched_node_backend(s, m.out), tmpl);
    qg_sched_stats st;
    assert_int_equal(qg_sched_get_stats(s, &st), QG_OK);
    printf("splits %d, copies %d (%zu bytes); buffers: template %zu (naive %zu), cpu %zu (naive %zu)\n", st.n_splits,
           st.n_copies, st.copy_bytes, st.planned_bytes[0], st.naive_bytes[0], st.planned_bytes[1], st.naive_bytes[1]);
    assert_int_equal(st.n_splits, 3);
    /* split 1 (template): w1 from the CPU (x is an input: it lives on its first user);
     * split 2 (cpu): y1; split 3 (template): h, bias, w2. */
    assert_int_equal(st.n_copies, 5);
    assert_int_equal(st.copy_bytes, sizeof(float) * (K * M + M * N + M * N + M + M * M));
    /* New inputs, same allocation: results follow the inputs. */
    run_and_check(s, &m, 12, r2);
    qg_sched_free(s);

    /* The CPU alone gives the same numbers (within float rounding of the two kernels). */
    assert_int_equal(qg_sched_new(&cpu, 1, &s), QG_OK);
    run_and_check(s, &m, 12, r1);
    assert_int_equal(qg_sched_get_stats(s, &st), QG_OK);
    assert_int_equal(st.n_splits, 1);
    assert_int_equal(st.n_copies, 0);
    for (int n = 0; n < N; n++)
        for (int i = 0; i < M; i++) assert_true(fabsf(r1[n][i] - r2[n][i]) <= 1e-5f * (1 + fabsf(r1[n][i])));
    qg_sched_free(s);
    destroy(&m);
}

/* Weights on the template device, used by a CPU node: copied the other way. */
static void test_weights_on_other_backend(void **state) {
    (void)state;
    model m;
    build(&m, tmpl);
    qg_sched *s;
    assert_int_equal(qg_sched_new(&cpu, 1, &s), QG_OK);
    float r[N][M];
    run_and_check(s, &m, 3, r);
    qg_sched_stats st;
    assert_int_equal(qg_sched_get_stats(s, &st), QG_OK);
    assert_int_equal(st.n_copies, 3); /* w1, bias, w2 into the CPU split */
    qg_sched_free(s);
    destroy(&m);
}

/* With weight affinity the nodes follow the CPU-resident weights (and the nodes they
 * feed): one split on the CPU, nothing copied, even with the template listed first. */
static void test_weight_affinity(void **state) {
    (void)state;
    model m;
    build(&m, cpu);
    qg_backend *list[] = {tmpl, cpu};
    qg_sched *s;
    assert_int_equal(qg_sched_new(list, 2, &s), QG_OK);
    assert_int_equal(qg_sched_set_weight_affinity(s, true), QG_OK);
    float r[N][M];
    run_and_check(s, &m, 5, r);
    assert_ptr_equal(qg_sched_node_backend(s, m.y1), cpu);
    assert_ptr_equal(qg_sched_node_backend(s, m.h), cpu);
    assert_ptr_equal(qg_sched_node_backend(s, m.y2), cpu);
    assert_ptr_equal(qg_sched_node_backend(s, m.out), cpu);
    qg_sched_stats st;
    assert_int_equal(qg_sched_get_stats(s, &st), QG_OK);
    assert_int_equal(st.n_splits, 1);
    assert_int_equal(st.n_copies, 0);
    qg_sched_free(s);
    destroy(&m);

    /* Weights on the template: the matrix products and the add follow them there, SILU
     * (unsupported there) falls back to the CPU. */
    build(&m, tmpl);
    assert_int_equal(qg_sched_new(list, 2, &s), QG_OK);
    assert_int_equal(qg_sched_set_weight_affinity(s, true), QG_OK);
    run_and_check(s, &m, 6, r);
    assert_ptr_equal(qg_sched_node_backend(s, m.y1), tmpl);
    assert_ptr_equal(qg_sched_node_backend(s, m.h), cpu);
    assert_ptr_equal(qg_sched_node_backend(s, m.y2), tmpl);
    assert_ptr_equal(qg_sched_node_backend(s, m.out), tmpl);
    qg_sched_free(s);
    destroy(&m);
}

static void test_unsupported_everywhere(void **state) {
    (void)state;
    model m;
    build(&m, tmpl);
    qg_sched *s;
    assert_int_equal(qg_sched_new(&tmpl, 1, &s), QG_OK);
    assert_int_equal(qg_sched_alloc(s, m.g), QG_ERR_UNSUPPORTED);
    printf("expected error: %s\n", qg_last_error());
    assert_non_null(strstr(qg_last_error(), "'h'"));
    assert_non_null(strstr(qg_last_error(), "SILU"));
    assert_non_null(strstr(qg_last_error(), "template0"));
    qg_sched_free(s);
    destroy(&m);
}

/* Many intermediate tensors: the planner must reuse memory without corrupting values. */
static void test_reuse_keeps_values(void **state) {
    (void)state;
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *x = qg_new_tensor_1d(ctx, QG_TYPE_F32, 1000);
    qg_set_input(x);
    qg_tensor *acc = x;
    for (int i = 0; i < 30; i++) acc = qg_add(ctx, qg_scale(ctx, acc, 0.5f), x); /* acc = acc/2 + x */
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, acc), QG_OK);
    qg_sched *s;
    assert_int_equal(qg_sched_new(&cpu, 1, &s), QG_OK);
    assert_int_equal(qg_sched_alloc(s, g), QG_OK);
    float hx[1000], out[1000];
    for (int i = 0; i < 1000; i++) hx[i] = (float)i / 100.0f;
    assert_int_equal(qg_tensor_set(x, hx, 0, sizeof hx), QG_OK);
    assert_int_equal(qg_sched_compute(s, g), QG_OK);
    assert_int_equal(qg_tensor_get(acc, out, 0, sizeof out), QG_OK);
    for (int i = 0; i < 1000; i++) {
        float e = hx[i];
        for (int j = 0; j < 30; j++) e = e * 0.5f + hx[i];
        assert_true(fabsf(out[i] - e) <= 1e-5f * (1 + fabsf(e)));
    }
    qg_sched_stats st;
    assert_int_equal(qg_sched_get_stats(s, &st), QG_OK);
    printf("61 tensors of 4000 bytes: planned %zu, naive %zu\n", st.planned_bytes[0], st.naive_bytes[0]);
    assert_true(st.planned_bytes[0] <= 4 * 4032);
    qg_sched_free(s);
    qg_graph_free(g);
    qg_context_free(ctx);
}

int main(void) {
    if (!getenv("QG_TEMPLATE_PLUGIN")) return qgt_skip("QG_TEMPLATE_PLUGIN is not set (run through ctest)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_backends),
        cmocka_unit_test(test_weights_on_other_backend),
        cmocka_unit_test(test_weight_affinity),
        cmocka_unit_test(test_unsupported_everywhere),
        cmocka_unit_test(test_reuse_keeps_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
