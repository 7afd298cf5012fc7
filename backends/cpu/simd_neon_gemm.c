/* NEON kernels of the tiled mat-mat (layout in gemm_neon_layout.h): a register tile of
 * 8 weight rows x 4 activation columns runs over all of k with SDOT by element
 * (vdotq_laneq_s32). Per 16 values of k it loads the tile's 8 weight vectors (4 quads x 2
 * row groups) and one 16-byte piece of each column, and issues 32 SDOTs, each adding four
 * products to four rows of one column.
 *  - Legacy block-32 types: the int32 sums of a block (exact) are converted, multiplied
 *    by d_w (a vector over rows) times d_y (the column's block scale) and added to float
 *    accumulators (plus m_w * s_y for Q4_1 / Q5_1). Results differ from vec_dot by float
 *    rounding order only.
 *  - K-quants: each sub-block's int32 sums are multiplied by the rows' integer sub-block
 *    scales into exact per-super-block sums, the mins are applied through the column's
 *    block sums (int16 multiply-accumulate by element, exact), and the super-block is
 *    evaluated in double exactly as the NEON vec_dot (simd_neon_kquants.c) and the scalar
 *    reference do, so the results are those of vec_dot bit for bit.
 * The tile loop keeps one tile of the panel hot while the column groups stream past it; a
 * partial last column group repeats its last column (computed and dropped), rows past
 * `rows` are zero in the panel and dropped.
 */
#include <string.h>

#include "core/quant/quant.h"
#include "gemm_neon_layout.h"
#include "simd_neon.h"

#define ALWAYS static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 8")

/* acc += the four quads of x (lanes 0-3) against the weight vectors w[0..3]. */
#define SDOT4(acc, w, x)                                                                              \
    do {                                                                                              \
        acc = vdotq_laneq_s32(acc, (w)[0], x, 0);                                                     \
        acc = vdotq_laneq_s32(acc, (w)[1], x, 1);                                                     \
        acc = vdotq_laneq_s32(acc, (w)[2], x, 2);                                                     \
        acc = vdotq_laneq_s32(acc, (w)[3], x, 3);                                                     \
    } while (0)

/* a[rg][c] += 16 values of k (one 128-byte chunk of the tile at w, the columns at x[c]). */
ALWAYS void chunk16(const int8_t *w, const int8_t *const x[NEON_GC], int64_t e, int32x4_t a[2][NEON_GC]) {
    int8x16_t w0[4], w1[4];
    UNROLL for (int q = 0; q < 4; q++) {
        w0[q] = vld1q_s8(w + 32 * q);
        w1[q] = vld1q_s8(w + 32 * q + 16);
    }
    UNROLL for (int c = 0; c < NEON_GC; c++) {
        const int8x16_t xv = vld1q_s8(x[c] + e);
        SDOT4(a[0][c], w0, xv);
        SDOT4(a[1][c], w1, xv);
    }
}

ALWAYS void zero(int32x4_t a[2][NEON_GC]) {
    UNROLL for (int rg = 0; rg < 2; rg++) UNROLL for (int c = 0; c < NEON_GC; c++) a[rg][c] = vdupq_n_s32(0);
}

/* The column pointers of one group: the quants and the d (and s / block sums) arrays. */
typedef struct cols {
    const int8_t *q[NEON_GC];
    const float *d[NEON_GC];
    const void *extra[NEON_GC];
} cols;

/* Legacy tile: out[c][r] for 8 rows x 4 columns over nb blocks of 32. */
ALWAYS void tile_legacy(bool MIN, const int8_t *tile, const neon_lmeta *meta, const cols *x, int64_t nb,
                        float out[NEON_GC][NEON_GR]) {
    float32x4_t f[2][NEON_GC];
    UNROLL for (int rg = 0; rg < 2; rg++) UNROLL for (int c = 0; c < NEON_GC; c++) f[rg][c] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; b++) {
        int32x4_t a[2][NEON_GC];
        zero(a);
        chunk16(tile + 256 * b, x->q, 32 * b, a);
        /* keeps gcc from loading the second chunk's weights early, which spilled four
         * float accumulators per block (aarch64 gcc 12 -O2: 7 stack accesses -> 3) */
        __asm__ volatile("" ::: "memory");
        chunk16(tile + 256 * b + 128, x->q, 32 * b + 16, a);
        const float32x4_t dw0 = vld1q_f32(meta[b].d), dw1 = vld1q_f32(meta[b].d + 4);
        UNROLL for (int c = 0; c < NEON_GC; c++) {
            const float dy = x->d[c][b];
            f[0][c] = vfmaq_f32(f[0][c], vcvtq_f32_s32(a[0][c]), vmulq_n_f32(dw0, dy));
            f[1][c] = vfmaq_f32(f[1][c], vcvtq_f32_s32(a[1][c]), vmulq_n_f32(dw1, dy));
        }
        if (MIN) {
            const float32x4_t m0 = vld1q_f32(meta[b].m), m1 = vld1q_f32(meta[b].m + 4);
            UNROLL for (int c = 0; c < NEON_GC; c++) {
                const float sy = ((const float *)x->extra[c])[b];
                f[0][c] = vfmaq_n_f32(f[0][c], m0, sy);
                f[1][c] = vfmaq_n_f32(f[1][c], m1, sy);
            }
        }
    }
    UNROLL for (int c = 0; c < NEON_GC; c++) {
        vst1q_f32(out[c], f[0][c]);
        vst1q_f32(out[c] + 4, f[1][c]);
    }
}

/* Eight int16 mins (rows) times the column's block sum `lane`, added to rows 0-3 / 4-7. */
#define MIN_LANE(m, bs, lane)                                                                         \
    do {                                                                                              \
        const int16x8_t mv = vld1q_s16((m)[lane]);                                                     \
        ms0 = vmlal_laneq_s16(ms0, vget_low_s16(mv), bs, lane);                                       \
        ms1 = vmlal_high_laneq_s16(ms1, mv, bs, lane);                                                \
    } while (0)
#define MIN_8(m, bs)                                                                                  \
    do {                                                                                              \
        MIN_LANE(m, bs, 0); MIN_LANE(m, bs, 1); MIN_LANE(m, bs, 2); MIN_LANE(m, bs, 3);               \
        MIN_LANE(m, bs, 4); MIN_LANE(m, bs, 5); MIN_LANE(m, bs, 6); MIN_LANE(m, bs, 7);               \
    } while (0)

/* acc[c][r] += the super-block's term for row r, column c, in double, the way vec_dot
 * evaluates it: yd * (d * isum - dmin * msum) with mins, (yd * d) * isum without. */
ALWAYS void finish_k(bool MINS, const neon_kmeta *m, const int32x4_t is[2][NEON_GC], const int32x4_t ms[2][NEON_GC],
                     const double yd[NEON_GC], double acc[NEON_GC][NEON_GR]) {
    UNROLL for (int c = 0; c < NEON_GC; c++) UNROLL for (int rg = 0; rg < 2; rg++) UNROLL for (int h = 0; h < 2; h++) {
        const int r = 4 * rg + 2 * h;
        const float64x2_t isd =
            vcvtq_f64_s64(h ? vmovl_high_s32(is[rg][c]) : vmovl_s32(vget_low_s32(is[rg][c])));
        const float64x2_t d = vld1q_f64(m->d + r);
        float64x2_t t;
        if (MINS) {
            const float64x2_t msd =
                vcvtq_f64_s64(h ? vmovl_high_s32(ms[rg][c]) : vmovl_s32(vget_low_s32(ms[rg][c])));
            const float64x2_t dm = vld1q_f64(m->dmin + r);
            t = vmulq_n_f64(vsubq_f64(vmulq_f64(d, isd), vmulq_f64(dm, msd)), yd[c]);
        } else {
            t = vmulq_f64(vmulq_n_f64(d, yd[c]), isd);
        }
        vst1q_f64(acc[c] + r, vaddq_f64(vld1q_f64(acc[c] + r), t));
    }
}

/* K-quant tile over nsb super-blocks: SUB is the sub-block length (16 or 32), MINS whether
 * the type has mins (NSUB of them, applied through the column's block sums). */
ALWAYS void tile_k(int SUB, bool MINS, const int8_t *tile, const neon_kmeta *meta, const cols *x, int64_t nsb,
                   float out[NEON_GC][NEON_GR]) {
    const int NSUB = QG_QK_K / SUB;
    double acc[NEON_GC][NEON_GR];
    memset(acc, 0, sizeof acc);
    for (int64_t i = 0; i < nsb; i++) {
        const neon_kmeta *m = meta + i;
        const int8_t *w = tile + (size_t)i * QG_QK_K * NEON_GR;
        int32x4_t is[2][NEON_GC], ms[2][NEON_GC];
        zero(is);
        for (int s = 0; s < NSUB; s++) {
            int32x4_t a[2][NEON_GC];
            zero(a);
            const int64_t e = i * QG_QK_K + s * SUB;
            chunk16(w + (size_t)s * SUB * NEON_GR, x->q, e, a);
            if (SUB == 32) chunk16(w + (size_t)s * SUB * NEON_GR + 128, x->q, e + 16, a);
            const int32x4_t sc0 = vld1q_s32(m->sc[s]), sc1 = vld1q_s32(m->sc[s] + 4);
            UNROLL for (int c = 0; c < NEON_GC; c++) {
                is[0][c] = vmlaq_s32(is[0][c], a[0][c], sc0);
                is[1][c] = vmlaq_s32(is[1][c], a[1][c], sc1);
            }
        }
        if (MINS) {
            UNROLL for (int c = 0; c < NEON_GC; c++) {
                const int16_t *bs = (const int16_t *)x->extra[c] + 16 * i;
                int32x4_t ms0 = vdupq_n_s32(0), ms1 = vdupq_n_s32(0);
                const int16x8_t b0 = vld1q_s16(bs);
                MIN_8(m->mn, b0);
                if (NSUB == 16) {
                    const int16x8_t b1 = vld1q_s16(bs + 8);
                    MIN_8(m->mn + 8, b1);
                }
                ms[0][c] = ms0;
                ms[1][c] = ms1;
            }
        } else {
            zero(ms);
        }
        double yd[NEON_GC];
        UNROLL for (int c = 0; c < NEON_GC; c++) yd[c] = x->d[c][i];
        finish_k(MINS, m, (const int32x4_t(*)[NEON_GC])is, (const int32x4_t(*)[NEON_GC])ms, yd, acc);
    }
    UNROLL for (int c = 0; c < NEON_GC; c++) UNROLL for (int r = 0; r < NEON_GR; r++) out[c][r] = (float)acc[c][r];
}

typedef void (*tile_fn)(const int8_t *tile, const void *meta, const cols *x, int64_t k, float out[NEON_GC][NEON_GR]);

static void t_legacy(const int8_t *tile, const void *meta, const cols *x, int64_t k, float out[NEON_GC][NEON_GR]) {
    tile_legacy(false, tile, meta, x, k / 32, out);
}
static void t_legacy_min(const int8_t *tile, const void *meta, const cols *x, int64_t k, float out[NEON_GC][NEON_GR]) {
    tile_legacy(true, tile, meta, x, k / 32, out);
}
static void t_k_min16(const int8_t *tile, const void *meta, const cols *x, int64_t k, float out[NEON_GC][NEON_GR]) {
    tile_k(16, true, tile, meta, x, k / QG_QK_K, out);
}
static void t_k_min32(const int8_t *tile, const void *meta, const cols *x, int64_t k, float out[NEON_GC][NEON_GR]) {
    tile_k(32, true, tile, meta, x, k / QG_QK_K, out);
}
static void t_k_sc16(const int8_t *tile, const void *meta, const cols *x, int64_t k, float out[NEON_GC][NEON_GR]) {
    tile_k(16, false, tile, meta, x, k / QG_QK_K, out);
}
static void t_k_sc32(const int8_t *tile, const void *meta, const cols *x, int64_t k, float out[NEON_GC][NEON_GR]) {
    tile_k(32, false, tile, meta, x, k / QG_QK_K, out);
}

static tile_fn pick(neon_finish f) {
    switch (f) {
    case NEON_LEGACY: return t_legacy;
    case NEON_LEGACY_MIN: return t_legacy_min;
    case NEON_K_MIN16: return t_k_min16;
    case NEON_K_MIN32: return t_k_min32;
    case NEON_K_SC16: return t_k_sc16;
    case NEON_K_SC32: return t_k_sc32;
    }
    return NULL;
}

void neon_gemm_run(const struct cpu_gemm *g, const void *panel, int rows, int64_t k, const void *x, size_t xs,
                   int64_t ncols, char *out, size_t ldo) {
    const tile_fn fn = pick(g->finish);
    const bool kq = neon_is_k(g->finish);
    const int64_t nd = kq ? k / QG_QK_K : k / 32; /* d values per column */
    const int tiles = (rows + NEON_GR - 1) / NEON_GR;
    for (int t = 0; t < tiles; t++) {
        const int8_t *tile = (const int8_t *)panel + (size_t)t * neon_tile_bytes(k);
        const void *meta = tile + (size_t)k * NEON_GR;
        const int r0 = t * NEON_GR, nr = rows - r0 < NEON_GR ? rows - r0 : NEON_GR;
        for (int64_t j = 0; j < ncols; j += NEON_GC) {
            cols c;
            for (int i = 0; i < NEON_GC; i++) {
                const int64_t col = j + i < ncols ? j + i : ncols - 1; /* a partial group repeats its last column */
                c.q[i] = (const int8_t *)((const char *)x + (size_t)col * xs);
                c.d[i] = (const float *)(c.q[i] + k);
                c.extra[i] = c.d[i] + nd;
            }
            float res[NEON_GC][NEON_GR];
            fn(tile, meta, &c, k, res);
            for (int i = 0; i < NEON_GC && j + i < ncols; i++)
                memcpy(out + (size_t)(j + i) * ldo + (size_t)r0 * sizeof(float), res[i], (size_t)nr * sizeof(float));
        }
    }
}
