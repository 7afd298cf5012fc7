/* Plugin calls failing mid-graph: the "fault" test plugin (tests/fault_plugin/fault.c)
 * fails its N-th compute() or buffer_alloc() on request. A graph alternating between
 * fault0 and the CPU is run with each compute call failing in turn: the scheduler must
 * return QG_ERR_BACKEND with the plugin's message, keep no extra buffer, and the same
 * scheduler and context must compute the right result once the fault is cleared. A
 * failing buffer_alloc must fail qg_sched_alloc and qg_backend_alloc_ctx_tensors cleanly
 * the same way. Leaks are caught by LeakSanitizer in the sanitizer pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { NE0 = 64, NE1 = 8, NEL = NE0 * NE1 };

static qg_backend *cpu, *fault;

static int setup(void **state) {
    (void)state;
    const char *path = getenv("QG_FAULT_PLUGIN");
    qg_plugin *p;
    if (!path || qg_plugin_load(path, &p) != QG_OK) {
        printf("cannot load the fault plugin (%s): %s\n", path ? path : "QG_FAULT_PLUGIN unset", qg_last_error());
        return -1;
    }
    if (qg_backend_open("cpu", &cpu) != QG_OK || qg_backend_open("fault0", &fault) != QG_OK) {
        printf("open: %s\n", qg_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    qg_backend_free(cpu);
    qg_backend_free(fault);
    return 0;
}

static long fault_stat(const char *key) {
    char v[32];
    assert_int_equal(qg_backend_get_option(fault, key, v, sizeof v), QG_OK);
    return strtol(v, NULL, 10);
}

static void set_fault(const char *key, long n) {
    char v[32];
    snprintf(v, sizeof v, "%ld", n);
    assert_int_equal(qg_backend_set_option(fault, key, v), QG_OK);
}

typedef struct model {
    qg_context *ctx;
    qg_buffer *wbuf;
    qg_tensor *a, *b, *out;
    qg_graph *g;
    float ha[NEL], hb[NEL];
} model;

/* out = scale(silu(a + b) + a, 0.5): ADD on fault0, SILU on the CPU, ADD on fault0,
 * SCALE on the CPU, so one run makes two fault0 compute calls and three copies. */
static void build(model *m, qg_backend *weights_on) {
    qgt_rng r;
    qgt_seed(&r, 3);
    qgt_fill_uniform(&r, m->ha, NEL, -2, 2);
    qgt_fill_uniform(&r, m->hb, NEL, -2, 2);
    assert_int_equal(qg_context_new(&m->ctx), QG_OK);
    m->a = qg_set_name(qg_new_tensor_2d(m->ctx, QG_TYPE_F32, NE0, NE1), "a");
    assert_int_equal(qg_backend_alloc_ctx_tensors(weights_on, m->ctx, &m->wbuf), QG_OK);
    assert_int_equal(qg_tensor_set(m->a, m->ha, 0, sizeof m->ha), QG_OK);
    m->b = qg_set_name(qg_new_tensor_2d(m->ctx, QG_TYPE_F32, NE0, NE1), "b");
    qg_set_input(m->b);
    qg_tensor *c = qg_set_name(qg_add(m->ctx, m->a, m->b), "c");
    qg_tensor *d = qg_set_name(qg_silu(m->ctx, c), "d");
    qg_tensor *e = qg_set_name(qg_add(m->ctx, d, m->a), "e");
    m->out = qg_set_name(qg_scale(m->ctx, e, 0.5f), "out");
    qg_set_output(m->out);
    assert_int_equal(qg_context_status(m->ctx), QG_OK);
    assert_int_equal(qg_graph_new(&m->g), QG_OK);
    assert_int_equal(qg_graph_add(m->g, m->out), QG_OK);
}

static void destroy(model *m) {
    qg_graph_free(m->g);
    qg_buffer_free(m->wbuf);
    qg_context_free(m->ctx);
}

static void check_result(const model *m, const float *got) {
    double max_err = 0;
    for (int i = 0; i < NEL; i++) {
        double c = (double)m->ha[i] + m->hb[i];
        double ref = 0.5 * (c / (1 + exp(-c)) + m->ha[i]);
        max_err = fmax(max_err, fabs(ref - got[i]) / (1 + fabs(ref)));
    }
    assert_true(max_err < 1e-5);
}

static void run_ok(qg_sched *s, model *m, float *out) {
    assert_int_equal(qg_tensor_set(m->b, m->hb, 0, sizeof m->hb), QG_OK);
    qg_status st = qg_sched_compute(s, m->g);
    if (st != QG_OK) printf("compute: %s\n", qg_last_error());
    assert_int_equal(st, QG_OK);
    assert_int_equal(qg_tensor_get(m->out, out, 0, sizeof(float) * NEL), QG_OK);
    check_result(m, out);
}

static void test_compute_fails_each_call(void **state) {
    (void)state;
    model m;
    build(&m, cpu);
    qg_backend *list[] = {fault, cpu};
    qg_sched *s;
    assert_int_equal(qg_sched_new(list, 2, &s), QG_OK);
    assert_int_equal(qg_sched_alloc(s, m.g), QG_OK);
    assert_ptr_equal(qg_sched_node_backend(s, qg_graph_node(m.g, 0)), fault);
    static float good[NEL], again[NEL];
    long before = fault_stat("computes");
    run_ok(s, &m, good);
    long per_run = fault_stat("computes") - before;
    printf("fault0 compute calls per run: %ld\n", per_run);
    assert_int_equal(per_run, 2);
    long live = fault_stat("live_buffers");
    /* Each of the fault0 calls of a run fails in turn, then with the fault cleared the
     * same scheduler gives the same bits. Call N = per_run + 1 falls in the second run. */
    for (long n = 1; n <= per_run + 1; n++) {
        set_fault("fail_compute_at", n);
        qg_status st = QG_OK;
        int runs = 0;
        while (st == QG_OK && runs < 3) {
            assert_int_equal(qg_tensor_set(m.b, m.hb, 0, sizeof m.hb), QG_OK);
            st = qg_sched_compute(s, m.g);
            runs++;
        }
        assert_int_equal(st, QG_ERR_BACKEND);
        assert_int_equal(runs, n > per_run ? 2 : 1);
        char want[64];
        snprintf(want, sizeof want, "injected failure of compute call %ld", n);
        printf("N=%ld: %s\n", n, qg_last_error());
        assert_non_null(strstr(qg_last_error(), want));
        assert_int_equal(fault_stat("live_buffers"), live);
        set_fault("fail_compute_at", 0);
        run_ok(s, &m, again);
        assert_memory_equal(good, again, sizeof good);
    }
    qg_sched_free(s);
    destroy(&m);
    assert_int_equal(fault_stat("live_buffers"), 0);
}

static void test_buffer_alloc_fails(void **state) {
    (void)state;
    static float good[NEL];
    long live = fault_stat("live_buffers");
    /* The weights' buffer on fault0. */
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_new_tensor_1d(ctx, QG_TYPE_F32, 1000);
    qg_buffer *buf = NULL;
    set_fault("fail_alloc_at", 1);
    assert_int_equal(qg_backend_alloc_ctx_tensors(fault, ctx, &buf), QG_ERR_NO_MEMORY);
    assert_null(buf);
    assert_non_null(strstr(qg_last_error(), "injected failure of buffer_alloc"));
    assert_int_equal(fault_stat("live_buffers"), live);
    assert_int_equal(qg_backend_alloc_ctx_tensors(fault, ctx, &buf), QG_OK);
    assert_int_equal(fault_stat("live_buffers"), live + 1);
    qg_buffer_free(buf);
    qg_context_free(ctx);

    /* The scheduler's compute buffer on fault0: allocation fails, then works. */
    model m;
    build(&m, fault);
    live = fault_stat("live_buffers");
    qg_backend *list[] = {fault, cpu};
    qg_sched *s;
    assert_int_equal(qg_sched_new(list, 2, &s), QG_OK);
    set_fault("fail_alloc_at", 1);
    qg_status st = qg_sched_alloc(s, m.g);
    printf("sched_alloc with a failing buffer_alloc: %s: %s\n", qg_status_name(st), qg_last_error());
    assert_int_equal(st, QG_ERR_NO_MEMORY);
    assert_non_null(strstr(qg_last_error(), "injected failure of buffer_alloc"));
    assert_int_equal(fault_stat("live_buffers"), live);
    /* compute re-plans by itself, and fails the same way while the fault is armed */
    set_fault("fail_alloc_at", 1);
    assert_int_equal(qg_sched_compute(s, m.g), QG_ERR_NO_MEMORY);
    set_fault("fail_alloc_at", 0);
    /* the failed allocation left the input without storage: allocate, then set it */
    assert_int_equal(qg_sched_alloc(s, m.g), QG_OK);
    run_ok(s, &m, good);
    assert_int_equal(fault_stat("live_buffers"), live + 1);
    qg_sched_free(s);
    destroy(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compute_fails_each_call),
        cmocka_unit_test(test_buffer_alloc_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
