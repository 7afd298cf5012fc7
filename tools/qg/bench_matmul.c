/* `qg bench matmul`: time one mul_mat through the public scheduler API.
 *
 * The weights are random values in [-1, 1) quantized row by row with the type's own
 * from_float. Some reference quantizers (the K-quants' scale searches) take seconds per
 * million values, so at most DISTINCT_ROWS rows are quantized (spread over threads) and
 * the matrix repeats them; the kernels' speed does not depend on the values. The matrix
 * is uploaded into weights_count distinct copies so that a working set larger than the
 * caches can be measured. Each timed run computes mul_mat with the
 * next matrix in turn (one graph and scheduler per matrix), waits for the device, and is
 * timed on its own; warm-up runs come first and are not counted.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_WEIGHTS 64
#define QUANT_THREADS_MAX 16
#define DISTINCT_ROWS 512

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* splitmix64: a fresh generator per row keeps the data independent of the thread split. */
static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fill_row(float *x, int64_t k, uint64_t seed) {
    uint64_t s = seed;
    for (int64_t i = 0; i < k; i++) x[i] = (float)((double)(mix(&s) >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

typedef struct quant_job {
    const qg_type_traits *tt;
    int64_t k, m, lo, hi;
    uint64_t seed;
    unsigned char *dst;
    size_t row_bytes;
    int failed;
} quant_job;

static void *quant_rows(void *arg) {
    quant_job *j = arg;
    float *row = malloc((size_t)j->k * sizeof(float));
    if (!row) {
        j->failed = 1;
        return NULL;
    }
    for (int64_t r = j->lo; r < j->hi; r++) {
        fill_row(row, j->k, j->seed * 0x100000001b3ull + (uint64_t)r);
        j->tt->from_float(row, j->dst + (size_t)r * j->row_bytes, j->k);
    }
    free(row);
    return NULL;
}

/* Random weights of the type, quantized with n_threads threads. */
static qg_status make_weights(const qg_type_traits *tt, int64_t k, int64_t m, uint64_t seed, int n_threads,
                              unsigned char *dst) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > QUANT_THREADS_MAX) n_threads = QUANT_THREADS_MAX;
    quant_job jobs[QUANT_THREADS_MAX];
    pthread_t tids[QUANT_THREADS_MAX];
    bool started[QUANT_THREADS_MAX] = {false};
    for (int t = 0; t < n_threads; t++) {
        jobs[t] = (quant_job){ .tt = tt, .k = k, .m = m, .lo = m * t / n_threads, .hi = m * (t + 1) / n_threads,
                               .seed = seed, .dst = dst, .row_bytes = qg_row_size(tt->type, k) };
        if (t > 0) started[t] = pthread_create(&tids[t], NULL, quant_rows, &jobs[t]) == 0;
    }
    quant_rows(&jobs[0]);
    int failed = jobs[0].failed;
    for (int t = 1; t < n_threads; t++) {
        if (started[t]) {
            pthread_join(tids[t], NULL);
            failed |= jobs[t].failed;
        } else {
            quant_rows(&jobs[t]); /* could not start a thread: do its share here */
            failed |= jobs[t].failed;
        }
    }
    if (failed) return qg_set_error(QG_ERR_NO_MEMORY, "bench: out of memory quantizing the weights");
    return QG_OK;
}

static qg_status check_opts(const bench_matmul_opts *o, const qg_type_traits **tt) {
    *tt = qg_type_get(o->type);
    if (!*tt) return qg_set_error(QG_ERR_INVALID_ARG, "bench: unknown type id %d", (int)o->type);
    if (!(*tt)->vec_dot)
        return qg_set_error(QG_ERR_UNSUPPORTED, "bench: type %s cannot be a mul_mat weight", (*tt)->name);
    if (!(*tt)->from_float)
        return qg_set_error(QG_ERR_UNSUPPORTED, "bench: type %s has no quantizer to make weights with", (*tt)->name);
    if (o->m < 1 || o->k < 1 || o->n < 1)
        return qg_set_error(QG_ERR_INVALID_ARG, "bench: sizes must be >= 1 (m=%lld k=%lld n=%lld)", (long long)o->m,
                            (long long)o->k, (long long)o->n);
    if (o->k % (*tt)->block_size != 0)
        return qg_set_error(QG_ERR_SHAPE, "bench: k=%lld is not a multiple of %s's block size %lld", (long long)o->k,
                            (*tt)->name, (long long)(*tt)->block_size);
    if (o->weights_count < 1 || o->weights_count > MAX_WEIGHTS)
        return qg_set_error(QG_ERR_INVALID_ARG, "bench: --weights-count %d not in 1..%d", o->weights_count,
                            MAX_WEIGHTS);
    if (o->reps < 1) return qg_set_error(QG_ERR_INVALID_ARG, "bench: --reps %d < 1", o->reps);
    return QG_OK;
}

typedef struct bench_state {
    qg_backend *be;
    qg_context *ctx;
    qg_buffer *buf;
    qg_graph *g[MAX_WEIGHTS];
    qg_sched *s[MAX_WEIGHTS];
    unsigned char *host_w;
    float *host_x;
} bench_state;

static void state_free(bench_state *b) {
    for (int i = 0; i < MAX_WEIGHTS; i++) {
        qg_sched_free(b->s[i]);
        qg_graph_free(b->g[i]);
    }
    qg_buffer_free(b->buf);
    qg_context_free(b->ctx);
    qg_backend_free(b->be);
    free(b->host_w);
    free(b->host_x);
}

static qg_status open_backend(const bench_matmul_opts *o, bench_state *b, int *threads) {
    qg_status st = qg_backend_open(o->backend, &b->be);
    if (st != QG_OK) return st;
    if (o->threads > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", o->threads);
        st = qg_backend_set_option(b->be, "threads", v);
        if (st != QG_OK) return st;
    }
    char v[32];
    *threads = qg_backend_get_option(b->be, "threads", v, sizeof v) == QG_OK ? atoi(v) : 0;
    qg_clear_error();
    return QG_OK;
}

/* Tensors, data and one scheduler per weight matrix. */
static qg_status build(const bench_matmul_opts *o, const qg_type_traits *tt, bench_state *b) {
    qg_status st = qg_context_new(&b->ctx);
    if (st != QG_OK) return st;
    qg_tensor *w[MAX_WEIGHTS], *out[MAX_WEIGHTS];
    for (int i = 0; i < o->weights_count; i++) w[i] = qg_new_tensor_2d(b->ctx, o->type, o->k, o->m);
    qg_tensor *x = qg_new_tensor_2d(b->ctx, QG_TYPE_F32, o->k, o->n);
    for (int i = 0; i < o->weights_count; i++) out[i] = qg_mul_mat(b->ctx, w[i], x);
    if ((st = qg_context_status(b->ctx)) != QG_OK)
        return qg_set_error(st, "bench: building the graph: %s", qg_context_error(b->ctx));
    if (!qg_backend_supports_op(b->be, out[0]))
        return qg_set_error(QG_ERR_UNSUPPORTED, "bench: device %s does not run mul_mat with %s weights", o->backend,
                            tt->name);
    if ((st = qg_backend_alloc_ctx_tensors(b->be, b->ctx, &b->buf)) != QG_OK) return st;

    const size_t wbytes = qg_nbytes(w[0]);
    b->host_w = malloc(wbytes);
    b->host_x = malloc((size_t)(o->k * o->n) * sizeof(float));
    if (!b->host_w || !b->host_x) return qg_set_error(QG_ERR_NO_MEMORY, "bench: out of host memory for the data");
    const int64_t distinct = o->m < DISTINCT_ROWS ? o->m : DISTINCT_ROWS;
    if ((st = make_weights(tt, o->k, distinct, o->seed, o->threads > 0 ? o->threads : 2, b->host_w)) != QG_OK)
        return st;
    const size_t block = (size_t)distinct * qg_row_size(o->type, o->k);
    for (size_t off = block; off < wbytes; off += block)
        memcpy(b->host_w + off, b->host_w, wbytes - off < block ? wbytes - off : block);
    for (int64_t j = 0; j < o->n; j++) fill_row(b->host_x + j * o->k, o->k, ~o->seed + (uint64_t)j);
    for (int i = 0; i < o->weights_count; i++)
        if ((st = qg_tensor_set(w[i], b->host_w, 0, wbytes)) != QG_OK) return st;
    if ((st = qg_tensor_set(x, b->host_x, 0, qg_nbytes(x))) != QG_OK) return st;

    for (int i = 0; i < o->weights_count; i++) {
        if ((st = qg_graph_new(&b->g[i])) != QG_OK) return st;
        if ((st = qg_graph_add(b->g[i], out[i])) != QG_OK) return st;
        if ((st = qg_sched_new(&b->be, 1, &b->s[i])) != QG_OK) return st;
        if ((st = qg_sched_alloc(b->s[i], b->g[i])) != QG_OK) return st;
    }
    return QG_OK;
}

static qg_status run_once(bench_state *b, int i) {
    qg_status st = qg_sched_compute(b->s[i], b->g[i]);
    if (st == QG_OK) st = qg_backend_synchronize(b->be);
    return st;
}

qg_status bench_matmul(const bench_matmul_opts *o, bench_matmul_result *r) {
    memset(r, 0, sizeof *r);
    const qg_type_traits *tt;
    qg_status st = check_opts(o, &tt);
    if (st != QG_OK) return st;
    bench_state b;
    memset(&b, 0, sizeof b);
    const double t_setup = bench_now();
    st = open_backend(o, &b, &r->threads);
    if (st == QG_OK) st = build(o, tt, &b);
    r->setup_s = bench_now() - t_setup;
    const int C = o->weights_count;
    for (int i = 0; st == QG_OK && i < o->warmup; i++) st = run_once(&b, i % C);
    double total = 0, best = 1e300;
    for (int i = 0; st == QG_OK && i < o->reps; i++) {
        const double t0 = bench_now();
        st = run_once(&b, i % C);
        const double dt = bench_now() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    if (st == QG_OK) {
        r->us_per_run = total / o->reps * 1e6;
        r->us_min = best * 1e6;
        r->weight_bytes = (double)qg_row_size(o->type, o->k) * (double)o->m;
        r->gflops = 2.0 * (double)o->m * (double)o->n * (double)o->k / (r->us_per_run * 1e3);
        r->gbps = r->weight_bytes / (r->us_per_run * 1e3);
    }
    state_free(&b);
    return st;
}
