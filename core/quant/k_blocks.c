/* The loops that the K-quants (Q2_K..Q6_K) and IQ4_XS share once a super-block's levels
 * and sub-block scales are unpacked to plain arrays in element order (by a per-type
 * decode function): the row dequantizer, the row dot product against Q8_K (integer sums
 * per sub-block, the block's scales applied in double) and the level re-assignment of the
 * quantizers for the stored scales. Type-1 blocks are w = (d*sc)*q - (dmin*mn) with
 * unsigned levels, type-0 blocks w = (d*sc)*q with signed levels; a super-block has nsub
 * equal sub-blocks (16 or 32 elements each). The float evaluation order is the one the
 * per-type files had (and ggml has): the sub-block scale d*sc is rounded to float first. */
#include "core/quant/k_internal.h"

/* One super-block's dequantization, block contribution to the dot product, written for
 * a compile-time sub-block length len and kind so that each of the four combinations in
 * use (type 1 or 0, sub-blocks of 16 or 32) is compiled as its own tight loop. */
static inline void dequant_block(const qg_kq_block *b, int len, bool type1, float *dst) {
    for (int j = 0; j < QG_QK_K / len; ++j) {
        const float dl = b->d * b->sc[j];
        if (type1) {
            const float ml = b->dmin * b->mn[j];
            for (int l = 0; l < len; ++l) *dst++ = dl * b->uq[len * j + l] - ml;
        } else {
            for (int l = 0; l < len; ++l) *dst++ = dl * b->sq[len * j + l];
        }
    }
}

static inline double dot_block(const qg_kq_block *b, int len, bool type1, const qg_block_q8_K *y) {
    int32_t isum = 0, msum = 0;
    for (int j = 0; j < QG_QK_K / len; ++j) {
        int32_t s = 0;
        if (type1) {
            for (int l = 0; l < len; ++l) s += b->uq[len * j + l] * y->qs[len * j + l];
            /* the Q8_K bsums hold the sums of 16 quants each */
            for (int g = len * j / 16; g < len * (j + 1) / 16; ++g) msum += b->mn[j] * y->bsums[g];
        } else {
            for (int l = 0; l < len; ++l) s += b->sq[len * j + l] * y->qs[len * j + l];
        }
        isum += b->sc[j] * s;
    }
    if (type1) return (double)y->d * ((double)b->d * isum - (double)b->dmin * msum);
    return (double)y->d * (double)b->d * isum;
}

void qg_kq_to_float(const void *src, size_t size, qg_kq_decode_fn decode, float *dst,
                    int64_t n) {
    const uint8_t *x = src;
    qg_kq_block b;
    for (int64_t i = 0; i < n / QG_QK_K; ++i, dst += QG_QK_K) {
        decode(x + (size_t)i * size, &b);
        if (b.nsub == 16) {
            if (b.type1) dequant_block(&b, 16, true, dst);
            else dequant_block(&b, 16, false, dst);
        } else {
            if (b.type1) dequant_block(&b, 32, true, dst);
            else dequant_block(&b, 32, false, dst);
        }
    }
}

float qg_kq_vec_dot(int64_t n, const void *vx, size_t size, qg_kq_decode_fn decode,
                    const void *vy) {
    const uint8_t *x = vx;
    const qg_block_q8_K *y = vy;
    qg_kq_block b;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        decode(x + (size_t)i * size, &b);
        double c;
        if (b.nsub == 16)
            c = b.type1 ? dot_block(&b, 16, true, &y[i]) : dot_block(&b, 16, false, &y[i]);
        else
            c = b.type1 ? dot_block(&b, 32, true, &y[i]) : dot_block(&b, 32, false, &y[i]);
        sum += c;
    }
    return (float)sum;
}

void qg_kq_assign_type1(const float *x, const int *sc, const int *mn, int nsub, float d,
                        float dmin, int nmax, uint8_t *L) {
    const int len = QG_QK_K / nsub;
    for (int j = 0; j < nsub; ++j) {
        const float dl = d * sc[j];
        const float ml = dmin * mn[j];
        for (int l = 0; l < len; ++l) {
            const int e = len * j + l;
            L[e] = dl != 0.0f ? (uint8_t)qg_kq_round_clamp((x[e] + ml) / dl, 0, nmax) : 0;
        }
    }
}

void qg_kq_assign_type0(const float *x, const int *sc, int nsub, float d, int nmax, int8_t *L) {
    const int len = QG_QK_K / nsub;
    for (int j = 0; j < nsub; ++j) {
        const float dl = d * sc[j];
        for (int l = 0; l < len; ++l) {
            const int e = len * j + l;
            L[e] = (int8_t)(dl != 0.0f ? qg_kq_round_clamp(x[e] / dl, -nmax, nmax - 1) : 0);
        }
    }
}

void qg_kq_levels_sm6(const float *x, int nmax, float rmin, int nstep, uint8_t *scales,
                      uint16_t *d, uint16_t *dmin, uint8_t *L) {
    float fs[8], fm[8];
    int sc[8], mn[8];
    qg_kq_type1_subblocks(x, nmax, rmin, nstep, fs, fm);
    qg_kq_quantize_scales6(fs, fm, scales, d, dmin);
    for (int j = 0; j < 8; ++j) qg_kq_unpack_scale_min(scales, j, &sc[j], &mn[j]);
    qg_kq_assign_type1(x, sc, mn, 8, qg_fp16_to_fp32(*d), qg_fp16_to_fp32(*dmin), nmax, L);
}

void qg_kq_decode_sm6(uint16_t d, uint16_t dmin, const uint8_t *scales, qg_kq_block *out) {
    out->type1 = true;
    out->nsub = 8;
    out->d = qg_fp16_to_fp32(d);
    out->dmin = qg_fp16_to_fp32(dmin);
    for (int j = 0; j < 8; ++j) qg_kq_unpack_scale_min(scales, j, &out->sc[j], &out->mn[j]);
}

void qg_kq_from_float(const float *src, void *dst, size_t size,
                      void (*quantize)(const float *x, void *block), int64_t n) {
    uint8_t *y = dst;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) quantize(src + i * QG_QK_K, y + (size_t)i * size);
}
