/* Activations on the device for MUL_MAT: x (F32, any strides, planes b2 x b3) is
 * gathered into a contiguous scratch, either as float rows (float weights) or quantized
 * to the device's Q8 activation format (integer weights). The Q8 format is Q8_0/Q8_1
 * split in two arrays: the int8 levels of all rows ([rows][k], so 16-byte loads line up)
 * and one float scale per 32 elements ([rows][k/32]); the scale is the fp16-rounded d
 * exactly as Q8_0/Q8_1 store it, and the levels are round-half-away(x / d_unrounded),
 * so both match core/quant's qg_from_float_q8_0 bit for bit. For weights whose partner is
 * Q8_K the levels follow Q8_K instead (one scale amax/127 per 256 elements, stored in all
 * eight 32-element scale slots, levels round-to-even(x * 127/amax)), matching
 * qg_from_float_q8_K bit for bit.
 * Row r of the scratch is column (r % n) of plane (r / n), planes in (b2, b3) order.
 *
 * The per-element rules are plain C as well (host-tested); the launchers are CUDA only.
 */
#ifndef QG_CUDA_QUANTIZE_ACT_CUH
#define QG_CUDA_QUANTIZE_ACT_CUH

#include "dequant.cuh"

/* Float to IEEE half bits, round to nearest even, as qg_fp32_to_fp16. */
QGCU_HD uint16_t qgcu_float_to_half_bits(float f) {
    uint32_t x;
#ifdef __CUDA_ARCH__
    x = __float_as_uint(f);
#else
    memcpy(&x, &f, sizeof x);
#endif
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    if (ax == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
    int e = (int)(ax >> 23);
    uint32_t q;
    if (e >= 113) { /* normal half */
        uint32_t v = ax - (112u << 23);
        v += 0xfffu + ((v >> 13) & 1u);
        q = v >> 13;
    } else {        /* subnormal half: units of 2^-24 */
        int shift = 126 - e;
        if (e == 0 || shift > 24) {
            q = 0;
        } else {
            uint32_t m = (ax & 0x7fffffu) | 0x800000u;
            uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
            if (rem > half || (rem == half && (r & 1u))) r++;
            q = r;
        }
    }
    if (q >= 0x7c00u) q = 0x7c00u;
    return (uint16_t)(sign | q);
}

/* One Q8 level: round half away from zero of x * id, clamped to +-127, NaN -> 0. */
QGCU_HD int qgcu_q8_level(float x, float id) {
    float v = qgcu_mul(x, id);
    if (v != v) return 0;
    float r = roundf(v);
    if (r > 127.0f) r = 127.0f;
    if (r < -127.0f) r = -127.0f;
    return (int)r;
}

/* Scale rule of a Q8 block from its largest |x|: d = amax/127 (stored as fp16), the
 * levels use 1/d of the unrounded d. */
QGCU_HD float qgcu_q8_inv_scale(float amax) {
    float d = amax / 127.0f;
    return d != 0.0f ? 1.0f / d : 0.0f;
}

QGCU_HD float qgcu_q8_stored_scale(float amax) {
    return qgcu_half_to_float(qgcu_float_to_half_bits(amax / 127.0f));
}

/* One Q8_K level: round to nearest even of x * is (is = 127/amax), clamped to +-127;
 * NaN gives -127 as qg_kq_round_clamp does. */
QGCU_HD int qgcu_q8k_level(float x, float is) {
    float v = qgcu_mul(is, x);
    if (!(v > -127.0f)) return -127;
    if (v >= 127.0f) return 127;
    return (int)rintf(v);
}

#ifdef __CUDACC__
#include <cuda_runtime.h>

/* Source description of x: element (i0, i1, i2, i3) at base + i0*nb0 + ... + i3*nb3. */
typedef struct qgcu_act_src {
    const char *base;
    int64_t k, n, b2, b3;
    int64_t nb0, nb1, nb2, nb3;
} qgcu_act_src;

/* Quantize all rows of x into qs [rows][k] and d [rows][k/32]: Q8_0 rules (k % 32 == 0),
 * or Q8_K rules when q8k is true (k % 256 == 0). */
cudaError_t qgcu_quantize_q8(const qgcu_act_src *x, int8_t *qs, float *d, bool q8k, cudaStream_t st);
/* Gather x into contiguous floats [rows][k]. */
cudaError_t qgcu_gather_f32(const qgcu_act_src *x, float *out, cudaStream_t st);
#endif

#endif
