/* Allocation-failure sweep: a workload touching every subsystem (plugin load and
 * qg_backend_open, context and graph building, the planner, the scheduler on the CPU
 * with copies to and from the template backend, GGUF and safetensors writing and
 * reading, model loading with and without conversion) is run once to count its host
 * allocations k, then again for N = 1..k with the N-th allocation failing
 * (qg_alloc_fail_after). Every run must end in QG_OK with the same result as the clean
 * run, or in an error status with a message; nothing may crash, and a clean run after
 * each faulted one must still give the same result. LeakSanitizer (sanitizer pass)
 * checks that failed runs free what they took. Plugin discovery, which happens once
 * per process, is swept the same way in child processes. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

enum { K = 64, M = 32, N = 4 };

static char dir[256];
static bool have_template;

typedef struct result {
    float out[N * M];
    float gguf_first, st_first, model_q8_sum, model_gguf_sum;
} result;

#define TRY(expr)                                                                                                      \
    do {                                                                                                               \
        if ((st = (expr)) != QG_OK) goto done;                                                                         \
    } while (0)
#define NEED(ptr)                                                                                                      \
    do {                                                                                                               \
        if (!(ptr)) {                                                                                                  \
            st = QG_ERR_NO_MEMORY;                                                                                     \
            if (!*qg_last_error()) qg_set_error(st, "NULL from " #ptr);                                                \
            goto done;                                                                                                 \
        }                                                                                                              \
    } while (0)

static float tensor_sum(const qg_tensor *t, qg_status *st) {
    int64_t n = qg_nelements(t);
    float *f = malloc((size_t)n * sizeof *f), s = 0;
    if (!f) abort();
    *st = qg_tensor_get_f32(t, f);
    for (int64_t i = 0; *st == QG_OK && i < n; i++) s += f[i];
    free(f);
    return s;
}

/* The workload; QG_OK and *r filled, or an error status. */
static qg_status workload(result *r) {
    qg_status st = QG_OK;
    qg_backend *cpu = NULL, *tmpl = NULL;
    qg_context *ctx = NULL;
    qg_buffer *wbuf = NULL;
    qg_graph *g = NULL;
    qg_sched *s = NULL;
    qg_gguf_writer *gw = NULL;
    qg_gguf *gf = NULL;
    qg_st_writer *sw = NULL;
    qg_st *sf = NULL;
    qg_model *m1 = NULL, *m2 = NULL;
    static float hw[M * K], hx[N * K], hb[M];
    static uint8_t hq[M * M / 32 * 34]; /* wq: M x M in Q8_0 (34 bytes per 32 values) */
    qgt_rng rng;
    qgt_seed(&rng, 5);
    qgt_fill_uniform(&rng, hw, M * K, -1, 1);
    qgt_fill_uniform(&rng, hx, N * K, -1, 1);
    qgt_fill_uniform(&rng, hb, M, -1, 1);
    qg_type_get(QG_TYPE_Q8_0)->from_float(hw, hq, M * M);

    TRY(qg_backend_open("cpu", &cpu));
    if (have_template) TRY(qg_backend_open("template0", &tmpl));

    /* graph: out = soft_max(mul_mat(wq, silu(mul_mat(w, x) + b)')) ... in steps */
    TRY(qg_context_new(&ctx));
    qg_tensor *w = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, K, M), "w");
    qg_tensor *wq = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_Q8_0, M, M), "wq");
    qg_tensor *b = qg_set_name(qg_new_tensor_1d(ctx, QG_TYPE_F32, M), "b");
    TRY(qg_context_status(ctx));
    TRY(qg_backend_alloc_ctx_tensors(cpu, ctx, &wbuf));
    TRY(qg_tensor_set(w, hw, 0, sizeof hw));
    TRY(qg_tensor_set(wq, hq, 0, qg_nbytes(wq)));
    TRY(qg_tensor_set(b, hb, 0, sizeof hb));
    qg_tensor *x = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, K, N), "x");
    qg_set_input(x);
    qg_tensor *y = qg_mul_mat(ctx, w, x);
    qg_tensor *h = qg_silu(ctx, y);
    qg_tensor *hb2 = qg_add(ctx, h, b);
    qg_tensor *z = qg_mul_mat(ctx, wq, hb2);
    qg_tensor *out = qg_soft_max(ctx, z, NULL, 0.5f);
    qg_set_output(out);
    TRY(qg_context_status(ctx));
    TRY(qg_graph_new(&g));
    TRY(qg_graph_add(g, out));
    qg_plan_stats ps;
    TRY(qg_graph_plan(g, 64, &ps));
    qg_backend *list[2];
    int n_be = 0;
    if (tmpl) list[n_be++] = tmpl;
    list[n_be++] = cpu;
    TRY(qg_sched_new(list, n_be, &s));
    TRY(qg_sched_alloc(s, g));
    TRY(qg_tensor_set(x, hx, 0, sizeof hx));
    TRY(qg_sched_compute(s, g));
    TRY(qg_tensor_get(out, r->out, 0, sizeof r->out));

    /* GGUF round trip */
    char path[512];
    snprintf(path, sizeof path, "%s/w.gguf", dir);
    const char *names[] = {"alpha", "beta", "gamma"};
    uint32_t arr[3] = {1, 2, 3};
    int64_t ne[2] = {K, M};
    TRY(qg_gguf_writer_new(&gw));
    TRY(qg_gguf_set_str(gw, "general.name", "fault sweep"));
    TRY(qg_gguf_set_arr(gw, "test.arr", QG_GGUF_UINT32, arr, 3));
    TRY(qg_gguf_set_arr_str(gw, "test.names", names, 3));
    TRY(qg_gguf_add_tensor(gw, "w", QG_TYPE_F32, 2, ne, hw));
    TRY(qg_gguf_writer_save(gw, path));
    TRY(qg_gguf_open(path, &gf));
    int64_t ti = qg_gguf_find_tensor(gf, "w");
    if (ti < 0) {
        st = qg_set_error(QG_ERR_NOT_FOUND, "tensor w missing from %s", path);
        goto done;
    }
    memcpy(&r->gguf_first, (const char *)qg_gguf_tensor(gf, ti)->data, sizeof(float));

    /* safetensors round trip, then model loads */
    char spath[512];
    snprintf(spath, sizeof spath, "%s/w.safetensors", dir);
    int64_t shape[2] = {M, K};
    TRY(qg_st_writer_new(&sw));
    TRY(qg_st_writer_meta(sw, "format", "pt"));
    TRY(qg_st_writer_add(sw, "w", QG_ST_F32, 2, shape, hw));
    TRY(qg_st_writer_add(sw, "b", QG_ST_F32, 1, shape, hb));
    TRY(qg_st_writer_save(sw, spath));
    TRY(qg_st_open(spath, &sf));
    int64_t si = qg_st_find(sf, "w");
    if (si < 0) {
        st = qg_set_error(QG_ERR_NOT_FOUND, "tensor w missing from %s", spath);
        goto done;
    }
    memcpy(&r->st_first, qg_st_tensor(sf, si)->data, sizeof(float));
    qg_model_params mp = qg_model_default_params();
    mp.convert_to = QG_TYPE_Q8_0;
    TRY(qg_model_load(spath, cpu, &mp, &m1));
    qg_tensor *mw = qg_model_tensor(m1, "w");
    NEED(mw);
    r->model_q8_sum = tensor_sum(mw, &st);
    if (st != QG_OK) goto done;
    mp = qg_model_default_params();
    TRY(qg_model_load(path, cpu, &mp, &m2));
    mw = qg_model_tensor(m2, "w");
    NEED(mw);
    r->model_gguf_sum = tensor_sum(mw, &st);
done:
    qg_model_free(m2);
    qg_model_free(m1);
    qg_st_close(sf);
    qg_st_writer_free(sw);
    qg_gguf_close(gf);
    qg_gguf_writer_free(gw);
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(wbuf);
    qg_context_free(ctx);
    qg_backend_free(tmpl);
    qg_backend_free(cpu);
    return st;
}

static void test_sweep(void **state) {
    (void)state;
    result clean, r;
    memset(&clean, 0, sizeof clean);
    long c0 = qg_alloc_count();
    qg_status st = workload(&clean);
    if (st != QG_OK) printf("clean run: %s\n", qg_last_error());
    assert_int_equal(st, QG_OK);
    long k = qg_alloc_count() - c0;
    printf("workload: %ld allocations\n", k);
    assert_true(k > 50);
    long n_fail = 0, n_ok = 0;
    for (long n = 1; n <= k; n++) {
        memset(&r, 0, sizeof r);
        qg_clear_error();
        qg_alloc_fail_after(n);
        st = workload(&r);
        qg_alloc_fail_after(0);
        if (st == QG_OK) {
            n_ok++; /* the failure was absorbed (a cache, a fallback): same answer */
            if (memcmp(&r, &clean, sizeof r) != 0) fail_msg("N=%ld: run succeeded with a different result", n);
        } else {
            n_fail++;
            if (!*qg_last_error()) fail_msg("N=%ld: %s without a message", n, qg_status_name(st));
            if (n <= 3 || n % 200 == 0) printf("N=%ld: %s: %s\n", n, qg_status_name(st), qg_last_error());
        }
        /* the next un-faulted run still works */
        if (n % 16 == 0 || n == k) {
            memset(&r, 0, sizeof r);
            st = workload(&r);
            if (st != QG_OK) fail_msg("clean run after N=%ld: %s", n, qg_last_error());
            assert_memory_equal(&r, &clean, sizeof r);
        }
    }
    printf("N = 1..%ld: %ld clean failures, %ld absorbed (same result)\n", k, n_fail, n_ok);
}

/* Discovery runs once per process: each N in a child. The child exits 0 when discovery
 * and qg_backend_open("cpu") end in QG_OK or in an error with a message. */
static int discovery_child(long n, int fd) {
    /* only the CPU plugin: GPU runtimes take seconds to start in every child */
    char cpu_so[1024];
    const char *pdir = getenv("QG_PLUGIN_PATH");
    snprintf(cpu_so, sizeof cpu_so, "%s/libqg-cpu.so", pdir ? pdir : ".");
    setenv("QG_PLUGIN_PATH", cpu_so, 1);
    setenv("QG_PLUGIN_PATH_ONLY", "1", 1);
    long c0 = qg_alloc_count();
    qg_alloc_fail_after(n);
    qg_status st = qg_plugins_load_default();
    qg_backend *cpu = NULL;
    if (st == QG_OK || qg_device_count() > 0) {
        st = qg_backend_open("cpu", &cpu);
        qg_backend_free(cpu);
    }
    qg_alloc_fail_after(0);
    if (fd >= 0) {
        long k = qg_alloc_count() - c0;
        if (write(fd, &k, sizeof k) != (ssize_t)sizeof k) return 3;
    }
    if (st != QG_OK && !*qg_last_error()) return 2;
    return 0;
}

static void test_discovery_sweep(void **state) {
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) exit(discovery_child(0, fds[1]));
    close(fds[1]);
    long k = 0;
    assert_int_equal(read(fds[0], &k, sizeof k), (ssize_t)sizeof k);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("discovery + open: %ld allocations\n", k);
    for (long n = 1; n <= k; n++) {
        fflush(NULL);
        pid = fork();
        if (pid == 0) exit(discovery_child(n, -1));
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status)) fail_msg("discovery with allocation %ld failing: killed by signal %d", n, WTERMSIG(status));
        if (WEXITSTATUS(status) != 0) fail_msg("discovery with allocation %ld failing: child exit status %d", n, WEXITSTATUS(status));
    }
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/qg-fault-alloc-XXXXXX");
    if (!mkdtemp(dir)) return qgt_skip("cannot create a temporary directory");
    const struct CMUnitTest first[] = {cmocka_unit_test(test_discovery_sweep)};
    int rc = cmocka_run_group_tests(first, NULL, NULL);
    const char *tp = getenv("QG_TEMPLATE_PLUGIN");
    qg_plugin *p;
    have_template = tp && qg_plugin_load(tp, &p) == QG_OK;
    if (!have_template) printf("note: template plugin not loaded (%s); the sweep runs on the CPU only\n", qg_last_error());
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep)};
    rc |= cmocka_run_group_tests(tests, NULL, NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/w.gguf", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    remove(path);
    rmdir(dir);
    return rc;
}
