/* The 32-element GGUF block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1: dequantizers (the
 * block decoders of block32.h) and the reference quantizers of
 * shared/spec/quant-formats.md. The quantizers reproduce ggml's reference output byte for
 * byte, so the float evaluation order matters: scales are computed in float, the inverse
 * scale comes from the unrounded d, and only the stored d (and m, s) are rounded to fp16.
 * Elements j and j+16 share byte qs[j]. */
#include "core/quant/block32.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#define QK QG_B32

static void min_max(const float *x, float *mn, float *mx) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < QK; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

/* Truncating float -> int conversion as the reference quantizers do it, kept inside the
 * int8 range so that NaN or overflowing input cannot trigger undefined behaviour. */
static int trunc_q(float v, int hi) {
    if (!(v > 0)) return 0;
    if (v >= (float)hi) return hi;
    return (int)v;
}

/* Dequantizers: w = q * d (+ m for the type-1 Q4_1 and Q5_1), via block32.h. */
#define B32_TO_FLOAT(t, type1)                                                        \
    void qg_to_float_##t(const void *src, float *dst, int64_t n) {                    \
        qg_b32_to_float(src, sizeof(qg_block_##t), qg_b32_decode_##t, type1, dst, n); \
    }

B32_TO_FLOAT(q4_0, false)
B32_TO_FLOAT(q4_1, true)
B32_TO_FLOAT(q5_0, false)
B32_TO_FLOAT(q5_1, true)
B32_TO_FLOAT(q8_0, false)
B32_TO_FLOAT(q8_1, false)

/* Type-0 levels 0..2*half-1: d = (signed extreme) / -half, q = trunc(x/d + half + 0.5). */
static inline float levels_type0(const float *x, int half, int q[QK]) {
    float d = qg_signed_absmax(x, QK) / -(float)half;
    float id = d != 0 ? 1.0f / d : 0.0f;
    for (int j = 0; j < QK; j++) q[j] = trunc_q(x[j] * id + ((float)half + 0.5f), 2 * half - 1);
    return d;
}

/* Type-1 levels 0..nmax: d = (max - min) / nmax, q = trunc((x - min)/d + 0.5). */
static inline float levels_type1(const float *x, int nmax, int q[QK], float *mn) {
    float mx;
    min_max(x, mn, &mx);
    float d = (mx - *mn) / (float)nmax;
    float id = d != 0 ? 1.0f / d : 0.0f;
    for (int j = 0; j < QK; j++) q[j] = trunc_q((x[j] - *mn) * id + 0.5f, nmax);
    return d;
}

/* The 5-bit types keep bit 4 of element j in bit j of a little-endian u32 (qh != NULL). */
static inline void pack_levels(const int q[QK], uint8_t *qh, uint8_t *qs) {
    uint32_t h = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 15) | ((q[j + 16] & 15) << 4));
        h |= (uint32_t)((q[j] >> 4) & 1) << j;
        h |= (uint32_t)((q[j + 16] >> 4) & 1) << (j + 16);
    }
    if (qh)
        for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(h >> (8 * k));
}

/* Where a 4/5-bit block type keeps its fields: d at offset 0, then m (type 1), qh (5-bit
 * types; 0 when absent) and qs, as byte offsets. */
typedef struct {
    size_t size, m_off, qh_off, qs_off;
    int nmax;
    bool type1;
} layout;

#define LAYOUT(t, nmax, type1, qh_off)                                                \
    { sizeof(qg_block_##t), type1 ? 2 : 0, qh_off, offsetof(qg_block_##t, qs), nmax, type1 }

_Static_assert(offsetof(qg_block_q4_1, m) == 2 && offsetof(qg_block_q5_1, m) == 2, "m after d");

static const layout q4_0_layout = LAYOUT(q4_0, 15, false, 0);
static const layout q4_1_layout = LAYOUT(q4_1, 15, true, 0);
static const layout q5_0_layout = LAYOUT(q5_0, 31, false, offsetof(qg_block_q5_0, qh));
static const layout q5_1_layout = LAYOUT(q5_1, 31, true, offsetof(qg_block_q5_1, qh));

static void store_fp16(uint8_t *p, float v) {
    uint16_t h = qg_fp32_to_fp16(v);
    memcpy(p, &h, sizeof h);
}

/* Always inlined, so that each type's copy has its layout folded in. */
static inline __attribute__((always_inline)) void from_float_b32(const float *src, uint8_t *dst,
                                                                 int64_t n, const layout *l) {
    int q[QK];
    for (int64_t i = 0; i < n / QK; i++, src += QK, dst += l->size) {
        float mn = 0;
        float d = l->type1 ? levels_type1(src, l->nmax, q, &mn)
                           : levels_type0(src, (l->nmax + 1) / 2, q);
        store_fp16(dst, d);
        if (l->type1) store_fp16(dst + l->m_off, mn);
        pack_levels(q, l->qh_off ? dst + l->qh_off : NULL, dst + l->qs_off);
    }
}

void qg_from_float_q4_0(const float *src, void *dst, int64_t n) {
    from_float_b32(src, dst, n, &q4_0_layout);
}

void qg_from_float_q4_1(const float *src, void *dst, int64_t n) {
    from_float_b32(src, dst, n, &q4_1_layout);
}

void qg_from_float_q5_0(const float *src, void *dst, int64_t n) {
    from_float_b32(src, dst, n, &q5_0_layout);
}

void qg_from_float_q5_1(const float *src, void *dst, int64_t n) {
    from_float_b32(src, dst, n, &q5_1_layout);
}

/* roundf (half away from zero) into -127..127; NaN gives 0. */
static int8_t round_q8(float v) {
    if (isnan(v)) return 0;
    float r = roundf(v);
    if (r > 127) r = 127;
    if (r < -127) r = -127;
    return (int8_t)r;
}

/* Q8 levels: d = amax/127, q = round(x/d); returns d and the sum of the levels. */
static float levels_q8(const float *x, int8_t qs[QK], int *sum) {
    float d = qg_absmax(x, QK) / 127.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    *sum = 0;
    for (int j = 0; j < QK; j++) {
        qs[j] = round_q8(x[j] * id);
        *sum += qs[j];
    }
    return d;
}

void qg_from_float_q8_0(const float *src, void *dst, int64_t n) {
    qg_block_q8_0 *b = dst;
    int sum;
    for (int64_t i = 0; i < n / QK; i++, src += QK)
        b[i].d = qg_fp32_to_fp16(levels_q8(src, b[i].qs, &sum));
}

void qg_from_float_q8_1(const float *src, void *dst, int64_t n) {
    qg_block_q8_1 *b = dst;
    int sum;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float d = levels_q8(src, b[i].qs, &sum);
        b[i].d = qg_fp32_to_fp16(d);
        b[i].s = qg_fp32_to_fp16((float)sum * d);
    }
}
