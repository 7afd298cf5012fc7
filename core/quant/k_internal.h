/* Internal to core/quant: the block layouts of the K-quants (Q2_K..Q6_K) and the IQ4
 * types exactly as in the spec (quant-formats.md: packed little-endian; every member is
 * naturally aligned, so there is no padding, which the static asserts check), the scale
 * searches shared by their reference quantizers (k_search.c) and the IQ4 value table.
 * Q8_K and Q8_0, the dot-product partners, are defined in quant.h. */
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

#endif
