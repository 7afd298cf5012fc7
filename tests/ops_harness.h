/* Shared harness of the op tests (test_ops*.c): build a small graph with random leaf
 * data, run it on a named device with a given thread count through the public backend
 * and scheduler API, read the result back, and compare against references computed by
 * the tests in double precision from the leafs' exact (already converted) values.
 */
#ifndef QG_OPS_HARNESS_H
#define QG_OPS_HARNESS_H

#include "testutil.h"

#define OH_MAX_LEAFS 16

typedef struct oh_leaf {
    qg_tensor *t;
    void *bytes;      /* what is uploaded */
    size_t size;
    float *vals;      /* the uploaded values as float (to_float of bytes), row-major */
} oh_leaf;

typedef struct oh_case {
    qg_context *ctx;
    qgt_rng rng;
    int n_leaf;
    oh_leaf leaf[OH_MAX_LEAFS];
    qg_tensor *out;   /* the node the builder returned */
} oh_case;

typedef struct oh_result {
    qg_status st;
    char err[512];
    void *bytes;      /* the output's storage (the destination leaf for CPY/SET_ROWS) */
    size_t size;
    float *vals;      /* bytes as floats (contiguous outputs only) */
    int64_t n;
} oh_result;

/* Builds leafs with the oh_leaf_* helpers and returns the node to compute. */
typedef qg_tensor *(*oh_build_fn)(oh_case *c, const void *arg);
/* Checks a result of device dev (thread count 1) against a reference. */
typedef void (*oh_check_fn)(oh_case *c, const oh_result *r, const void *arg, const char *dev);

/* MUL_MAT of a [k, m] weight (planes a2 x a3, values in [-1, 1)) and an F32 [k, n] activation
 * (planes b2 x b3, values in [-2, 2); built as the transpose of an [n, k] leaf when
 * x_transposed): the graph of oh_build_mul_mat, whose argument is an oh_mm_arg. */
typedef struct oh_mm_arg {
    qg_type type;
    int64_t k, m, n, a2, a3, b2, b3;
    bool x_transposed;
} oh_mm_arg;
qg_tensor *oh_build_mul_mat(oh_case *c, const void *arg);

/* A leaf of any type with values uniform in [lo, hi) (converted to the type). */
qg_tensor *oh_leaf_uniform(oh_case *c, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, float lo,
                           float hi);
/* A leaf with the given float values (converted to the type). */
qg_tensor *oh_leaf_values(oh_case *c, qg_type type, const int64_t ne[4], const float *vals);
/* An I32/I64 ids leaf with values uniform in [0, max). */
qg_tensor *oh_leaf_ids(oh_case *c, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t max);
/* The leaf record of a leaf tensor (NULL if t is not one). */
oh_leaf *oh_find_leaf(oh_case *c, const qg_tensor *t);
/* Element (i0..i3) of a leaf or of a view of a leaf, as the uploaded value. */
double oh_at(oh_case *c, const qg_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3);

/* Build and run on device dev with nth threads; the case stays alive for references. */
void oh_run(const char *dev, int nth, oh_build_fn build, const void *arg, uint64_t seed, oh_case *c, oh_result *r);
void oh_case_free(oh_case *c);
void oh_result_free(oh_result *r);

/* For each device (cpu-ref, cpu): run with 1 thread and check it, then with 2 and 3
 * threads and require bitwise identical output. Results must succeed. */
void oh_run_all(oh_build_fn build, const void *arg, uint64_t seed, oh_check_fn check);

/* Compare got[i] with ref[i]: |got - ref| <= atol + rtol*|ref| (NaN only matches NaN).
 * Prints the first mismatches and fails the test with what/index on any. */
void oh_expect_close(const char *what, const float *got, const double *ref, int64_t n, double atol, double rtol);
/* Element-wise tolerance version: |got - ref| <= tol[i]. */
void oh_expect_within(const char *what, const float *got, const double *ref, const double *tol, int64_t n);

/* Open devices are cached; close them (and print nothing) at the end of main. */
void oh_shutdown(void);
/* Whether the CPU plugin and both its devices can be opened (else the test skips). */
bool oh_devices_available(char *why, size_t size);

#endif
