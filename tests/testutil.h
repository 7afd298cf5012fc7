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
#include "testrand.h"

#define QG_TEST_SKIP 77

/* Path of a file under tests/data (QG_TEST_DATA); returns a static buffer. */
const char *qgt_data_path(const char *rel);

/* qgt_rng, qgt_uniform, qgt_dot_magnitude, ...: testrand.h (no cmocka there). */

/* sum((a-b)^2) / sum(b^2) in double; 0 when both are all zero. */
double qgt_nmse(const float *a, const float *b, int64_t n);
double qgt_rmse(const float *a, const float *b, int64_t n);

/* Print "SKIPPED: reason" and return QG_TEST_SKIP, for `return qgt_skip(...)` in main. */
int qgt_skip(const char *fmt, ...);

#endif
