/* Allocation wrappers with fault injection (see core/alloc.h).
 *
 * One counter, shared by all threads, numbers every allocation attempt made through
 * the wrappers. Arming a fault records the attempt number that must fail; exactly one
 * attempt fails (the N-th after arming) and the fault then disarms itself. The
 * environment variable QG_FAIL_ALLOC=N arms the fault when the library is loaded, and
 * QG_ALLOC_STATS=1 prints the number of attempts on stderr when the process exits,
 * which is how tools/fault-sweep.sh learns how many allocations a test program makes.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qg/core.h"
#include "core/alloc.h"

static atomic_long n_attempts;   /* attempts since the process started */
static atomic_long fail_at;      /* attempt number (1-based, absolute) to fail; 0: none */

/* True if this attempt is the one armed to fail. */
static int take_attempt(void)
{
    long n = atomic_fetch_add(&n_attempts, 1) + 1;
    long want = atomic_load(&fail_at);
    if (want == 0 || n != want) return 0;
    long expected = want;
    return atomic_compare_exchange_strong(&fail_at, &expected, 0);
}

void *qg_malloc(size_t size)
{
    if (take_attempt()) return NULL;
    return malloc(size);
}

void *qg_calloc(size_t n, size_t size)
{
    if (take_attempt()) return NULL;
    return calloc(n, size);
}

void *qg_realloc(void *p, size_t size)
{
    if (take_attempt()) return NULL;
    return realloc(p, size);
}

char *qg_strdup(const char *s)
{
    if (take_attempt()) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void qg_free(void *p)
{
    free(p);
}

void qg_alloc_fail_after(long n)
{
    if (n <= 0) {
        atomic_store(&fail_at, 0);
        return;
    }
    atomic_store(&fail_at, atomic_load(&n_attempts) + n);
}

long qg_alloc_count(void)
{
    return atomic_load(&n_attempts);
}

static void print_stats(void)
{
    fprintf(stderr, "qg: %ld allocations\n", qg_alloc_count());
}

/* Reads QG_FAIL_ALLOC and QG_ALLOC_STATS once, when the library is loaded. */
__attribute__((constructor)) static void read_env(void)
{
    const char *s = getenv("QG_FAIL_ALLOC");
    if (s && *s) {
        char *end = NULL;
        long n = strtol(s, &end, 10);
        if (end && *end == '\0' && n > 0) qg_alloc_fail_after(n);
    }
    const char *st = getenv("QG_ALLOC_STATS");
    if (st && *st && strcmp(st, "0") != 0) atexit(print_stats);
}
