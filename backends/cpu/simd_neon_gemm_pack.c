/* Packing for the NEON tiled mat-mat (layout in gemm_neon_layout.h): the per-type
 * expansion of weight blocks into signed levels and tile metadata, the scatter of levels
 * into the by-element SDOT layout, the packing of activation rows (Q8_0, Q8_1, Q8_K), and
 * the table of weight types with a tiled path (cpu_neon_gemm_fns).
 *
 * The expansions decode exactly what the scalar references decode (quant-formats.md),
 * 16 levels at a time with NEON (nibble splits, bit tests, table lookups); the scales are
 * decoded in plain C. Four rows of a unit are expanded into natural order and then
 * scattered by one 4 x 4 transpose of 32-bit words per 16 values of k. A panel is
 * expanded once and used for every activation column.
 */
#include <math.h>
#include <string.h>

#include "core/quant/k_internal.h"
#include "gemm_neon_layout.h"
#include "simd_neon.h"

static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
static const int8_t e2m1_x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
static const uint8_t bit_sel[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};

static void st(int8_t *p, uint8x16_t v) { vst1q_s8(p, vreinterpretq_s8_u8(v)); }
static void st_off(int8_t *p, uint8x16_t v, int off) {
    vst1q_s8(p, vsubq_s8(vreinterpretq_s8_u8(v), vdupq_n_s8((int8_t)off)));
}

static void set_lmeta(void *meta, int r, float d, float m) {
    neon_lmeta *lm = meta;
    lm->d[r] = d;
    lm->m[r] = m;
}

/* Low nibbles are elements 0-15, high nibbles 16-31, minus off. */
static void nibbles(const uint8_t qs[16], int off, int8_t *lev) {
    const uint8x16_t q = vld1q_u8(qs);
    st_off(lev, vandq_u8(q, vdupq_n_u8(15)), off);
    st_off(lev + 16, vshrq_n_u8(q, 4), off);
}

/* 16 in byte j where bit j of the two bytes b (little-endian) is set, else 0. */
static uint8x16_t bit16(const uint8_t *b) {
    const uint8x16_t v = vcombine_u8(vdup_n_u8(b[0]), vdup_n_u8(b[1]));
    return vandq_u8(vtstq_u8(v, vld1q_u8(bit_sel)), vdupq_n_u8(16));
}

/* Q5: nibble | (bit j of qh) << 4, minus off. */
static void five_bits(const uint8_t qh[4], const uint8_t qs[16], int off, int8_t *lev) {
    const uint8x16_t q = vld1q_u8(qs);
    st_off(lev, vorrq_u8(vandq_u8(q, vdupq_n_u8(15)), bit16(qh)), off);
    st_off(lev + 16, vorrq_u8(vshrq_n_u8(q, 4), bit16(qh + 2)), off);
}

static void lut(const int8_t *table, const uint8_t qs[16], int8_t *lev) {
    const uint8x16_t q = vld1q_u8(qs);
    const int8x16_t t = vld1q_s8(table);
    vst1q_s8(lev, vqtbl1q_s8(t, vandq_u8(q, vdupq_n_u8(15))));
    vst1q_s8(lev + 16, vqtbl1q_s8(t, vshrq_n_u8(q, 4)));
}

static void expand_q4_0(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q4_0 *b = (const qg_block_q4_0 *)row + u;
    nibbles(b->qs, 8, lev);
    set_lmeta(meta, r, neon_fp16(b->d), 0.0f);
}

static void expand_q4_1(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q4_1 *b = (const qg_block_q4_1 *)row + u;
    nibbles(b->qs, 0, lev);
    set_lmeta(meta, r, neon_fp16(b->d), neon_fp16(b->m));
}

static void expand_q5_0(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q5_0 *b = (const qg_block_q5_0 *)row + u;
    five_bits(b->qh, b->qs, 16, lev);
    set_lmeta(meta, r, neon_fp16(b->d), 0.0f);
}

static void expand_q5_1(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q5_1 *b = (const qg_block_q5_1 *)row + u;
    five_bits(b->qh, b->qs, 0, lev);
    set_lmeta(meta, r, neon_fp16(b->d), neon_fp16(b->m));
}

static void expand_q8_0(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q8_0 *b = (const qg_block_q8_0 *)row + u;
    memcpy(lev, b->qs, 32);
    set_lmeta(meta, r, neon_fp16(b->d), 0.0f);
}

static void expand_iq4_nl(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_iq4_nl *b = (const qg_block_iq4_nl *)row + u;
    lut(iq4_levels, b->qs, lev);
    set_lmeta(meta, r, neon_fp16(b->d), 0.0f);
}

static void expand_mxfp4(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_mxfp4 *b = (const qg_block_mxfp4 *)row + u;
    lut(e2m1_x2, b->qs, lev);
    /* half the E8M0 scale, as the levels are doubled E2M1 values; NaN for 0xFF */
    set_lmeta(meta, r, b->e == 0xff ? NAN : ldexpf(1.0f, (int)b->e - 128), 0.0f);
}

/* K-quant metadata of row r: nsub scales (and mins), the rest zero. */
static void set_kmeta(void *meta, int r, const int *sc, const int *mn, int nsub, uint16_t d, const uint16_t *dmin) {
    neon_kmeta *km = meta;
    for (int s = 0; s < 16; s++) {
        km->sc[s][r] = s < nsub ? sc[s] : 0;
        km->mn[s][r] = (int16_t)(s < nsub && mn ? mn[s] : 0);
    }
    km->d[r] = neon_fp16(d);
    km->dmin[r] = dmin ? neon_fp16(*dmin) : 0.0;
}

/* Q4_K / Q5_K: sub-block j's 6-bit scale and min. */
static void scale_min(const uint8_t *s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

static void expand_q4_K(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q4_K *x = (const qg_block_q4_K *)row + u;
    int sc[8], mn[8];
    const uint8x16_t m4 = vdupq_n_u8(15);
    for (int c = 0; c < 4; c++)
        for (int h = 0; h < 2; h++) {
            const uint8x16_t q = vld1q_u8(x->qs + 32 * c + 16 * h);
            st(lev + 64 * c + 16 * h, vandq_u8(q, m4));
            st(lev + 64 * c + 32 + 16 * h, vshrq_n_u8(q, 4));
        }
    for (int j = 0; j < 8; j++) scale_min(x->scales, j, &sc[j], &mn[j]);
    set_kmeta(meta, r, sc, mn, 8, x->d, &x->dmin);
}

static void expand_q5_K(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q5_K *x = (const qg_block_q5_K *)row + u;
    int sc[8], mn[8];
    const uint8x16_t m4 = vdupq_n_u8(15), one = vdupq_n_u8(1);
    for (int h = 0; h < 2; h++) {
        uint8x16_t qh = vld1q_u8(x->qh + 16 * h); /* bits 2c, 2c + 1: chunk c's fifth bits */
        for (int c = 0; c < 4; c++) {
            const uint8x16_t q = vld1q_u8(x->qs + 32 * c + 16 * h);
            st(lev + 64 * c + 16 * h, vorrq_u8(vandq_u8(q, m4), vshlq_n_u8(vandq_u8(qh, one), 4)));
            st(lev + 64 * c + 32 + 16 * h,
               vorrq_u8(vshrq_n_u8(q, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 1), one), 4)));
            qh = vshrq_n_u8(qh, 2);
        }
    }
    for (int j = 0; j < 8; j++) scale_min(x->scales, j, &sc[j], &mn[j]);
    set_kmeta(meta, r, sc, mn, 8, x->d, &x->dmin);
}

static void expand_q2_K(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q2_K *x = (const qg_block_q2_K *)row + u;
    int sc[16], mn[16];
    const uint8x16_t m3 = vdupq_n_u8(3);
    for (int h = 0; h < 2; h++) {
        uint8x16_t q0 = vld1q_u8(x->qs + 32 * h), q1 = vld1q_u8(x->qs + 32 * h + 16);
        for (int s = 0; s < 4; s++) {
            st(lev + 128 * h + 32 * s, vandq_u8(q0, m3));
            st(lev + 128 * h + 32 * s + 16, vandq_u8(q1, m3));
            q0 = vshrq_n_u8(q0, 2);
            q1 = vshrq_n_u8(q1, 2);
        }
    }
    for (int p = 0; p < 16; p++) {
        sc[p] = x->scales[p] & 15;
        mn[p] = x->scales[p] >> 4;
    }
    set_kmeta(meta, r, sc, mn, 16, x->d, &x->dmin);
}

static void expand_q3_K(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q3_K *x = (const qg_block_q3_K *)row + u;
    int sc[16];
    const uint8x16_t m3 = vdupq_n_u8(3), one = vdupq_n_u8(1);
    /* level = low two bits + 4 * (bit 4h + s of hmask[l]) - 4: a clear high bit means minus 4 */
    uint8x16_t hm0 = vld1q_u8(x->hmask), hm1 = vld1q_u8(x->hmask + 16);
    for (int h = 0; h < 2; h++) {
        uint8x16_t q0 = vld1q_u8(x->qs + 32 * h), q1 = vld1q_u8(x->qs + 32 * h + 16);
        for (int s = 0; s < 4; s++) {
            st_off(lev + 128 * h + 32 * s, vorrq_u8(vandq_u8(q0, m3), vshlq_n_u8(vandq_u8(hm0, one), 2)), 4);
            st_off(lev + 128 * h + 32 * s + 16, vorrq_u8(vandq_u8(q1, m3), vshlq_n_u8(vandq_u8(hm1, one), 2)), 4);
            q0 = vshrq_n_u8(q0, 2);
            q1 = vshrq_n_u8(q1, 2);
            hm0 = vshrq_n_u8(hm0, 1);
            hm1 = vshrq_n_u8(hm1, 1);
        }
    }
    for (int p = 0; p < 16; p++) {
        const int lo = p < 8 ? (x->scales[p] & 15) : (x->scales[p - 8] >> 4);
        const int hi = (x->scales[8 + p % 4] >> (2 * (p / 4))) & 3;
        sc[p] = (lo | (hi << 4)) - 32;
    }
    set_kmeta(meta, r, sc, NULL, 16, x->d, NULL);
}

static void expand_q6_K(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_q6_K *x = (const qg_block_q6_K *)row + u;
    int sc[16];
    const uint8x16_t m4 = vdupq_n_u8(15), m3 = vdupq_n_u8(3);
    /* element 128h + l (l < 32): ql[64h + l] low nibble, qh[32h + l] bits 0-1; + 32: ql[64h
     * + 32 + l] low, bits 2-3; + 64: ql[64h + l] high, bits 4-5; + 96: ql[64h + 32 + l] high,
     * bits 6-7; minus 32 */
    for (int h = 0; h < 2; h++)
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = x->ql + 64 * h + 16 * half;
            const uint8x16_t a = vld1q_u8(ql), b = vld1q_u8(ql + 32), hb = vld1q_u8(x->qh + 32 * h + 16 * half);
            int8_t *o = lev + 128 * h + 16 * half;
            st_off(o, vorrq_u8(vandq_u8(a, m4), vshlq_n_u8(vandq_u8(hb, m3), 4)), 32);
            st_off(o + 32, vorrq_u8(vandq_u8(b, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4)), 32);
            st_off(o + 64, vorrq_u8(vshrq_n_u8(a, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4)), 32);
            st_off(o + 96, vorrq_u8(vshrq_n_u8(b, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4)), 32);
        }
    for (int p = 0; p < 16; p++) sc[p] = x->scales[p];
    set_kmeta(meta, r, sc, NULL, 16, x->d, NULL);
}

static void expand_iq4_xs(const void *row, int64_t u, int8_t *lev, void *meta, int r) {
    const qg_block_iq4_xs *x = (const qg_block_iq4_xs *)row + u;
    int sc[8];
    for (int ib = 0; ib < 8; ib++) {
        lut(iq4_levels, x->qs + 16 * ib, lev + 32 * ib);
        sc[ib] = (((x->scales_l[ib / 2] >> (4 * (ib % 2))) & 15) | (((x->scales_h >> (2 * ib)) & 3) << 4)) - 32;
    }
    set_kmeta(meta, r, sc, NULL, 8, x->d, NULL);
}

static const struct cpu_gemm types[] = {
    {QG_TYPE_Q4_0, NEON_LEGACY, expand_q4_0},       {QG_TYPE_Q4_1, NEON_LEGACY_MIN, expand_q4_1},
    {QG_TYPE_Q5_0, NEON_LEGACY, expand_q5_0},       {QG_TYPE_Q5_1, NEON_LEGACY_MIN, expand_q5_1},
    {QG_TYPE_Q8_0, NEON_LEGACY, expand_q8_0},       {QG_TYPE_IQ4_NL, NEON_LEGACY, expand_iq4_nl},
    {QG_TYPE_MXFP4, NEON_LEGACY, expand_mxfp4},     {QG_TYPE_Q2_K, NEON_K_MIN16, expand_q2_K},
    {QG_TYPE_Q3_K, NEON_K_SC16, expand_q3_K},       {QG_TYPE_Q4_K, NEON_K_MIN32, expand_q4_K},
    {QG_TYPE_Q5_K, NEON_K_MIN32, expand_q5_K},      {QG_TYPE_Q6_K, NEON_K_SC16, expand_q6_K},
    {QG_TYPE_IQ4_XS, NEON_K_SC32, expand_iq4_xs},
};

const struct cpu_gemm *neon_gemm_type(qg_type weight) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == weight) return &types[i];
    return NULL;
}

/* Rows 4 rg .. 4 rg + 3 of a tile, one unit (natural order, lev[0..3]), into the
 * by-element layout: 16-value chunk ch of the unit goes to tile chunk c0 + ch, whose
 * slot (quad q) * 2 + row group holds quad q of the four rows (a 4 x 4 transpose of
 * 32-bit words). */
static void scatter4(int8_t *tile, int rg, int64_t c0, const int8_t lev[4][QG_QK_K], int n) {
    for (int ch = 0; ch < n / 16; ch++) {
        const int32x4_t r0 = vreinterpretq_s32_s8(vld1q_s8(lev[0] + 16 * ch));
        const int32x4_t r1 = vreinterpretq_s32_s8(vld1q_s8(lev[1] + 16 * ch));
        const int32x4_t r2 = vreinterpretq_s32_s8(vld1q_s8(lev[2] + 16 * ch));
        const int32x4_t r3 = vreinterpretq_s32_s8(vld1q_s8(lev[3] + 16 * ch));
        const int64x2_t t0 = vreinterpretq_s64_s32(vtrn1q_s32(r0, r1)); /* r0 q0, r1 q0, r0 q2, r1 q2 */
        const int64x2_t t1 = vreinterpretq_s64_s32(vtrn2q_s32(r0, r1)); /* quads 1 and 3 */
        const int64x2_t t2 = vreinterpretq_s64_s32(vtrn1q_s32(r2, r3));
        const int64x2_t t3 = vreinterpretq_s64_s32(vtrn2q_s32(r2, r3));
        int8_t *o = tile + (c0 + ch) * 128 + 16 * rg;
        vst1q_s8(o, vreinterpretq_s8_s64(vtrn1q_s64(t0, t2)));
        vst1q_s8(o + 32, vreinterpretq_s8_s64(vtrn1q_s64(t1, t3)));
        vst1q_s8(o + 64, vreinterpretq_s8_s64(vtrn2q_s64(t0, t2)));
        vst1q_s8(o + 96, vreinterpretq_s8_s64(vtrn2q_s64(t1, t3)));
    }
}

static size_t panel_size(int64_t k) { return ((size_t)NEON_TILES * neon_tile_bytes(k) + 63) / 64 * 64; }

/* Rows past `rows` get zero levels and zero metadata; tiles without a real row are left
 * alone (run does not read them). */
static void pack_w(const struct cpu_gemm *g, const void *w, size_t nb1, int rows, int64_t k, void *panel) {
    const bool kq = neon_is_k(g->finish);
    const int usize = kq ? QG_QK_K : 32;
    const int64_t units = k / usize;
    const size_t msize = kq ? sizeof(neon_kmeta) : sizeof(neon_lmeta);
    int8_t lev[4][QG_QK_K];
    for (int t = 0; t < NEON_TILES && t * NEON_GR < rows; t++) {
        int8_t *tile = (int8_t *)panel + (size_t)t * neon_tile_bytes(k);
        char *meta = (char *)tile + (size_t)k * NEON_GR;
        for (int rg = 0; rg < 2; rg++)
            for (int64_t u = 0; u < units; u++) {
                void *m = meta + (size_t)u * msize;
                for (int r4 = 0; r4 < 4; r4++) {
                    const int r = 4 * rg + r4, row = t * NEON_GR + r;
                    if (row < rows) {
                        g->expand((const char *)w + (size_t)row * nb1, u, lev[r4], m, r);
                        continue;
                    }
                    memset(lev[r4], 0, (size_t)usize);
                    if (kq) {
                        static const int zero[16];
                        static const uint16_t zero_h;
                        set_kmeta(m, r, zero, zero, 16, 0, &zero_h);
                    } else {
                        set_lmeta(m, r, 0.0f, 0.0f);
                    }
                }
                scatter4(tile, rg, u * usize / 16, (const int8_t(*)[QG_QK_K])lev, usize);
            }
    }
}

static size_t x_size(int64_t k) { return neon_x_bytes(k); }

static void pack_x(const struct cpu_gemm *g, const void *xq, int64_t k, void *dst) {
    int8_t *q = dst;
    float *d = (float *)(q + k);
    if (neon_is_k(g->finish)) {
        const qg_block_q8_K *y = xq;
        const int64_t nsb = k / QG_QK_K;
        int16_t *bs = (int16_t *)(d + nsb);
        for (int64_t i = 0; i < nsb; i++) {
            memcpy(q + i * QG_QK_K, y[i].qs, QG_QK_K);
            d[i] = y[i].d;
            int16_t *o = bs + 16 * i;
            if (g->finish == NEON_K_MIN32) {
                for (int j = 0; j < 8; j++) o[j] = (int16_t)(y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
                memset(o + 8, 0, 8 * sizeof *o);
            } else {
                memcpy(o, y[i].bsums, 16 * sizeof *o);
            }
        }
        return;
    }
    const int64_t nb = k / 32;
    float *s = d + nb;
    for (int64_t b = 0; b < nb; b++) {
        if (g->finish == NEON_LEGACY_MIN) {
            const qg_block_q8_1 *y = (const qg_block_q8_1 *)xq + b;
            memcpy(q + 32 * b, y->qs, 32);
            d[b] = neon_fp16(y->d);
            s[b] = neon_fp16(y->s);
        } else {
            const qg_block_q8_0 *y = (const qg_block_q8_0 *)xq + b;
            memcpy(q + 32 * b, y->qs, 32);
            d[b] = neon_fp16(y->d);
            s[b] = 0.0f;
        }
    }
}

const cpu_gemm_fns cpu_neon_gemm_fns = {
    .find = neon_gemm_type,
    .x_size = x_size,
    .panel_size = panel_size,
    .pack_x = pack_x,
    .pack_w = pack_w,
    .run = neon_gemm_run,
};
