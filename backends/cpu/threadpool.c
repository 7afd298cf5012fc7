/* The CPU backend's persistent thread pool: workers that wait between runs, a run
 * dispatch through a generation counter, and a phase barrier.
 *
 * Every wait spins first (pause, a sched_yield now and then) for a time budget, then
 * sleeps on a condition variable. Spinning matters on virtual machines: a thread that
 * sleeps halts its virtual CPU, and waking it again took hundreds of microseconds on the
 * 2-vCPU machine this was measured on, which made 2-thread token generation of a small
 * model vary between 21 and 82 tokens/s from run to run. The budget (QG_CPU_SPIN_US,
 * default 2000 us) bounds the CPU a waiting thread burns when the other is descheduled.
 */
#define _POSIX_C_SOURCE 200809L
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define DEFAULT_SPIN_US 2000

struct cpu_barrier {
    int n;
    int64_t spin_ns;
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
    atomic_uint run_gen;       /* bumped for every run and for stop (stored under mu) */
    atomic_int n_running;      /* workers still inside the current run */
    bool stop;
    cpu_pool_fn fn;
    void *arg;
    cpu_barrier barrier;
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spins until *w differs from seen or budget_ns pass; true when it changed. */
static bool spin_uint(const atomic_uint *w, unsigned seen, int64_t budget_ns) {
    if (budget_ns <= 0) return atomic_load_explicit(w, memory_order_acquire) != seen;
    const int64_t end = now_ns() + budget_ns;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(w, memory_order_acquire) != seen) return true;
        cpu_relax();
        if ((i & 255) == 0) {
            if (now_ns() > end) return false;
            sched_yield(); /* lets a descheduled thread of this pool run on an oversubscribed machine */
        }
    }
}

static bool spin_zero(const atomic_int *w, int64_t budget_ns) {
    if (budget_ns <= 0) return atomic_load_explicit(w, memory_order_acquire) == 0;
    const int64_t end = now_ns() + budget_ns;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(w, memory_order_acquire) == 0) return true;
        cpu_relax();
        if ((i & 255) == 0) {
            if (now_ns() > end) return false;
            sched_yield();
        }
    }
}

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
    if (spin_uint(&b->gen, gen, b->spin_ns)) return;
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
        spin_uint(&pool->run_gen, seen, pool->barrier.spin_ns);
        pthread_mutex_lock(&pool->mu);
        while (!pool->stop && atomic_load_explicit(&pool->run_gen, memory_order_acquire) == seen)
            pthread_cond_wait(&pool->wake, &pool->mu);
        if (pool->stop) {
            pthread_mutex_unlock(&pool->mu);
            return NULL;
        }
        seen = atomic_load_explicit(&pool->run_gen, memory_order_relaxed);
        cpu_pool_fn fn = pool->fn;
        void *arg = pool->arg;
        pthread_mutex_unlock(&pool->mu);

        fn(arg, w->ith, pool->n, &pool->barrier);

        if (atomic_fetch_sub_explicit(&pool->n_running, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mu); /* the caller may be asleep on done */
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->mu);
        }
    }
}

/* QG_CPU_SPIN_US: how long a waiting thread spins before it sleeps (0: sleep at once). */
static int64_t spin_budget_ns(void) {
    const char *e = getenv("QG_CPU_SPIN_US");
    if (!e || !*e) return (int64_t)DEFAULT_SPIN_US * 1000;
    char *end;
    long v = strtol(e, &end, 10);
    if (*end || v < 0 || v > 1000000) return (int64_t)DEFAULT_SPIN_US * 1000;
    return (int64_t)v * 1000;
}

qg_status cpu_pool_new(int n_threads, cpu_pool **out) {
    *out = NULL;
    if (n_threads < 1) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: thread count %d < 1", n_threads);
    cpu_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return qg_set_error(QG_ERR_NO_MEMORY, "cpu: out of memory for the thread pool");
    pool->n = n_threads;
    pool->barrier.n = n_threads;
    pool->barrier.spin_ns = spin_budget_ns();
    atomic_init(&pool->run_gen, 0);
    atomic_init(&pool->n_running, 0);
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
    atomic_fetch_add_explicit(&pool->run_gen, 1, memory_order_release); /* ends a worker's spin */
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
        atomic_store_explicit(&pool->n_running, pool->n - 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&pool->run_gen, 1, memory_order_release);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mu);
    }
    fn(arg, 0, pool->n, &pool->barrier);
    if (pool->n > 1 && !spin_zero(&pool->n_running, pool->barrier.spin_ns)) {
        pthread_mutex_lock(&pool->mu);
        while (atomic_load_explicit(&pool->n_running, memory_order_acquire) > 0)
            pthread_cond_wait(&pool->done, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
}
