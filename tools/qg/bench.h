/* Shared pieces of `qg bench`: the options of its two benchmarks and their runners
 * (bench_matmul.c, bench_memory.c); cmd_bench.c parses the command line and prints. */
#ifndef QG_TOOL_BENCH_H
#define QG_TOOL_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "qg/qg.h"

typedef struct bench_matmul_opts {
    const char *backend;   /* device name */
    qg_type type;          /* weight type */
    int64_t m, k, n;
    int threads;           /* 0: leave the device's default */
    int reps;
    int warmup;
    int weights_count;     /* distinct weight matrices used in turn */
    uint64_t seed;
} bench_matmul_opts;

typedef struct bench_matmul_result {
    int threads;           /* what the device ran with (0 if it has no such option) */
    double us_per_run;     /* mean over the timed runs */
    double us_min;         /* fastest timed run */
    double gflops;         /* 2mnk / us_per_run */
    double gbps;           /* bytes of one weight matrix / us_per_run */
    double weight_bytes;   /* bytes of one weight matrix */
    double setup_s;        /* building and quantizing the weights */
} bench_matmul_result;

/* Build w [k, m] of the type (random values through its from_float) and x F32 [k, n],
 * run mul_mat through the scheduler on the backend and time it. */
qg_status bench_matmul(const bench_matmul_opts *o, bench_matmul_result *r);

typedef struct bench_memory_result {
    double gbps_best;      /* best pass */
    double gbps_mean;
    int passes;
} bench_memory_result;

/* Read bandwidth: n_threads sum disjoint slices of a size-byte array; best of passes. */
qg_status bench_memory(uint64_t size, int n_threads, int passes, bench_memory_result *r);

typedef struct bench_memory_device_result {
    double gbps_rw_best;   /* (bytes read + bytes written) / s, best pass */
    double gbps_rw_mean;
    double gbps_read_best; /* bytes read / s, best pass */
    size_t bytes;          /* size of one copy */
    int passes, copies;    /* copies per pass */
    char device[128];      /* the device's description */
} bench_memory_device_result;

/* Device bandwidth: `copies` buffer-to-buffer copies of size bytes on the backend per
 * pass (after a warm-up), best of passes. */
qg_status bench_memory_device(const char *backend, uint64_t size, int passes, int copies,
                              bench_memory_device_result *r);

/* Monotonic time in seconds. */
double bench_now(void);

#endif
