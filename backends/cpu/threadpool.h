/* A persistent pool of worker threads for the CPU backend.
 *
 * The pool owns n-1 pthreads; the thread that calls cpu_pool_run() works as thread 0,
 * so a pool of 1 runs everything inline. Inside a run, cpu_barrier_wait() separates
 * phases. Every wait (for the next run, at a barrier, for the end of a run) spins for up
 * to QG_CPU_SPIN_US microseconds (default 2000), then sleeps on a condition variable, so
 * short phases and back-to-back runs stay cheap and long idle periods cost no CPU.
 */
#ifndef QG_CPU_THREADPOOL_H
#define QG_CPU_THREADPOOL_H

#include "qg/core.h"

typedef struct cpu_pool cpu_pool;
typedef struct cpu_barrier cpu_barrier;

/* The work of one run: called once per thread with its index ith in [0, nth). */
typedef void (*cpu_pool_fn)(void *arg, int ith, int nth, cpu_barrier *barrier);

/* Start a pool of n_threads (>= 1) threads; QG_ERR_NO_MEMORY/QG_ERR_BACKEND on failure. */
qg_status cpu_pool_new(int n_threads, cpu_pool **out);
/* Wake the workers, stop and join them, free the pool. NULL-safe. */
void cpu_pool_free(cpu_pool *pool);
int cpu_pool_size(const cpu_pool *pool);
/* Run fn on every thread of the pool and return when all of them have finished. */
void cpu_pool_run(cpu_pool *pool, cpu_pool_fn fn, void *arg);
/* Wait until all nth threads of the current run have arrived. */
void cpu_barrier_wait(cpu_barrier *barrier);

#endif
