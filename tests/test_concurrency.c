/* Concurrency: two threads each build their own graph (different shapes: quantized
 * MUL_MAT, SOFT_MAX, ROPE, RMS_NORM, SILU) and run it many times on one device, at the
 * same time; every result must be bit-identical to the same graph run alone.
 *
 * What the API promises (see the report in docs/security.md): qg_last_error() is per
 * thread; one qg_backend may be shared by threads, the library serialises compute and
 * synchronize on it (a mutex in the backend object) while each thread uses its own
 * context, graph, scheduler and buffers; two qg_backend_open() of one device give two
 * independent plugin devices (own thread pool and scratch) that run in parallel. Both
 * ways are tested, on "cpu" and, where their plugins load, "opencl0" and "vulkan0".
 * tools/tsan-check.sh runs this test under ThreadSanitizer. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { ITERS = 12 };

typedef struct job {
    int kind;            /* 0 or 1: which graph */
    qg_backend *be;
    uint64_t seed;
    float *out;          /* result of the last iteration */
    size_t n_out;
    int iters;
    qg_status st;
    char err[512];
} job;

/* kind 0: soft_max(mul_mat(Wq4_0 [128, 48], x [128, 6]) * 0.25) + silu
 * kind 1: rms_norm(rope(mul_mat(Wq8_0 [64, 128], x [64, 5]) as [16, 8, 5]))  */
static qg_status run_job(job *j) {
    qg_status st = QG_OK;
    qg_context *ctx = NULL;
    qg_buffer *wbuf = NULL;
    qg_graph *g = NULL;
    qg_sched *s = NULL;
    float *hw = NULL, *hx = NULL;
    void *hq = NULL;
    const int k = j->kind ? 64 : 128, m = j->kind ? 128 : 48, n = j->kind ? 5 : 6;
    const qg_type wt = j->kind ? QG_TYPE_Q8_0 : QG_TYPE_Q4_0;
    qgt_rng r;
    qgt_seed(&r, j->seed);
    hw = malloc(sizeof(float) * (size_t)(k * m));
    hx = malloc(sizeof(float) * (size_t)(k * n));
    hq = malloc(qg_row_size(wt, k) * (size_t)m);
    if (!hw || !hx || !hq) abort();
    qgt_fill_uniform(&r, hw, k * m, -1, 1);
    qgt_fill_uniform(&r, hx, k * n, -1, 1);
    qg_type_get(wt)->from_float(hw, hq, (int64_t)k * m);

    if ((st = qg_context_new(&ctx)) != QG_OK) goto done;
    qg_tensor *w = qg_new_tensor_2d(ctx, wt, k, m);
    qg_tensor *pos = qg_new_tensor_1d(ctx, QG_TYPE_I32, n);
    if ((st = qg_context_status(ctx)) != QG_OK) goto done;
    if ((st = qg_backend_alloc_ctx_tensors(j->be, ctx, &wbuf)) != QG_OK) goto done;
    if ((st = qg_tensor_set(w, hq, 0, qg_nbytes(w))) != QG_OK) goto done;
    int32_t hp[8];
    for (int i = 0; i < n; i++) hp[i] = 3 * i + 1;
    if ((st = qg_tensor_set(pos, hp, 0, sizeof(int32_t) * (size_t)n)) != QG_OK) goto done;
    qg_tensor *x = qg_new_tensor_2d(ctx, QG_TYPE_F32, k, n);
    qg_set_input(x);
    qg_tensor *y = qg_mul_mat(ctx, w, x), *out;
    if (j->kind == 0) {
        out = qg_silu(ctx, qg_soft_max(ctx, y, NULL, 0.25f));
    } else {
        qg_tensor *y3 = qg_reshape_3d(ctx, y, 16, 8, n);
        out = qg_rms_norm(ctx, qg_rope(ctx, y3, pos, 16, QG_ROPE_NEOX, 10000.0f, 1.0f), 1e-6f);
    }
    qg_set_output(out);
    if ((st = qg_context_status(ctx)) != QG_OK) goto done;
    if ((st = qg_graph_new(&g)) != QG_OK || (st = qg_graph_add(g, out)) != QG_OK) goto done;
    if ((st = qg_sched_new(&j->be, 1, &s)) != QG_OK) goto done;
    if ((st = qg_sched_alloc(s, g)) != QG_OK) goto done;
    j->n_out = (size_t)qg_nelements(out);
    j->out = malloc(j->n_out * sizeof(float));
    float *prev = malloc(j->n_out * sizeof(float));
    if (!j->out || !prev) abort();
    for (int it = 0; it < j->iters && st == QG_OK; it++) {
        if ((st = qg_tensor_set(x, hx, 0, sizeof(float) * (size_t)(k * n))) != QG_OK) break;
        if ((st = qg_sched_compute(s, g)) != QG_OK) break;
        if ((st = qg_tensor_get(out, j->out, 0, j->n_out * sizeof(float))) != QG_OK) break;
        /* every iteration of one job must agree with the previous one, too */
        if (it > 0 && memcmp(prev, j->out, j->n_out * sizeof(float)) != 0)
            st = qg_set_error(QG_ERR_BACKEND, "iteration %d of job %d differs from iteration %d", it, j->kind, it - 1);
        memcpy(prev, j->out, j->n_out * sizeof(float));
    }
    free(prev);
done:
    if (st != QG_OK) snprintf(j->err, sizeof j->err, "%s", qg_last_error());
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(wbuf);
    qg_context_free(ctx);
    free(hw);
    free(hx);
    free(hq);
    j->st = st;
    return st;
}

static void *thread_main(void *p) {
    run_job(p);
    return NULL;
}

/* Sequential references, then both jobs at once on be0 / be1 (possibly the same). */
static void check_device(const char *name, bool two_opens, bool required) {
    qg_backend *be0 = NULL, *be1 = NULL;
    if (qg_backend_open(name, &be0) != QG_OK) {
        if (required) fail_msg("%s: %s", name, qg_last_error());
        printf("%s: not available (%s); skipped\n", name, qg_last_error());
        return;
    }
    if (two_opens) assert_int_equal(qg_backend_open(name, &be1), QG_OK);
    else be1 = be0;
    job ref[2], par[2];
    for (int i = 0; i < 2; i++) {
        memset(&ref[i], 0, sizeof ref[i]);
        ref[i] = (job){.kind = i, .be = be0, .seed = 100 + (uint64_t)i, .iters = 1};
        if (run_job(&ref[i]) != QG_OK) fail_msg("%s: sequential job %d: %s", name, i, ref[i].err);
        memset(&par[i], 0, sizeof par[i]);
        par[i] = (job){.kind = i, .be = i ? be1 : be0, .seed = 100 + (uint64_t)i, .iters = ITERS};
    }
    pthread_t t[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, thread_main, &par[i]), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        if (par[i].st != QG_OK) fail_msg("%s: concurrent job %d: %s", name, i, par[i].err);
        assert_int_equal(par[i].n_out, ref[i].n_out);
        assert_memory_equal(par[i].out, ref[i].out, ref[i].n_out * sizeof(float));
        free(par[i].out);
        free(ref[i].out);
    }
    printf("%s (%s): 2 threads x %d runs bit-identical to sequential runs\n", name,
           two_opens ? "two opens" : "one shared backend", ITERS);
    if (two_opens) qg_backend_free(be1);
    qg_backend_free(be0);
}

static void test_cpu_shared(void **state) {
    (void)state;
    check_device("cpu", false, true);
}

static void test_cpu_two_opens(void **state) {
    (void)state;
    check_device("cpu", true, true);
}

static void test_gpus(void **state) {
    (void)state;
    const char *only = getenv("QG_CONCURRENCY_CPU_ONLY");
    if (only && *only == '1') {
        printf("QG_CONCURRENCY_CPU_ONLY=1: opencl0/vulkan0 not tried\n");
        return;
    }
    check_device("opencl0", false, false);
    check_device("opencl0", true, false);
    check_device("vulkan0", false, false);
    check_device("vulkan0", true, false);
}

/* qg_last_error is per thread: an error set on one thread is not seen on another. */
static void *set_error_thread(void *p) {
    (void)p;
    qg_set_error(QG_ERR_IO, "error of the other thread");
    return (void *)(intptr_t)(strcmp(qg_last_error(), "error of the other thread") == 0);
}

static void test_last_error_per_thread(void **state) {
    (void)state;
    qg_set_error(QG_ERR_FORMAT, "error of the main thread");
    pthread_t t;
    void *ok;
    assert_int_equal(pthread_create(&t, NULL, set_error_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &ok), 0);
    assert_true(ok != NULL);
    assert_string_equal(qg_last_error(), "error of the main thread");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_error_per_thread),
        cmocka_unit_test(test_cpu_shared),
        cmocka_unit_test(test_cpu_two_opens),
        cmocka_unit_test(test_gpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
