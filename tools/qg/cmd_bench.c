/* `qg bench matmul|memory [options]`: command-line parsing and output of the benchmarks
 * in bench_matmul.c and bench_memory.c. Text output is one human-readable line; --json
 * prints one JSON object on stdout. Exit status 0 on success, 1 when the benchmark
 * failed (with the reason on stderr), 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: qg bench matmul [--backend NAME] [--type T] [-m M] [-k K] [-n N] [--threads N]\n"
            "                       [--reps R] [--warmup W] [--weights-count C] [--seed S] [--json]\n"
            "       qg bench memory [--size BYTES[K|M|G]] [--threads N] [--passes P] [--json]\n"
            "       qg bench memory --backend DEV [--size BYTES] [--passes P] [--copies C] [--json]\n"
            "\n"
            "matmul: w [k, m] of type T (random values quantized with T's from_float) times\n"
            "  x F32 [k, n] through the scheduler on one device; prints the time per run and\n"
            "  2mnk/t (GFLOP/s) and weight bytes/t (GB/s). --weights-count C cycles through C\n"
            "  distinct weight matrices (to exceed the caches). Defaults: cpu q4_0 m=4096\n"
            "  k=4096 n=1, 10 reps after 2 warm-up runs.\n"
            "memory: read bandwidth of N threads summing a BYTES array (default 1G), best of P.\n"
            "  With --backend: C device-to-device copies of BYTES per pass on that device;\n"
            "  GB/s counts bytes read + bytes written (also printed: bytes read only).\n");
}

static bool parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    if (!s || !*s) return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_size(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-') return false;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') shift = 10, end++;
    else if (*end == 'M' || *end == 'm') shift = 20, end++;
    else if (*end == 'G' || *end == 'g') shift = 30, end++;
    if (*end != '\0' || v > (~0ull >> shift)) return false;
    *out = (uint64_t)v << shift;
    return true;
}

/* The value following option argv[*i], or NULL (with a message) when there is none. */
static const char *value_of(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "qg bench: option %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static int bad_value(const char *opt, const char *v) {
    fprintf(stderr, "qg bench: bad value \"%s\" for %s\n", v ? v : "", opt);
    return 2;
}

static int bench_matmul_cmd(int argc, char **argv) {
    bench_matmul_opts o = { .backend = "cpu", .type = QG_TYPE_Q4_0, .m = 4096, .k = 4096, .n = 1, .threads = 0,
                            .reps = 10, .warmup = 2, .weights_count = 1, .seed = 1 };
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int64_t x;
        if (strcmp(a, "--json") == 0) {
            json = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (!(v = value_of(argc, argv, &i))) return 2;
        if (strcmp(a, "--backend") == 0 || strcmp(a, "--device") == 0) {
            o.backend = v;
        } else if (strcmp(a, "--type") == 0) {
            const qg_type_traits *t = qg_type_by_name(v);
            if (!t) return bad_value(a, v);
            o.type = t->type;
        } else if (strcmp(a, "-m") == 0 && parse_i64(v, 1, (int64_t)1 << 30, &x)) {
            o.m = x;
        } else if (strcmp(a, "-k") == 0 && parse_i64(v, 1, (int64_t)1 << 30, &x)) {
            o.k = x;
        } else if (strcmp(a, "-n") == 0 && parse_i64(v, 1, (int64_t)1 << 30, &x)) {
            o.n = x;
        } else if (strcmp(a, "--threads") == 0 && parse_i64(v, 1, 512, &x)) {
            o.threads = (int)x;
        } else if (strcmp(a, "--reps") == 0 && parse_i64(v, 1, 1000000, &x)) {
            o.reps = (int)x;
        } else if (strcmp(a, "--warmup") == 0 && parse_i64(v, 0, 1000000, &x)) {
            o.warmup = (int)x;
        } else if (strcmp(a, "--weights-count") == 0 && parse_i64(v, 1, 64, &x)) {
            o.weights_count = (int)x;
        } else if (strcmp(a, "--seed") == 0 && parse_i64(v, 0, INT64_MAX, &x)) {
            o.seed = (uint64_t)x;
        } else if (strcmp(a, "--backend") && strcmp(a, "-m") && strcmp(a, "-k") && strcmp(a, "-n") &&
                   strcmp(a, "--threads") && strcmp(a, "--reps") && strcmp(a, "--warmup") &&
                   strcmp(a, "--weights-count") && strcmp(a, "--seed")) {
            fprintf(stderr, "qg bench matmul: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            return bad_value(a, v);
        }
    }
    bench_matmul_result r;
    qg_status st = bench_matmul(&o, &r);
    if (st != QG_OK) {
        fprintf(stderr, "qg bench matmul: %s: %s\n", qg_status_name(st), qg_last_error());
        return 1;
    }
    const char *tname = qg_type_name(o.type);
    if (json) {
        printf("{\"backend\": \"%s\", \"type\": \"%s\", \"m\": %lld, \"k\": %lld, \"n\": %lld, \"threads\": %d, "
               "\"us_per_run\": %.3f, \"us_min\": %.3f, \"gflops\": %.4f, \"gbps\": %.4f, \"reps\": %d, "
               "\"weights_count\": %d, \"weight_bytes\": %.0f}\n",
               o.backend, tname, (long long)o.m, (long long)o.k, (long long)o.n, r.threads, r.us_per_run, r.us_min,
               r.gflops, r.gbps, o.reps, o.weights_count, r.weight_bytes);
    } else {
        printf("matmul %s %s m=%lld k=%lld n=%lld threads=%d: %.1f us/run (best %.1f), %.2f GFLOP/s, %.2f GB/s "
               "weights (%d reps, %d matrices of %.1f MiB, setup %.1f s)\n",
               o.backend, tname, (long long)o.m, (long long)o.k, (long long)o.n, r.threads, r.us_per_run, r.us_min,
               r.gflops, r.gbps, o.reps, o.weights_count, r.weight_bytes / 1048576.0, r.setup_s);
    }
    return 0;
}

static int bench_memory_device_cmd(const char *backend, uint64_t size, int passes, int copies, bool json) {
    bench_memory_device_result r;
    qg_status st = bench_memory_device(backend, size, passes, copies, &r);
    if (st != QG_OK) {
        fprintf(stderr, "qg bench memory: %s: %s\n", qg_status_name(st), qg_last_error());
        return 1;
    }
    if (json)
        printf("{\"backend\": \"%s\", \"size\": %zu, \"passes\": %d, \"copies\": %d, \"convention\": "
               "\"read+write\", \"gbps\": %.3f, \"gbps_mean\": %.3f, \"gbps_read\": %.3f}\n",
               backend, r.bytes, r.passes, r.copies, r.gbps_rw_best, r.gbps_rw_mean, r.gbps_read_best);
    else
        printf("memory copy on %s (%s): %.2f GB/s best, %.2f GB/s mean (bytes read + written); %.2f GB/s read only "
               "(%zu bytes, %d passes of %d copies)\n",
               backend, r.device, r.gbps_rw_best, r.gbps_rw_mean, r.gbps_read_best, r.bytes, r.passes, r.copies);
    return 0;
}

static int bench_memory_cmd(int argc, char **argv) {
    uint64_t size = (uint64_t)1 << 30;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores > 0 ? (int)(cores > 256 ? 256 : cores) : 1, passes = 5;
    bool json = false;
    const char *backend = NULL;
    int copies = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int64_t x;
        if (strcmp(a, "--json") == 0) {
            json = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--size") != 0 && strcmp(a, "--threads") != 0 && strcmp(a, "--passes") != 0 &&
            strcmp(a, "--backend") != 0 && strcmp(a, "--copies") != 0) {
            fprintf(stderr, "qg bench memory: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!(v = value_of(argc, argv, &i))) return 2;
        if (strcmp(a, "--size") == 0) {
            if (!parse_size(v, &size)) return bad_value(a, v);
        } else if (strcmp(a, "--backend") == 0) {
            backend = v;
        } else if (strcmp(a, "--copies") == 0) {
            if (!parse_i64(v, 1, 100000, &x)) return bad_value(a, v);
            copies = (int)x;
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_i64(v, 1, 256, &x)) return bad_value(a, v);
            threads = (int)x;
        } else {
            if (!parse_i64(v, 1, 1000, &x)) return bad_value(a, v);
            passes = (int)x;
        }
    }
    if (backend) return bench_memory_device_cmd(backend, size, passes, copies, json);
    bench_memory_result r;
    qg_status st = bench_memory(size, threads, passes, &r);
    if (st != QG_OK) {
        fprintf(stderr, "qg bench memory: %s: %s\n", qg_status_name(st), qg_last_error());
        return 1;
    }
    if (json)
        printf("{\"size\": %llu, \"threads\": %d, \"passes\": %d, \"gbps\": %.3f, \"gbps_mean\": %.3f}\n",
               (unsigned long long)size, threads, r.passes, r.gbps_best, r.gbps_mean);
    else
        printf("memory read: %.2f GB/s best, %.2f GB/s mean (%llu bytes, %d threads, %d passes)\n", r.gbps_best,
               r.gbps_mean, (unsigned long long)size, threads, r.passes);
    return 0;
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "matmul") == 0) return bench_matmul_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "memory") == 0) return bench_memory_cmd(argc - 1, argv + 1);
    fprintf(stderr, "qg bench: unknown benchmark '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
