/* The CPU backend's persistent thread pool: workers that sleep between runs, a run
 * dispatch through a generation counter, and a phase barrier (spin, then sleep).
 */
#define _POSIX_C_SOURCE 200809L
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* Spins before a waiting thread goes to sleep on a barrier. */
#define BARRIER_SPINS 4096

struct cpu_barrier {
    int n;
    atomic_int count;
    atomic_uint gen;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

typedef struct worker {
    cpu_pool *pool;
    int ith;
    pthread_t tid;
} worker;

struct cpu_pool {
    int n;
    worker *workers;           /* n - 1 of them; thread 0 is the caller */
    int n_started;
    pthread_mutex_t mu;
    pthread_cond_t wake;       /* workers wait here for a new run or stop */
    pthread_cond_t done;       /* the caller waits here for the run to end */
    unsigned run_gen;          /* bumped for every run (under mu) */
    int n_running;             /* workers still inside the current run (under mu) */
    bool stop;
    cpu_pool_fn fn;
    void *arg;
    cpu_barrier barrier;
};

void cpu_barrier_wait(cpu_barrier *b) {
    if (b->n <= 1) return;
    unsigned gen = atomic_load_explicit(&b->gen, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->count, 1, memory_order_acq_rel) == b->n - 1) {
        /* Last to arrive: reset, then release everyone (under the lock so that a thread
         * about to sleep cannot miss the wake-up). */
        atomic_store_explicit(&b->count, 0, memory_order_relaxed);
        pthread_mutex_lock(&b->mu);
        atomic_store_explicit(&b->gen, gen + 1, memory_order_release);
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
        return;
    }
    for (int i = 0; i < BARRIER_SPINS; i++) {
        if (atomic_load_explicit(&b->gen, memory_order_acquire) != gen) return;
        cpu_relax();
        if ((i & 255) == 255) sched_yield();
    }
    pthread_mutex_lock(&b->mu);
    while (atomic_load_explicit(&b->gen, memory_order_acquire) == gen)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static void *worker_main(void *p) {
    worker *w = p;
    cpu_pool *pool = w->pool;
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&pool->mu);
        while (!pool->stop && pool->run_gen == seen) pthread_cond_wait(&pool->wake, &pool->mu);
        if (pool->stop) {
            pthread_mutex_unlock(&pool->mu);
            return NULL;
        }
        seen = pool->run_gen;
        cpu_pool_fn fn = pool->fn;
        void *arg = pool->arg;
        pthread_mutex_unlock(&pool->mu);

        fn(arg, w->ith, pool->n, &pool->barrier);

        pthread_mutex_lock(&pool->mu);
        if (--pool->n_running == 0) pthread_cond_signal(&pool->done);
        pthread_mutex_unlock(&pool->mu);
    }
}

qg_status cpu_pool_new(int n_threads, cpu_pool **out) {
    *out = NULL;
    if (n_threads < 1) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: thread count %d < 1", n_threads);
    cpu_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return qg_set_error(QG_ERR_NO_MEMORY, "cpu: out of memory for the thread pool");
    pool->n = n_threads;
    pool->barrier.n = n_threads;
    atomic_init(&pool->barrier.count, 0);
    atomic_init(&pool->barrier.gen, 0);
    pthread_mutex_init(&pool->barrier.mu, NULL);
    pthread_cond_init(&pool->barrier.cv, NULL);
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    if (n_threads > 1) {
        pool->workers = calloc((size_t)n_threads - 1, sizeof *pool->workers);
        if (!pool->workers) {
            cpu_pool_free(pool);
            return qg_set_error(QG_ERR_NO_MEMORY, "cpu: out of memory for %d threads", n_threads);
        }
    }
    for (int i = 1; i < n_threads; i++) {
        worker *w = &pool->workers[i - 1];
        w->pool = pool;
        w->ith = i;
        int rc = pthread_create(&w->tid, NULL, worker_main, w);
        if (rc != 0) {
            cpu_pool_free(pool);
            return qg_set_error(QG_ERR_BACKEND, "cpu: pthread_create failed for thread %d of %d (error %d)",
                                i, n_threads, rc);
        }
        pool->n_started++;
    }
    *out = pool;
    return QG_OK;
}

void cpu_pool_free(cpu_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    pool->stop = true;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->n_started; i++) pthread_join(pool->workers[i].tid, NULL);
    free(pool->workers);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    pthread_mutex_destroy(&pool->barrier.mu);
    pthread_cond_destroy(&pool->barrier.cv);
    free(pool);
}

int cpu_pool_size(const cpu_pool *pool) { return pool->n; }

void cpu_pool_run(cpu_pool *pool, cpu_pool_fn fn, void *arg) {
    if (pool->n > 1) {
        pthread_mutex_lock(&pool->mu);
        pool->fn = fn;
        pool->arg = arg;
        pool->n_running = pool->n - 1;
        pool->run_gen++;
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mu);
    }
    fn(arg, 0, pool->n, &pool->barrier);
    if (pool->n > 1) {
        pthread_mutex_lock(&pool->mu);
        while (pool->n_running > 0) pthread_cond_wait(&pool->done, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
}
