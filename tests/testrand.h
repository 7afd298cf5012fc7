/* Random test data and the rounding bound of dot-product checks, without cmocka, so the
 * standalone checkers (the NEON programs run under qemu, the AVX-512 emulator host) share
 * them with the cmocka tests (testutil.h includes this header). */
#ifndef QG_TESTRAND_H
#define QG_TESTRAND_H

#include <stdint.h>

#include "qg/qg.h"

/* xorshift64 generator; qgt_next returns the new state. */
typedef struct { uint64_t s; } qgt_rng;
void qgt_seed(qgt_rng *r, uint64_t seed);
uint64_t qgt_next(qgt_rng *r);
float qgt_uniform(qgt_rng *r, float lo, float hi);
float qgt_normal(qgt_rng *r); /* Box-Muller */
void qgt_fill_uniform(qgt_rng *r, float *x, int64_t n, float lo, float hi);

/* M of the dot-product bound c * FLT_EPSILON * M: sum |w_j| |y_j|, plus |block min| |y_j|
 * when min_off >= 0 (the f16 min of type-1 blocks at that byte offset). w is a row of
 * type t, y a row of t's vec_dot_type (qgt_dot_magnitude) or floats (_f). */
double qgt_dot_magnitude(const qg_type_traits *t, int min_off, const void *w, const void *y, int64_t k);
double qgt_dot_magnitude_f(const qg_type_traits *t, int min_off, const void *w, const float *yf, int64_t k);

#endif
