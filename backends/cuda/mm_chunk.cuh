/* The integer view of a weight block that the int8 matrix kernels consume: a block is
 * cut in chunks of 32 elements, and chunk c of a block reads as 32 int8 levels q (packed
 * four per int32, element 4i+b in byte b of q[i]) with, for each half h (elements
 * 16h..16h+15), w = a[h] * q + b[h]. The dot of a chunk with a Q8 activation chunk
 * (scale dx, levels y) is then dx * sum_h (a[h] * sum(q*y) + b[h] * sum(y)) over the half,
 * which the kernels evaluate with dp4a or int8 mma. Plain C as well as CUDA, so the host
 * test checks a*q+b against the reference dequantizers for every type.
 *
 * qgcu_int_type(t): 1 for the weight types with an integer view (the block types whose
 * partner is Q8_0, Q8_1 or Q8_K). qgcu_chunk(t, blk, c, q, a, b) fills the view.
 */
#ifndef QG_CUDA_MM_CHUNK_CUH
#define QG_CUDA_MM_CHUNK_CUH

#include "dequant.cuh"

QGCU_HD int qgcu_int_type(int t) {
    switch (t) {
    case QG_TYPE_Q4_0: case QG_TYPE_Q4_1: case QG_TYPE_Q5_0: case QG_TYPE_Q5_1:
    case QG_TYPE_Q8_0: case QG_TYPE_Q2_K: case QG_TYPE_Q3_K: case QG_TYPE_Q4_K:
    case QG_TYPE_Q5_K: case QG_TYPE_Q6_K: case QG_TYPE_IQ4_NL: case QG_TYPE_IQ4_XS:
    case QG_TYPE_TQ1_0: case QG_TYPE_TQ2_0: case QG_TYPE_MXFP4: case QG_TYPE_NVFP4:
        return 1;
    default:
        return 0;
    }
}

/* Integer level of element e of a block (the q of w = a*q + b). */
QGCU_HD int qgcu_level(int t, const uint8_t *b, int e) {
    switch (t) {
    case QG_TYPE_Q4_0: return qgcu_nib32(b + 2, e) - 8;
    case QG_TYPE_Q4_1: return qgcu_nib32(b + 4, e);
    case QG_TYPE_Q5_0: return qgcu_q5_level(b + 2, b + 6, e) - 16;
    case QG_TYPE_Q5_1: return qgcu_q5_level(b + 4, b + 8, e);
    case QG_TYPE_Q8_0: return (int8_t)b[2 + e];
    case QG_TYPE_Q2_K: return (b[16 + 32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
    case QG_TYPE_Q3_K: return qgcu_q3_K_level(b, e);
    case QG_TYPE_Q4_K: return qgcu_k4_nib(b + 16, e);
    case QG_TYPE_Q5_K: return qgcu_q5_K_level(b, e);
    case QG_TYPE_Q6_K: return qgcu_q6_K_level(b, e);
    case QG_TYPE_IQ4_NL: return qgcu_iq4_value(qgcu_nib32(b + 2, e));
    case QG_TYPE_IQ4_XS: return qgcu_iq4_value(qgcu_nib32(b + 8 + 16 * (e >> 5), e & 31));
    case QG_TYPE_TQ1_0: return qgcu_tq1_trit(b, e) - 1;
    case QG_TYPE_TQ2_0: return qgcu_tq2_level(b, e);
    case QG_TYPE_MXFP4: return qgcu_e2m1_x2(qgcu_nib32(b + 1, e));
    case QG_TYPE_NVFP4: {
        uint8_t v = b[4 + 8 * (e >> 4) + (e & 7)];
        return qgcu_e2m1_x2((e & 8) ? (v >> 4) : (v & 15));
    }
    default: return 0;
    }
}

/* Scale a[h] and offset b[h] of the two halves of chunk c. */
QGCU_HD void qgcu_chunk_scales(int t, const uint8_t *b, int c, float a[2], float o[2]) {
    o[0] = o[1] = 0.0f;
    switch (t) {
    case QG_TYPE_Q4_0: case QG_TYPE_Q5_0: case QG_TYPE_Q8_0: case QG_TYPE_IQ4_NL:
        a[0] = a[1] = qgcu_half_to_float(qgcu_u16(b));
        return;
    case QG_TYPE_Q4_1: case QG_TYPE_Q5_1:
        a[0] = a[1] = qgcu_half_to_float(qgcu_u16(b));
        o[0] = o[1] = qgcu_half_to_float(qgcu_u16(b + 2));
        return;
    case QG_TYPE_Q2_K: {
        float d = qgcu_half_to_float(qgcu_u16(b + 80)), dmin = qgcu_half_to_float(qgcu_u16(b + 82));
        for (int h = 0; h < 2; h++) {
            uint8_t sc = b[2 * c + h];
            a[h] = qgcu_mul(d, (float)(sc & 15));
            o[h] = -qgcu_mul(dmin, (float)(sc >> 4));
        }
        return;
    }
    case QG_TYPE_Q3_K: {
        float d = qgcu_half_to_float(qgcu_u16(b + 108));
        for (int h = 0; h < 2; h++) a[h] = qgcu_mul(d, (float)qgcu_q3_K_scale(b + 96, 2 * c + h));
        return;
    }
    case QG_TYPE_Q4_K: case QG_TYPE_Q5_K: {
        int sc, mn;
        qgcu_kq_scale_min(b + 4, c, &sc, &mn);
        a[0] = a[1] = qgcu_mul(qgcu_half_to_float(qgcu_u16(b)), (float)sc);
        o[0] = o[1] = -qgcu_mul(qgcu_half_to_float(qgcu_u16(b + 2)), (float)mn);
        return;
    }
    case QG_TYPE_Q6_K: {
        float d = qgcu_half_to_float(qgcu_u16(b + 208));
        for (int h = 0; h < 2; h++) a[h] = qgcu_mul(d, (float)(int8_t)b[192 + 2 * c + h]);
        return;
    }
    case QG_TYPE_IQ4_XS:
        a[0] = a[1] = qgcu_mul(qgcu_half_to_float(qgcu_u16(b)), (float)qgcu_iq4_xs_scale(b, c));
        return;
    case QG_TYPE_TQ1_0:
        a[0] = a[1] = qgcu_half_to_float(qgcu_u16(b + 52));
        return;
    case QG_TYPE_TQ2_0:
        a[0] = a[1] = qgcu_half_to_float(qgcu_u16(b + 64));
        return;
    case QG_TYPE_MXFP4:
        a[0] = a[1] = qgcu_mxfp4_half_scale(b[0]);
        return;
    case QG_TYPE_NVFP4:
        for (int h = 0; h < 2; h++) a[h] = qgcu_mul(qgcu_ue4m3_to_float(b[2 * c + h]), 0.5f);
        return;
    default:
        a[0] = a[1] = 0.0f;
        return;
    }
}

/* Little-endian u32 at a 2-byte aligned address (two 16-bit loads on the device). */
QGCU_HD uint32_t qgcu_ld32_a2(const uint8_t *p) {
#ifdef __CUDA_ARCH__
    const uint16_t *h = (const uint16_t *)p;
    return (uint32_t)h[0] | ((uint32_t)h[1] << 16);
#else
    return qgcu_u32(p);
#endif
}

/* Little-endian u32 at a 4-byte aligned address. */
QGCU_HD uint32_t qgcu_ld32_a4(const uint8_t *p) {
#ifdef __CUDA_ARCH__
    return *(const uint32_t *)p;
#else
    return qgcu_u32(p);
#endif
}

/* Subtract s (< 128) from four bytes holding 0..127 each, giving signed bytes. */
QGCU_HD uint32_t qgcu_sub_bytes(uint32_t v, uint32_t s) {
    return ((v | 0x80808080u) - s * 0x01010101u) ^ 0x80808080u;
}

/* Fast packing of the levels for the common types (same result as the generic loop);
 * returns 0 for the types it does not cover. Alignment: Q4_0, Q8_0 and Q6_K blocks are
 * 2-byte aligned, Q4_K and Q5_K blocks 4-byte aligned (block sizes 18, 34, 210, 144, 176
 * bytes from a cudaMalloc'ed row base with whole-block row strides). */
QGCU_HD int qgcu_chunk_fast(int t, const uint8_t *b, int c, int32_t q[8]) {
    switch (t) {
    case QG_TYPE_Q4_0:
        for (int i = 0; i < 4; i++) {
            uint32_t v = qgcu_ld32_a2(b + 2 + 4 * i);
            q[i] = (int32_t)qgcu_sub_bytes(v & 0x0F0F0F0Fu, 8);
            q[i + 4] = (int32_t)qgcu_sub_bytes((v >> 4) & 0x0F0F0F0Fu, 8);
        }
        return 1;
    case QG_TYPE_Q8_0:
        for (int i = 0; i < 8; i++) q[i] = (int32_t)qgcu_ld32_a2(b + 2 + 4 * i);
        return 1;
    case QG_TYPE_Q4_K:
        for (int i = 0; i < 8; i++)
            q[i] = (int32_t)((qgcu_ld32_a4(b + 16 + 32 * (c >> 1) + 4 * i) >> (4 * (c & 1))) & 0x0F0F0F0Fu);
        return 1;
    case QG_TYPE_Q5_K:
        for (int i = 0; i < 8; i++) {
            uint32_t lo = (qgcu_ld32_a4(b + 48 + 32 * (c >> 1) + 4 * i) >> (4 * (c & 1))) & 0x0F0F0F0Fu;
            uint32_t hi = (qgcu_ld32_a4(b + 16 + 4 * i) >> c) & 0x01010101u;
            q[i] = (int32_t)(lo | (hi << 4));
        }
        return 1;
    case QG_TYPE_Q6_K: {
        const int h = c >> 2, quarter = c & 3;
        const uint8_t *ql = b + 64 * h + 32 * (quarter & 1), *qh = b + 128 + 32 * h;
        for (int i = 0; i < 8; i++) {
            uint32_t lo = (qgcu_ld32_a2(ql + 4 * i) >> (4 * (quarter >> 1))) & 0x0F0F0F0Fu;
            uint32_t hi = (qgcu_ld32_a2(qh + 4 * i) >> (2 * quarter)) & 0x03030303u;
            q[i] = (int32_t)qgcu_sub_bytes(lo | (hi << 4), 32);
        }
        return 1;
    }
    default:
        return 0;
    }
}

/* The full integer view of chunk c: 32 levels packed in q[8], plus scales and offsets. */
QGCU_HD void qgcu_chunk(int t, const uint8_t *b, int c, int32_t q[8], float a[2], float o[2]) {
    qgcu_chunk_scales(t, b, c, a, o);
    if (qgcu_chunk_fast(t, b, c, q)) return;
    for (int i = 0; i < 8; i++) {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++)
            v |= (uint32_t)(uint8_t)(int8_t)qgcu_level(t, b, 32 * c + 4 * i + k) << (8 * k);
        q[i] = (int32_t)v;
    }
}

/* Signed 4x int8 dot product accumulated into c (the dp4a instruction on the device). */
QGCU_HD int32_t qgcu_dp4a(int32_t a, int32_t b, int32_t c) {
#ifdef __CUDA_ARCH__
    return __dp4a(a, b, c);
#else
    for (int k = 0; k < 4; k++)
        c += (int32_t)(int8_t)(uint8_t)((uint32_t)a >> (8 * k)) *
             (int32_t)(int8_t)(uint8_t)((uint32_t)b >> (8 * k));
    return c;
#endif
}

/* Whether the two halves of a chunk can have different scales (a scale per 16 elements);
 * for the other types a[0] == a[1] and o[0] == o[1]. */
QGCU_HD int qgcu_int_type_split(int t) {
    return t == QG_TYPE_Q2_K || t == QG_TYPE_Q3_K || t == QG_TYPE_Q6_K || t == QG_TYPE_NVFP4;
}

/* Whether the type's integer view has offsets (w = a*q + b with b != 0). */
QGCU_HD int qgcu_int_type_offset(int t) {
    return t == QG_TYPE_Q4_1 || t == QG_TYPE_Q5_1 || t == QG_TYPE_Q2_K || t == QG_TYPE_Q4_K ||
           t == QG_TYPE_Q5_K;
}

/* Dot of a chunk's integer view with a Q8 activation chunk (levels y, scale dy):
 * dy * sum_h (a[h] * sum(q*y) + o[h] * sum(y)) over the halves of 16; the sum(y) term
 * is skipped when offs is 0 (its o[h] are zero). */
QGCU_HD float qgcu_chunk_dot(const int32_t q[8], const float a[2], const float o[2],
                             const int32_t y[8], float dy, int offs) {
    float r = 0.0f;
    for (int h = 0; h < 2; h++) {
        int32_t s = 0, sy = 0;
        for (int i = 4 * h; i < 4 * h + 4; i++) {
            s = qgcu_dp4a(q[i], y[i], s);
            if (offs) sy = qgcu_dp4a(0x01010101, y[i], sy);
        }
        r += a[h] * (float)s;
        if (offs) r += o[h] * (float)sy;
    }
    return dy * r;
}

#endif
