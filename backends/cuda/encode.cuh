/* Float encoders with the exact rounding of core/quant's from_float, shared by the
 * device kernels and a host test (tests/test_cuda_quant_host.c): plain C as well as
 * CUDA, like dequant.cuh. F16 and the FP8 types round to nearest even with the same
 * saturation and NaN rules as core/quant/float.c and fp8.c, BF16 as qg_fp32_to_bf16,
 * integers round half to even and saturate (NaN gives 0).
 */
#ifndef QG_CUDA_ENCODE_CUH
#define QG_CUDA_ENCODE_CUH

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dequant.cuh"

QGCU_HD uint32_t cu_f32_bits(float f) {
#ifdef __CUDA_ARCH__
    return __float_as_uint(f);
#else
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
#endif
}

/* The rounding of core/quant/quant.h's qg_round_minifloat (positive finite input bits). */
QGCU_HD uint32_t cu_round_minifloat(uint32_t ax, int mbits, int bias) {
    int e = (int)(ax >> 23);
    if (e >= 128 - bias) {
        uint32_t x = ax - ((uint32_t)(127 - bias) << 23);
        int sh = 23 - mbits;
        x += ((1u << (sh - 1)) - 1) + ((x >> sh) & 1);
        return x >> sh;
    }
    int shift = 151 - bias - mbits - e;
    if (e == 0 || shift > 24) return 0;
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return q;
}

QGCU_HD uint16_t cu_f32_to_f16(float f) {
    uint32_t x = cu_f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    if (ax == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
    uint32_t q = cu_round_minifloat(ax, 10, 15);
    if (q >= 0x7c00u) q = 0x7c00u;
    return (uint16_t)(sign | q);
}

QGCU_HD uint16_t cu_f32_to_bf16(float f) {
    uint32_t x = cu_f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

QGCU_HD uint8_t cu_f32_to_e4m3(float f) {
    uint32_t x = cu_f32_bits(f);
    uint8_t sign = (uint8_t)((x >> 24) & 0x80u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint8_t)(sign | 0x7fu);
    if (ax == 0x7f800000u) return (uint8_t)(sign | 0x7eu);
    uint32_t q = cu_round_minifloat(ax, 3, 7);
    if (q > 0x7eu) q = 0x7eu;
    return (uint8_t)(sign | q);
}

QGCU_HD uint8_t cu_f32_to_e5m2(float f) {
    uint32_t x = cu_f32_bits(f);
    uint8_t sign = (uint8_t)((x >> 24) & 0x80u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint8_t)(sign | 0x7eu);
    if (ax == 0x7f800000u) return (uint8_t)(sign | 0x7cu);
    uint32_t q = cu_round_minifloat(ax, 2, 15);
    if (q > 0x7bu) q = 0x7bu;
    return (uint8_t)(sign | q);
}

/* float -> integer as core/quant/float.c: round half to even (rint in the default
 * rounding mode), saturate at +-2^(bits-1), NaN gives 0. */
QGCU_HD int64_t cu_f32_to_int(float f, int bits) {
    if (isnan(f)) return 0;
    double r = rint((double)f);
    double lim = ldexp(1.0, bits - 1);
    if (r >= lim) return bits == 64 ? INT64_MAX : (int64_t)lim - 1;
    if (r < -lim) return bits == 64 ? INT64_MIN : -(int64_t)lim;
    return (int64_t)r;
}

#endif
