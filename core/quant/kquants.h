/* Internal: K-quants (Q2_K..Q6_K, Q8_K) and the IQ4 types: scalar reference dequantizers,
 * quantizers and dot products against their partner types (Q8_K; Q8_0 for IQ4_NL).
 * n is a multiple of the type's block size (256; 32 for IQ4_NL). Q8_K is only ever the
 * activation side, so it has no dot product of its own. */
#ifndef QG_QUANT_KQUANTS_H
#define QG_QUANT_KQUANTS_H

#include <stdint.h>

#define QG_DECLARE_KQUANT_ROW(t)                                                      \
    void qg_to_float_##t(const void *src, float *dst, int64_t n);                     \
    void qg_from_float_##t(const float *src, void *dst, int64_t n);
#define QG_DECLARE_KQUANT(t)                                                          \
    QG_DECLARE_KQUANT_ROW(t)                                                          \
    float qg_vec_dot_##t(int64_t n, const void *x, const void *y);

QG_DECLARE_KQUANT(q2_K)
QG_DECLARE_KQUANT(q3_K)
QG_DECLARE_KQUANT(q4_K)
QG_DECLARE_KQUANT(q5_K)
QG_DECLARE_KQUANT(q6_K)
QG_DECLARE_KQUANT_ROW(q8_K)
QG_DECLARE_KQUANT(iq4_nl)
QG_DECLARE_KQUANT(iq4_xs)

#endif
