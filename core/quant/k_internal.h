/* Internal to core/quant: the block layouts of the K-quants (Q2_K..Q6_K) and the IQ4
 * types exactly as in the spec (quant-formats.md: packed little-endian; every member is
 * naturally aligned, so there is no padding, which the static asserts check), the scale
 * searches shared by their reference quantizers (k_search.c), the IQ4 value table, and
 * the super-block loops every K-quant type runs on its decoded blocks (k_blocks.c). Q8_K
 * and Q8_0, the dot-product partners, are defined in quant.h. */
#ifndef QG_QUANT_K_INTERNAL_H
#define QG_QUANT_K_INTERNAL_H

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/quant/quant.h" /* QG_QK_K, Q8_K and Q8_0 (the partner types) */
#include "qg/core.h"

#define QG_QK_IQ4NL 32

typedef struct {
    uint8_t scales[16]; /* low nibble: scale, high nibble: min, per 16-element sub-block */
    uint8_t qs[64];     /* 2-bit quants */
    uint16_t d;         /* fp16 super-block scale of the scales */
    uint16_t dmin;      /* fp16 super-block scale of the mins */
} qg_block_q2_K;

typedef struct {
    uint8_t hmask[32];  /* third bit of each quant */
    uint8_t qs[64];     /* low 2 bits */
    uint8_t scales[12]; /* sixteen 6-bit scales, stored +32 */
    uint16_t d;
} qg_block_q3_K;

typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12]; /* eight 6-bit scales and eight 6-bit mins */
    uint8_t qs[128];
} qg_block_q4_K;

typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[32];     /* fifth bit */
    uint8_t qs[128];
} qg_block_q5_K;

typedef struct {
    uint8_t ql[128];    /* low 4 bits */
    uint8_t qh[64];     /* high 2 bits */
    int8_t scales[16];
    uint16_t d;
} qg_block_q6_K;


typedef struct {
    uint16_t d;
    uint8_t qs[16];
} qg_block_iq4_nl;

typedef struct {
    uint16_t d;
    uint16_t scales_h;  /* high 2 bits of the eight 6-bit scales */
    uint8_t scales_l[4];/* low 4 bits */
    uint8_t qs[128];
} qg_block_iq4_xs;

static_assert(sizeof(qg_block_q2_K) == 84, "Q2_K block size");
static_assert(sizeof(qg_block_q3_K) == 110, "Q3_K block size");
static_assert(sizeof(qg_block_q4_K) == 144, "Q4_K block size");
static_assert(sizeof(qg_block_q5_K) == 176, "Q5_K block size");
static_assert(sizeof(qg_block_q6_K) == 210, "Q6_K block size");
static_assert(sizeof(qg_block_q8_K) == 292, "Q8_K block size");
static_assert(sizeof(qg_block_iq4_nl) == 18, "IQ4_NL block size");
static_assert(sizeof(qg_block_iq4_xs) == 136, "IQ4_XS block size");
static_assert(sizeof(qg_block_q8_0) == 34, "Q8_0 block size");

/* Blocks whose largest |x| is below this are stored as exact zeros. */
#define QG_KQ_EPS 1e-15f

/* The 16 IQ4_NL/IQ4_XS levels. */
extern const int8_t qg_iq4_values[16];

/* Round to nearest (ties to even) and clamp to [lo, hi]; NaN gives lo. */
static inline int qg_kq_round_clamp(float v, int lo, int hi) {
    if (!(v > (float)lo)) return lo;
    if (v >= (float)hi) return hi;
    return (int)lrintf(v);
}

/* Type-1 search for n values: levels 0..nmax, x ~ scale*L - min_out (min_out >= 0).
 * Tries iscale = (nmax + rmin + rdelta*i)/(max-min), i = 0..nstep, refits scale and min
 * by weighted least squares for each assignment and keeps the smallest weighted error
 * (|err| when abs_err, else err^2). Writes L and returns the scale. */
float qg_kq_search_type1(int n, int nmax, const float *x, const float *w, uint8_t *L,
                         float *min_out, float rmin, float rdelta, int nstep, bool abs_err);

/* Weighting of the type-0 fit: by x^2 (favours the large values) or uniform. */
#define QG_KQ_W_X2 0
#define QG_KQ_W_ONE 1

/* Type-0 (signed) search for n values: levels -nmax..nmax-1. Tries
 * iscale = -(nmax + 0.1*i)/max for i = -9..9 (max: the signed extreme) with a weighted
 * least-squares refit, then refines single levels by coordinate descent for `refine`
 * passes. Writes L (signed levels) and returns the scale (0 for an all-tiny block). */
float qg_kq_search_type0(int n, int nmax, const float *x, int8_t *L, int wmode, int refine);

/* Six-bit sub-block scale/min packing of Q4_K and Q5_K (8 pairs in 12 bytes). */
void qg_kq_pack_scale_min(uint8_t *scales, int j, int sc, int mn);
void qg_kq_unpack_scale_min(const uint8_t *scales, int j, int *sc, int *mn);

/* Quantize the 8 sub-block (scale, min) pairs of a Q4_K/Q5_K block to 6 bits: writes
 * packed scales, the fp16 d and dmin. */
void qg_kq_quantize_scales6(const float *scales, const float *mins, uint8_t *packed,
                            uint16_t *d, uint16_t *dmin);

/* Type-1 per-sub-block search used by Q4_K and Q5_K: weights sqrt(mean x^2) + |x|. */
void qg_kq_type1_subblocks(const float *x, int nmax, float rmin, int nstep,
                           float *scales, float *mins);

/* k_blocks.c. A super-block unpacked by its type's decode function: nsub equal sub-blocks
 * with integer scales sc (and mins mn), levels in element order. Type 1 (type1 true):
 * w = (d*sc)*q - (dmin*mn) with levels uq; type 0: w = (d*sc)*q with signed levels sq. */
typedef struct {
    bool type1;
    int nsub;
    float d, dmin;
    int sc[16], mn[16];
    uint8_t uq[QG_QK_K];
    int8_t sq[QG_QK_K];
} qg_kq_block;
typedef void (*qg_kq_decode_fn)(const void *restrict block, qg_kq_block *restrict out);

/* Row dequantizer and row dot product against Q8_K for blocks of `size` bytes. */
void qg_kq_to_float(const void *src, size_t size, qg_kq_decode_fn decode, float *dst, int64_t n);
float qg_kq_vec_dot(int64_t n, const void *vx, size_t size, qg_kq_decode_fn decode,
                    const void *vy);

/* Row quantizer: quantize() on each 256-element super-block of `size` bytes. */
void qg_kq_from_float(const float *src, void *dst, size_t size,
                      void (*quantize)(const float *x, void *block), int64_t n);

/* The three row entry points of a K-quant type t, given its static t##_decode and
 * t##_quantize_block (one 256-element super-block). */
#define QG_KQ_ROW_FUNCTIONS(t)                                                        \
    void qg_to_float_##t(const void *src, float *dst, int64_t n) {                    \
        qg_kq_to_float(src, sizeof(qg_block_##t), t##_decode, dst, n);                \
    }                                                                                 \
    void qg_from_float_##t(const float *src, void *dst, int64_t n) {                  \
        qg_kq_from_float(src, dst, sizeof(qg_block_##t), t##_quantize_block, n);      \
    }                                                                                 \
    float qg_vec_dot_##t(int64_t n, const void *vx, const void *vy) {                 \
        return qg_kq_vec_dot(n, vx, sizeof(qg_block_##t), t##_decode, vy);            \
    }

/* Quantizer level re-assignment for the stored scales (d*sc rounded to float first);
 * a zero d*sc gives level 0. Type 1: levels 0..nmax; type 0: -nmax..nmax-1. */
void qg_kq_assign_type1(const float *x, const int *sc, const int *mn, int nsub, float d,
                        float dmin, int nmax, uint8_t *L);
void qg_kq_assign_type0(const float *x, const int *sc, int nsub, float d, int nmax, int8_t *L);

/* The Q4_K/Q5_K quantizer up to the level packing: sub-block search, 6-bit scales and
 * mins (packed into scales, with d and dmin), then the 256 levels 0..nmax in L. */
void qg_kq_levels_sm6(const float *x, int nmax, float rmin, int nstep, uint8_t *scales,
                      uint16_t *d, uint16_t *dmin, uint8_t *L);
/* The scale part of a Q4_K/Q5_K decode: fp16 d and dmin, the 12 packed scale bytes. */
void qg_kq_decode_sm6(uint16_t d, uint16_t dmin, const uint8_t *scales, qg_kq_block *out);

#endif
