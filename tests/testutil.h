/* Shared helpers for the tests: reference data paths, seeded random data and
 * comparison. Tests themselves use cmocka (include <cmocka.h> after the std headers). */
#ifndef QG_TESTUTIL_H
#define QG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qg/qg.h"

#define QG_TEST_SKIP 77

/* Path of a file under tests/data (QG_TEST_DATA); returns a static buffer. */
const char *qgt_data_path(const char *rel);

/* Deterministic xorshift generator. */
typedef struct { uint64_t s; } qgt_rng;
void qgt_seed(qgt_rng *r, uint64_t seed);
uint64_t qgt_next(qgt_rng *r);
float qgt_uniform(qgt_rng *r, float lo, float hi);
float qgt_normal(qgt_rng *r);
void qgt_fill_uniform(qgt_rng *r, float *x, int64_t n, float lo, float hi);

/* The scale M of a SIMD dot product's rounding bound: sum |w_j| |y_j| over the weight row
 * w (type t, k elements) and the activation row y (t's partner type), dequantized; plus
 * |block minimum| |y_j| when min_off >= 0, the byte offset of a type-1 block's f16 minimum. */
double qgt_dot_magnitude(const qg_type_traits *t, int min_off, const void *w, const void *y, int64_t k);

/* sum((a-b)^2) / sum(b^2) in double; 0 when both are all zero. */
double qgt_nmse(const float *a, const float *b, int64_t n);
double qgt_rmse(const float *a, const float *b, int64_t n);

/* Print "SKIPPED: reason" and return QG_TEST_SKIP, for `return qgt_skip(...)` in main. */
int qgt_skip(const char *fmt, ...);

#endif
