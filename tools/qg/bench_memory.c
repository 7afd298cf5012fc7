/* `qg bench memory`: the machine's read bandwidth for a working set of a given size.
 *
 * The array is written once (so every page is really backed), then each pass has
 * n_threads threads sum disjoint contiguous slices of it as 64-bit integers with several
 * independent accumulators, using 32-byte AVX2 loads where the CPU has them (one core
 * cannot keep enough 8-byte reads in flight to reach the memory's bandwidth). A pass is
 * timed from the moment the threads are released to the moment the last one finishes;
 * the sums are kept so the compiler cannot drop the reads.
 *
 * With --backend DEV it measures a device instead: see bench_memory_device below.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include "../../core/backend_impl.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 256

typedef struct mem_shared {
    const uint64_t *data;
    size_t n_words;
    int n_threads;
    atomic_int go;          /* pass number + 1 to start a pass; -1 tells workers to exit */
    atomic_int done;        /* workers finished with the current pass */
    atomic_uint_fast64_t sink;
} mem_shared;

typedef struct mem_worker {
    mem_shared *sh;
    int ith;
} mem_worker;

static uint64_t sum_words_plain(const uint64_t *p, size_t n) {
    uint64_t a[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int u = 0; u < 8; u++) a[u] += p[i + (size_t)u];
    for (; i < n; i++) a[0] += p[i];
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* 32-byte loads: with 8-byte loads one core cannot keep enough reads in flight. */
__attribute__((target("avx2"))) static uint64_t sum_words_avx2(const uint64_t *p, size_t n) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a = _mm256_add_epi64(a, _mm256_loadu_si256((const __m256i *)(p + i)));
        b = _mm256_add_epi64(b, _mm256_loadu_si256((const __m256i *)(p + i + 4)));
        c = _mm256_add_epi64(c, _mm256_loadu_si256((const __m256i *)(p + i + 8)));
        d = _mm256_add_epi64(d, _mm256_loadu_si256((const __m256i *)(p + i + 12)));
    }
    a = _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, a);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + sum_words_plain(p + i, n - i);
}
#endif

static uint64_t sum_words(const uint64_t *p, size_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) return sum_words_avx2(p, n);
#endif
    return sum_words_plain(p, n);
}

static void slice(const mem_shared *sh, int ith, size_t *lo, size_t *hi) {
    *lo = sh->n_words * (size_t)ith / (size_t)sh->n_threads;
    *hi = sh->n_words * (size_t)(ith + 1) / (size_t)sh->n_threads;
}

/* Workers spin between passes: passes are back to back, and the spin ends the run. */
static void *mem_thread(void *arg) {
    mem_worker *w = arg;
    mem_shared *sh = w->sh;
    size_t lo, hi;
    slice(sh, w->ith, &lo, &hi);
    int seen = 0;
    for (;;) {
        int go;
        while ((go = atomic_load(&sh->go)) == seen) sched_yield();
        if (go < 0) return NULL;
        seen = go;
        atomic_fetch_add(&sh->sink, sum_words(sh->data + lo, hi - lo));
        atomic_fetch_add(&sh->done, 1);
    }
}

qg_status bench_memory(uint64_t size, int n_threads, int passes, bench_memory_result *r) {
    memset(r, 0, sizeof *r);
    if (n_threads < 1 || n_threads > MAX_THREADS)
        return qg_set_error(QG_ERR_INVALID_ARG, "bench memory: --threads %d not in 1..%d", n_threads, MAX_THREADS);
    if (size < 4096 || size > ((uint64_t)1 << 40))
        return qg_set_error(QG_ERR_INVALID_ARG, "bench memory: --size %llu not in 4096..2^40 bytes",
                            (unsigned long long)size);
    if (passes < 1) return qg_set_error(QG_ERR_INVALID_ARG, "bench memory: passes %d < 1", passes);
    const size_t bytes = (size_t)(size / 64 * 64);
    uint64_t *data = aligned_alloc(64, bytes);
    if (!data) return qg_set_error(QG_ERR_NO_MEMORY, "bench memory: cannot allocate %zu bytes", bytes);
    for (size_t i = 0; i < bytes / 8; i++) data[i] = i * 0x9e3779b97f4a7c15ull;

    mem_shared sh = { .data = data, .n_words = bytes / 8, .n_threads = n_threads };
    atomic_init(&sh.go, 0);
    atomic_init(&sh.done, 0);
    atomic_init(&sh.sink, 0);
    mem_worker *ws = calloc((size_t)n_threads, sizeof *ws);
    pthread_t *tids = calloc((size_t)n_threads, sizeof *tids);
    qg_status st = QG_OK;
    if (!ws || !tids) st = qg_set_error(QG_ERR_NO_MEMORY, "bench memory: out of memory for %d threads", n_threads);
    int started = 1;
    for (int t = 1; st == QG_OK && t < n_threads; t++) {
        ws[t] = (mem_worker){ .sh = &sh, .ith = t };
        if (pthread_create(&tids[t], NULL, mem_thread, &ws[t]) != 0)
            st = qg_set_error(QG_ERR_BACKEND, "bench memory: cannot start thread %d of %d", t, n_threads);
        else
            started++;
    }
    if (st == QG_OK) {
        double best = 1e300, total = 0;
        size_t lo, hi;
        slice(&sh, 0, &lo, &hi);
        for (int p = 0; p < passes; p++) {
            atomic_store(&sh.done, 0);
            const double t0 = bench_now();
            atomic_store(&sh.go, p + 1);
            atomic_fetch_add(&sh.sink, sum_words(data + lo, hi - lo));
            while (atomic_load(&sh.done) < n_threads - 1) sched_yield();
            const double dt = bench_now() - t0;
            total += dt;
            if (dt < best) best = dt;
        }
        r->gbps_best = (double)bytes / best * 1e-9;
        r->gbps_mean = (double)bytes / (total / passes) * 1e-9;
        r->passes = passes;
        if (atomic_load(&sh.sink) == 42) r->passes++; /* keeps the sums alive; never true in practice */
    }
    atomic_store(&sh.go, -1);
    for (int t = 1; t < started; t++) pthread_join(tids[t], NULL);
    free(ws);
    free(tids);
    free(data);
    return st;
}

/* Device mode (`--backend DEV`): two buffers of `size` bytes on the device, the source
 * filled once; each pass is `copies` buffer-to-buffer copies of the whole size through
 * the device's own buffer_copy (a cudaMemcpy device-to-device on CUDA, clEnqueueCopyBuffer
 * on OpenCL, memcpy on the CPU), alternating direction, ended by a synchronize. The
 * public API has no buffer-to-buffer copy, so this reaches the plugin through the host's
 * internal buffer object. Bandwidth is reported both as (bytes read + bytes written) / s,
 * the usual convention of a device-to-device memcpy, and as bytes read / s. */
static qg_status fill_device(qg_buffer *b, size_t bytes) {
    const size_t chunk = (size_t)16 << 20;
    uint64_t *tmp = malloc(chunk);
    if (!tmp) return qg_set_error(QG_ERR_NO_MEMORY, "bench memory: no host memory to fill the device buffer");
    qg_status st = QG_OK;
    for (size_t off = 0; off < bytes && st == QG_OK; off += chunk) {
        const size_t n = bytes - off < chunk ? bytes - off : chunk;
        for (size_t i = 0; i < n / 8; i++) tmp[i] = (off / 8 + i) * 0x9e3779b97f4a7c15ull;
        st = b->backend->vt->buffer_set(b->pbuf, off, tmp, n);
    }
    free(tmp);
    return st;
}

qg_status bench_memory_device(const char *backend, uint64_t size, int passes, int copies,
                              bench_memory_device_result *r) {
    memset(r, 0, sizeof *r);
    if (!backend) return qg_set_error(QG_ERR_INVALID_ARG, "bench memory: no backend given");
    if (size < 4096 || size > ((uint64_t)1 << 40))
        return qg_set_error(QG_ERR_INVALID_ARG, "bench memory: --size %llu not in 4096..2^40 bytes",
                            (unsigned long long)size);
    if (passes < 1 || copies < 1)
        return qg_set_error(QG_ERR_INVALID_ARG, "bench memory: passes %d and copies %d must be >= 1", passes, copies);
    qg_backend *be = NULL;
    qg_status st = qg_backend_open(backend, &be);
    if (st != QG_OK) return st;
    const size_t bytes = (size_t)(size / 256 * 256);
    /* The backend object's lock is held around calls into the plugin device (see
     * core/backend_impl.h); it is recursive, so the public calls below may take it too. */
    pthread_mutex_lock(&be->lock);
    qg_buffer *a = NULL, *b = NULL;
    st = qg_backend_alloc_buffer(be, bytes, &a);
    if (st == QG_OK) st = qg_backend_alloc_buffer(be, bytes, &b);
    if (st == QG_OK) st = fill_device(a, bytes);
    const qg_plugin_vtable *vt = be->vt;
    /* warm-up: one copy each way */
    if (st == QG_OK) st = vt->buffer_copy(a->pbuf, 0, b->pbuf, 0, bytes);
    if (st == QG_OK) st = vt->buffer_copy(b->pbuf, 0, a->pbuf, 0, bytes);
    if (st == QG_OK) st = qg_backend_synchronize(be);
    double best = 1e300, total = 0;
    for (int p = 0; p < passes && st == QG_OK; p++) {
        const double t0 = bench_now();
        for (int c = 0; c < copies && st == QG_OK; c++)
            st = (c & 1) ? vt->buffer_copy(b->pbuf, 0, a->pbuf, 0, bytes) : vt->buffer_copy(a->pbuf, 0, b->pbuf, 0, bytes);
        if (st == QG_OK) st = qg_backend_synchronize(be);
        const double dt = bench_now() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    pthread_mutex_unlock(&be->lock);
    if (st == QG_OK) {
        const double moved = (double)bytes * copies;
        r->gbps_rw_best = 2.0 * moved / best * 1e-9;
        r->gbps_rw_mean = 2.0 * moved / (total / passes) * 1e-9;
        r->gbps_read_best = moved / best * 1e-9;
        r->bytes = bytes;
        r->passes = passes;
        r->copies = copies;
        snprintf(r->device, sizeof r->device, "%s", qg_backend_props(be)->description);
    }
    qg_buffer_free(a);
    qg_buffer_free(b);
    qg_backend_free(be);
    return st;
}
