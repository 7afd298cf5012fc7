/* Random weight and activation rows for the SIMD dot-product checks (test_cpu_simd, the
 * NEON checkers under qemu, the AVX-512 emulator host): one generator, so every kernel
 * set is tested on the same kinds of data. Plain C without cmocka. */
#ifndef QG_TEST_SIMD_CASE_DATA_H
#define QG_TEST_SIMD_CASE_DATA_H

#include <stddef.h>

#include "simd_weight_cases.h"
#include "testrand.h"

/* A random fp16 value uniform in [lo, hi). */
uint16_t qgt_rand_f16(qgt_rng *r, float lo, float hi);
/* FP8 bytes (plain or MX, blocks of 33 with the E8M0 scale first) without NaN/infinity. */
void qgt_fp8_finite(qg_type type, unsigned char *w, size_t bytes);
/* Weight row of c->type: mode 0 random raw bytes with sane scales (F32/F16/BF16: from
 * random floats), 1 quantized from random floats, 2 saturated (all bytes 0xFF or 0x80;
 * floats +-1000), 3 like 0 with extreme scales (tiny/huge fp16, E8M0 90..159, floats
 * scaled by 2^+-40). */
void qgt_make_weights(qgt_rng *r, const wcase *c, int64_t k, int mode, unsigned char *w);
/* Activation row in partner type vdt: random quants with a consistent Q8_1 sum / Q8_K
 * bsums, or (sat != 0) every quant at sat; float partners from random floats (or sat).
 * mode 3: extreme activation scales. */
void qgt_make_act(qgt_rng *r, qg_type vdt, int64_t k, int sat, int mode, unsigned char *y);

#endif
