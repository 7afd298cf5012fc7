/* Device quantizers for the block types written on the device (CPY/SET_ROWS targets and
 * staged op outputs): Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, IQ4_NL, MXFP8_E4M3 and
 * MXFP8_E5M2. Each is a port of core/quant's reference from_float with the same float
 * operations in the same order (unfused multiply/add through qgcu_mul/qgcu_add, which are
 * round-to-nearest intrinsics on the device), so the bytes equal cpu-ref's. Plain C as
 * well as CUDA: tests/test_cuda_quant_host.c runs these functions on the host against
 * the type table's from_float. One call quantizes one block of x (32 floats) into b
 * (byte stores: blocks are not aligned).
 */
#ifndef QG_CUDA_QUANTIZE_CUH
#define QG_CUDA_QUANTIZE_CUH

#include <math.h>

#include "encode.cuh"

/* Correctly rounded float division (the device default; spelled out for clarity). */
QGCU_HD float cu_div(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fdiv_rn(a, b);
#else
    return a / b;
#endif
}

QGCU_HD void cu_put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

QGCU_HD float cu_signed_absmax(const float *x) {
    float amax = 0, max = 0;
    for (int j = 0; j < 32; j++)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    return max;
}

QGCU_HD float cu_absmax(const float *x) {
    float amax = 0;
    for (int j = 0; j < 32; j++)
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
    return amax;
}

QGCU_HD void cu_min_max(const float *x, float *mn, float *mx) {
    float lo = 3.402823466e+38f, hi = -3.402823466e+38f;
    for (int j = 0; j < 32; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

/* Truncating conversion kept in [0, hi] (NaN and negatives give 0), as legacy.c. */
QGCU_HD int cu_trunc_q(float v, int hi) {
    if (!(v > 0)) return 0;
    if (v >= (float)hi) return hi;
    return (int)v;
}

/* roundf (half away from zero) into -127..127; NaN gives 0. */
QGCU_HD int8_t cu_round_q8(float v) {
    if (isnan(v)) return 0;
    float r = roundf(v);
    if (r > 127) r = 127;
    if (r < -127) r = -127;
    return (int8_t)r;
}

QGCU_HD float cu_inv(float d) { return d != 0 ? cu_div(1.0f, d) : 0.0f; }

QGCU_HD void cu_q4_0(const float *x, uint8_t *b) {
    const float d = cu_div(cu_signed_absmax(x), -8.0f), id = cu_inv(d);
    cu_put16(b, cu_f32_to_f16(d));
    for (int j = 0; j < 16; j++) {
        const int q0 = cu_trunc_q(qgcu_add(qgcu_mul(x[j], id), 8.5f), 15);
        const int q1 = cu_trunc_q(qgcu_add(qgcu_mul(x[j + 16], id), 8.5f), 15);
        b[2 + j] = (uint8_t)(q0 | (q1 << 4));
    }
}

QGCU_HD void cu_q4_1(const float *x, uint8_t *b) {
    float mn, mx;
    cu_min_max(x, &mn, &mx);
    const float d = cu_div(qgcu_sub(mx, mn), 15.0f), id = cu_inv(d);
    cu_put16(b, cu_f32_to_f16(d));
    cu_put16(b + 2, cu_f32_to_f16(mn));
    for (int j = 0; j < 16; j++) {
        const int q0 = cu_trunc_q(qgcu_add(qgcu_mul(qgcu_sub(x[j], mn), id), 0.5f), 15);
        const int q1 = cu_trunc_q(qgcu_add(qgcu_mul(qgcu_sub(x[j + 16], mn), id), 0.5f), 15);
        b[4 + j] = (uint8_t)(q0 | (q1 << 4));
    }
}

/* 5-bit levels q[32] into qh (bit j = bit 4 of element j, little-endian) and qs. */
QGCU_HD void cu_q5_pack(const int *q, uint8_t *qh, uint8_t *qs) {
    uint32_t h = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 15) | ((q[j + 16] & 15) << 4));
        h |= (uint32_t)((q[j] >> 4) & 1) << j;
        h |= (uint32_t)((q[j + 16] >> 4) & 1) << (j + 16);
    }
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(h >> (8 * k));
}

QGCU_HD void cu_q5_0(const float *x, uint8_t *b) {
    const float d = cu_div(cu_signed_absmax(x), -16.0f), id = cu_inv(d);
    int q[32];
    cu_put16(b, cu_f32_to_f16(d));
    for (int j = 0; j < 32; j++) q[j] = cu_trunc_q(qgcu_add(qgcu_mul(x[j], id), 16.5f), 31);
    cu_q5_pack(q, b + 2, b + 6);
}

QGCU_HD void cu_q5_1(const float *x, uint8_t *b) {
    float mn, mx;
    cu_min_max(x, &mn, &mx);
    const float d = cu_div(qgcu_sub(mx, mn), 31.0f), id = cu_inv(d);
    int q[32];
    cu_put16(b, cu_f32_to_f16(d));
    cu_put16(b + 2, cu_f32_to_f16(mn));
    for (int j = 0; j < 32; j++) q[j] = cu_trunc_q(qgcu_add(qgcu_mul(qgcu_sub(x[j], mn), id), 0.5f), 31);
    cu_q5_pack(q, b + 4, b + 8);
}

QGCU_HD void cu_q8_0(const float *x, uint8_t *b) {
    const float d = cu_div(cu_absmax(x), 127.0f), id = cu_inv(d);
    cu_put16(b, cu_f32_to_f16(d));
    for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)cu_round_q8(qgcu_mul(x[j], id));
}

QGCU_HD void cu_q8_1(const float *x, uint8_t *b) {
    const float d = cu_div(cu_absmax(x), 127.0f), id = cu_inv(d);
    int sum = 0;
    cu_put16(b, cu_f32_to_f16(d));
    for (int j = 0; j < 32; j++) {
        const int8_t q = cu_round_q8(qgcu_mul(x[j], id));
        b[4 + j] = (uint8_t)q;
        sum += q;
    }
    cu_put16(b + 2, cu_f32_to_f16(qgcu_mul((float)sum, d)));
}

/* IQ4_NL: index of the table value nearest to v (the lower one on ties). */
QGCU_HD int cu_iq4_nearest(float v) {
    if (!(v > (float)qgcu_iq4_value(0))) return 0;
    if (v >= (float)qgcu_iq4_value(15)) return 15;
    int k = 0;
    while (k < 14 && v > (float)qgcu_iq4_value(k + 1)) ++k;
    return qgcu_sub(v, (float)qgcu_iq4_value(k)) <= qgcu_sub((float)qgcu_iq4_value(k + 1), v) ? k : k + 1;
}

/* Best scale of iq4.c's iq4_block_scale: both table ends nudged by -7..7, refit by least */
/* squares with weights x^2, keep the candidate that lowers the error most. */
QGCU_HD float cu_iq4_block_scale(const float *x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; ++j)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    if (!(amax >= 1e-15f)) return 0.0f;
    float best_d = 0.0f, best = -1.0f;
    for (int e = 0; e < 2; ++e) {
        const int end = qgcu_iq4_value(e == 0 ? 0 : 15);
        for (int t = -7; t <= 7; ++t) {
            const float id = cu_div((float)(end + t), max);
            float sqx = 0.0f, sq2 = 0.0f;
            for (int j = 0; j < 32; ++j) {
                const float q = (float)qgcu_iq4_value(cu_iq4_nearest(qgcu_mul(id, x[j])));
                const float w = qgcu_mul(x[j], x[j]);
                sqx = qgcu_add(sqx, qgcu_mul(qgcu_mul(w, q), x[j]));
                sq2 = qgcu_add(sq2, qgcu_mul(qgcu_mul(w, q), q));
            }
            if (sq2 > 0.0f) {
                const float gain = cu_div(qgcu_mul(sqx, sqx), sq2);
                if (gain > best) {
                    best = gain;
                    best_d = cu_div(sqx, sq2);
                }
            }
        }
    }
    return best_d;
}

QGCU_HD void cu_iq4_nl(const float *x, uint8_t *b) {
    const uint16_t d16 = cu_f32_to_f16(cu_iq4_block_scale(x));
    cu_put16(b, d16);
    const float id = cu_inv(qgcu_half_to_float(d16));
    for (int j = 0; j < 16; ++j) {
        const int l0 = cu_iq4_nearest(qgcu_mul(id, x[j]));
        const int l1 = cu_iq4_nearest(qgcu_mul(id, x[j + 16]));
        b[2 + j] = (uint8_t)(l0 | (l1 << 4));
    }
}

/* OCP MX shared scale as fp8.c's mx_scale: floor(log2(amax)) - emax_elem + 127 in 0..254. */
QGCU_HD uint8_t cu_mx_scale(const float *x, int emax_elem) {
    float amax = 0;
    for (int j = 0; j < 32; j++) {
        const float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    if (amax == 0) return 0;
    if (isinf(amax)) return 254;
    int ex;
    frexpf(amax, &ex);
    int e = ex - 1 - emax_elem + 127;
    if (e < 0) e = 0;
    if (e > 254) e = 254;
    return (uint8_t)e;
}

QGCU_HD void cu_mxfp8(const float *x, uint8_t *b, int e4m3) {
    const uint8_t e = cu_mx_scale(x, e4m3 ? 8 : 15);
    b[0] = e;
    for (int j = 0; j < 32; j++) {
        const float v = ldexpf(x[j], 127 - (int)e);
        b[1 + j] = e4m3 ? cu_f32_to_e4m3(v) : cu_f32_to_e5m2(v);
    }
}

/* One block of type t (32 elements) from x into b. */
QGCU_HD void cu_quantize_block(int t, const float *x, uint8_t *b) {
    switch (t) {
    case QG_TYPE_Q4_0: cu_q4_0(x, b); break;
    case QG_TYPE_Q4_1: cu_q4_1(x, b); break;
    case QG_TYPE_Q5_0: cu_q5_0(x, b); break;
    case QG_TYPE_Q5_1: cu_q5_1(x, b); break;
    case QG_TYPE_Q8_0: cu_q8_0(x, b); break;
    case QG_TYPE_Q8_1: cu_q8_1(x, b); break;
    case QG_TYPE_IQ4_NL: cu_iq4_nl(x, b); break;
    case QG_TYPE_MXFP8_E4M3: cu_mxfp8(x, b, 1); break;
    case QG_TYPE_MXFP8_E5M2: cu_mxfp8(x, b, 0); break;
    default: break;
    }
}

#endif
