/* The `qg conform` catalogue and runner interface.
 *
 * A case is one small graph (built by a generator-supplied function into a fresh
 * context), a description for the report line (op, types, shape), and the largest NMSE
 * against the reference device `cpu-ref` that a correct backend may show, with the
 * reasoning next to each threshold in conform_cases.c. Leafs are declared through
 * cf_leaf() with a fill rule, so the runner can build the same graph twice (once per
 * device) and upload identical seeded data to both. conform_run.c runs and compares.
 */
#ifndef QG_TOOL_CONFORM_CASES_H
#define QG_TOOL_CONFORM_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "qg/qg.h"

#define CF_MAX_LEAFS 8

typedef enum cf_fill_kind {
    CF_UNIFORM,     /* uniform in [lo, hi) */
    CF_SPECIAL,     /* uniform in [lo, hi) with NaN / +Inf / -Inf sprinkled (see special) */
    CF_IDS,         /* integer ids uniform in [0, max) */
    CF_DISTINCT,    /* ids distinct within each row of ids, in [0, max) (SET_ROWS) */
    CF_POSITIONS,   /* rope positions in [0, max), the first one max - 1 */
    CF_CAUSAL,      /* mask [n_kv, n_q]: uniform in [lo, hi) where allowed, -inf after */
} cf_fill_kind;

enum { CF_NAN = 1, CF_PINF = 2, CF_NINF = 4 };

typedef struct cf_fill {
    cf_fill_kind kind;
    float lo, hi;
    int64_t max;
    int special; /* CF_NAN | CF_PINF | CF_NINF for CF_SPECIAL */
} cf_fill;

/* One build of a case: its context, its leafs in creation order and their fills. */
typedef struct cf_graph {
    qg_context *ctx;
    int n_leaf;
    qg_tensor *leaf[CF_MAX_LEAFS];
    cf_fill fill[CF_MAX_LEAFS];
} cf_graph;

typedef struct cf_case cf_case;
typedef qg_tensor *(*cf_build_fn)(cf_graph *g, const cf_case *c);

struct cf_case {
    const char *op;          /* the op under test, as printed ("MUL_MAT") */
    char types[40];          /* "q4_0*f32", "f32->q8_0" */
    char shape[64];          /* "4096x11008*4096x7:perm" */
    double max_nmse;         /* vs cpu-ref's output */
    double max_nmse_input;   /* > 0: output read as F32 vs leaf 0 (CPY to a lossy type) */
    cf_build_fn build;
    qg_type t0, t1;          /* case parameters, meaning depends on build */
    int64_t ne[4], ne2[4];
    float f[4];
    int iv[4];
    double flops;            /* for --perf; 0 when not meaningful */
};

typedef struct cf_list {
    cf_case *v;
    int n, cap;
} cf_list;

/* Declare a leaf of g (contiguous, 4-D) with its fill rule; NULL on a context error. */
qg_tensor *cf_leaf(cf_graph *g, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3,
                   cf_fill fill);

/* Fill the catalogue (full adds the slow, large cases). QG_ERR_NO_MEMORY on failure. */
qg_status cf_catalogue(cf_list *list, bool full);
void cf_list_free(cf_list *list);

/* Runner (conform_run.c). */
typedef enum cf_verdict { CF_PASS, CF_FAIL, CF_UNSUPPORTED } cf_verdict;

typedef struct cf_outcome {
    cf_verdict verdict;
    double nmse;          /* vs cpu-ref; NAN when not computed */
    double nmse_input;    /* vs the input (CPY cases); NAN when not checked */
    char detail[384];     /* why FAIL / UNSUPPORTED */
    double median_s;      /* --perf: median compute time on the tested backend, else 0 */
    double bytes;         /* --perf: bytes read + written by the graph */
} cf_outcome;

typedef struct cf_runner {
    qg_backend *test, *ref;
    uint64_t seed;
    bool perf;
} cf_runner;

/* Run one case on both devices and compare; never aborts on backend failures. */
void cf_run_case(const cf_runner *r, const cf_case *c, cf_outcome *out);

#endif
