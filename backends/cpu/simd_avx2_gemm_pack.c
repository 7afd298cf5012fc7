/* Packing for the tiled mat-mat (layout in gemm_layout.h): the per-type expansion of
 * weight groups into levels and metadata, the packing of activation rows (Q8_0, Q8_1,
 * Q8_K) into interleaved groups, and the table of weight types with a tiled path.
 *
 * Levels are stored unsigned where the type allows it (the kernels multiply unsigned
 * weight bytes with signed activation bytes): Q4_0 and Q5_0 keep their stored codes and
 * the offset (8, 16) comes back through the activation block sums; Q3_K and Q6_K keep
 * level + 4 / + 32: Q3_K's offset times the sub-block scale goes into `mins`, which the
 * kernel multiplies with the activation's bsums; Q6_K's is taken off by the activation's
 * init sums (GEMM_O32). Q8_0, IQ4_NL, MXFP4 and IQ4_XS levels
 * are signed.
 * A panel is expanded once and used for every activation column; the interleave, the
 * nibble splits of Q4_0/Q4_1/Q5_0/Q5_1/Q4_K and the Q6_K level assembly use AVX2, the
 * rarer types plain C.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "core/quant/k_internal.h"
#include "gemm_layout.h"

/* The 16 IQ4_NL levels and the E2M1 (FP4) values times two, by 4-bit code (the core's
 * tables are internal to libqgraph). */
static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
static const int8_t e2m1_x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

/* F16C conversion: the same value as qg_fp16_to_fp32 for every half (a NaN stays a NaN),
 * without a call per scale. */
static float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* Blocks of 32 of group g that exist in a row of k elements. */
static int legacy_blocks(int64_t k, int64_t g) {
    const int64_t nb = k / 32 - 8 * g;
    return nb > 8 ? 8 : (int)nb;
}

static void ones(gemm_wmeta *m) {
    for (int p = 0; p < 16; p++) m->mul[p] = 1;
}

static void nibbles(const uint8_t qs[16], uint8_t *lev) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(15);
    _mm_storeu_si128((__m128i *)lev, _mm_and_si128(q, m));
    _mm_storeu_si128((__m128i *)(lev + 16), _mm_and_si128(_mm_srli_epi16(q, 4), m));
}

static void high_bits(const uint8_t qh[4], uint8_t *lev) {
    const uint32_t h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
    for (int j = 0; j < 32; j++) lev[j] |= (uint8_t)(((h >> j) & 1) << 4);
}

static void expand_q4_0(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    const qg_block_q4_0 *x = (const qg_block_q4_0 *)row + 8 * g;
    ones(m);
    for (int b = 0; b < legacy_blocks(k, g); b++) {
        nibbles(x[b].qs, lev + 32 * b);
        m->d[b] = h2f(x[b].d);
    }
}

static void expand_q4_1(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    const qg_block_q4_1 *x = (const qg_block_q4_1 *)row + 8 * g;
    ones(m);
    for (int b = 0; b < legacy_blocks(k, g); b++) {
        nibbles(x[b].qs, lev + 32 * b);
        m->d[b] = h2f(x[b].d);
        m->m[b] = h2f(x[b].m);
    }
}

static void expand_q5_0(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    const qg_block_q5_0 *x = (const qg_block_q5_0 *)row + 8 * g;
    ones(m);
    for (int b = 0; b < legacy_blocks(k, g); b++) {
        nibbles(x[b].qs, lev + 32 * b);
        high_bits(x[b].qh, lev + 32 * b);
        m->d[b] = h2f(x[b].d);
    }
}

static void expand_q5_1(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    const qg_block_q5_1 *x = (const qg_block_q5_1 *)row + 8 * g;
    ones(m);
    for (int b = 0; b < legacy_blocks(k, g); b++) {
        nibbles(x[b].qs, lev + 32 * b);
        high_bits(x[b].qh, lev + 32 * b);
        m->d[b] = h2f(x[b].d);
        m->m[b] = h2f(x[b].m);
    }
}

static void expand_q8_0(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    const qg_block_q8_0 *x = (const qg_block_q8_0 *)row + 8 * g;
    ones(m);
    for (int b = 0; b < legacy_blocks(k, g); b++) {
        memcpy(lev + 32 * b, x[b].qs, 32);
        m->d[b] = h2f(x[b].d);
    }
}

static void expand_iq4_nl(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    const qg_block_iq4_nl *x = (const qg_block_iq4_nl *)row + 8 * g;
    ones(m);
    for (int b = 0; b < legacy_blocks(k, g); b++) {
        for (int j = 0; j < 16; j++) {
            lev[32 * b + j] = (uint8_t)iq4_levels[x[b].qs[j] & 15];
            lev[32 * b + j + 16] = (uint8_t)iq4_levels[x[b].qs[j] >> 4];
        }
        m->d[b] = h2f(x[b].d);
    }
}

static void expand_mxfp4(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    const qg_block_mxfp4 *x = (const qg_block_mxfp4 *)row + 8 * g;
    ones(m);
    for (int b = 0; b < legacy_blocks(k, g); b++) {
        for (int j = 0; j < 16; j++) {
            lev[32 * b + j] = (uint8_t)e2m1_x2[x[b].qs[j] & 15];
            lev[32 * b + j + 16] = (uint8_t)e2m1_x2[x[b].qs[j] >> 4];
        }
        /* half the E8M0 scale, as the reference applies it to the doubled FP4 values */
        m->d[b] = x[b].e == 0xff ? NAN : ldexpf(1.0f, (int)x[b].e - 128);
    }
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

static void k_scales32(const uint8_t *scales, gemm_wmeta *m) {
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        scale_min(scales, j, &sc, &mn);
        m->mul[2 * j] = m->mul[2 * j + 1] = (int16_t)sc;
        m->mins[j] = m->mins[j + 8] = (int16_t)mn;
    }
}

/* The super-block scales as the kernel's double finish reads them. */
static void k_d(gemm_wmeta *m, uint16_t d, uint16_t dmin) {
    m->kd[0] = m->kd[1] = h2f(d);
    m->kd[2] = m->kd[3] = h2f(dmin);
}

static void expand_q4_K(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    (void)k;
    const qg_block_q4_K *x = (const qg_block_q4_K *)row + g;
    const __m256i m4 = _mm256_set1_epi8(15);
    for (int c = 0; c < 4; c++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * c));
        _mm256_storeu_si256((__m256i *)(lev + 64 * c), _mm256_and_si256(q, m4));
        _mm256_storeu_si256((__m256i *)(lev + 64 * c + 32), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
    }
    k_scales32(x->scales, m);
    k_d(m, x->d, x->dmin);
}

static void expand_q5_K(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    (void)k;
    const qg_block_q5_K *x = (const qg_block_q5_K *)row + g;
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            lev[64 * c + l] = (uint8_t)((x->qs[32 * c + l] & 15) | (((x->qh[l] >> (2 * c)) & 1) << 4));
            lev[64 * c + 32 + l] = (uint8_t)((x->qs[32 * c + l] >> 4) | (((x->qh[l] >> (2 * c + 1)) & 1) << 4));
        }
    k_scales32(x->scales, m);
    k_d(m, x->d, x->dmin);
}

static void expand_q6_K(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    (void)k;
    const qg_block_q6_K *x = (const qg_block_q6_K *)row + g;
    /* level l of each quarter: low nibble from ql, bits 4-5 from qh (shifted into place
     * with 16-bit shifts, then masked) */
    const __m256i m4 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
    for (int h = 0; h < 2; h++) {
        const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h));
        const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h + 32));
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
        uint8_t *o = lev + 128 * h;
        _mm256_storeu_si256((__m256i *)o, _mm256_or_si256(_mm256_and_si256(ql0, m4),
                                                          _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30)));
        _mm256_storeu_si256((__m256i *)(o + 32), _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                                                 _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30)));
        _mm256_storeu_si256((__m256i *)(o + 64),
                            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)));
        _mm256_storeu_si256((__m256i *)(o + 96), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                                                 _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30)));
    }
    for (int p = 0; p < 16; p++) m->mul[p] = x->scales[p];
    k_d(m, x->d, 0);
}

static void expand_q3_K(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    (void)k;
    const qg_block_q3_K *x = (const qg_block_q3_K *)row + g;
    for (int h = 0; h < 2; h++)
        for (int s = 0; s < 4; s++)
            for (int l = 0; l < 32; l++) {
                const int low = (x->qs[32 * h + l] >> (2 * s)) & 3, hb = (x->hmask[l] >> (4 * h + s)) & 1;
                lev[128 * h + 32 * s + l] = (uint8_t)(low + 4 * hb); /* level + 4 */
            }
    for (int p = 0; p < 16; p++) {
        const int lo = p < 8 ? (x->scales[p] & 15) : (x->scales[p - 8] >> 4);
        const int hi = (x->scales[8 + p % 4] >> (2 * (p / 4))) & 3;
        const int sc = (lo | (hi << 4)) - 32;
        m->mul[p] = (int16_t)sc;
        m->mins[p] = (int16_t)(4 * sc);
    }
    k_d(m, x->d, 0);
}

static void expand_q2_K(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    (void)k;
    const qg_block_q2_K *x = (const qg_block_q2_K *)row + g;
    for (int h = 0; h < 2; h++)
        for (int s = 0; s < 4; s++)
            for (int l = 0; l < 32; l++) lev[128 * h + 32 * s + l] = (uint8_t)((x->qs[32 * h + l] >> (2 * s)) & 3);
    for (int p = 0; p < 16; p++) {
        m->mul[p] = (int16_t)(x->scales[p] & 15);
        m->mins[p] = (int16_t)(x->scales[p] >> 4);
    }
    k_d(m, x->d, x->dmin);
}

/* min_cols: below it the per-column path was faster (measured on Zen 3: the panel
 * expansion is not paid back; most K-quants need more columns, their vec_dot4 being
 * faster). Tiled / per-column CPU time (one thread, 256 weight rows, k 4096 and 14336,
 * under load): Q4_K 0.63-0.70 at 64 columns, 0.58-0.78 at 128-192; Q3_K 1.37-1.42 at 64,
 * 1.13 at 96, 0.70-0.94 at 128-192; Q5_K 1.20-1.25 at 64, 1.03-1.05 at 96, 0.81-0.90 at
 * 128-192; Q6_K 0.96-1.03 at 64-96, 0.79-0.99 at 128-192 (one outlier 1.16); Q2_K
 * 0.94-1.29 at 128-192, so it keeps 256. IQ4_XS (tiled = pack_x + pack_w + 4-panel run,
 * per-column = vec_dot4; 256 rows): 0.90-0.92 at 64 columns, 0.80-0.89 at 96, 0.87-1.03
 * at 128, k 4096 and 14336. */
/* IQ4_XS: signed levels from the IQ4_NL table (a byte shuffle per 16 codes), the eight
 * scales ls - 32 in mul[0..7]. */
static void expand_iq4_xs(const void *row, int64_t k, int64_t g, uint8_t *lev, gemm_wmeta *m) {
    (void)k;
    const qg_block_iq4_xs *x = (const qg_block_iq4_xs *)row + g;
    const __m128i tab = _mm_loadu_si128((const __m128i *)iq4_levels), m4 = _mm_set1_epi8(15);
    for (int ib = 0; ib < 8; ib++) {
        const __m128i q = _mm_loadu_si128((const __m128i *)(x->qs + 16 * ib));
        _mm_storeu_si128((__m128i *)(lev + 32 * ib), _mm_shuffle_epi8(tab, _mm_and_si128(q, m4)));
        _mm_storeu_si128((__m128i *)(lev + 32 * ib + 16),
                         _mm_shuffle_epi8(tab, _mm_and_si128(_mm_srli_epi16(q, 4), m4)));
        const int lo = (x->scales_l[ib / 2] >> (4 * (ib % 2))) & 15, hi = (x->scales_h >> (2 * ib)) & 3;
        m->mul[ib] = (int16_t)((lo | (hi << 4)) - 32);
    }
    k_d(m, x->d, 0);
}

static const gemm_type types[] = {
    {QG_TYPE_Q4_0, GEMM_U16, GEMM_LEGACY, 8, expand_q4_0, 64},
    {QG_TYPE_Q4_1, GEMM_U16, GEMM_LEGACY_MIN, 0, expand_q4_1, 64},
    {QG_TYPE_Q5_0, GEMM_U31, GEMM_LEGACY, 16, expand_q5_0, 64},
    {QG_TYPE_Q5_1, GEMM_U31, GEMM_LEGACY_MIN, 0, expand_q5_1, 64},
    {QG_TYPE_Q8_0, GEMM_SIGNED, GEMM_LEGACY, 0, expand_q8_0, 64},
    {QG_TYPE_IQ4_NL, GEMM_SIGNED, GEMM_LEGACY, 0, expand_iq4_nl, 64},
    {QG_TYPE_MXFP4, GEMM_SIGNED, GEMM_LEGACY, 0, expand_mxfp4, 64},
    {QG_TYPE_Q2_K, GEMM_U16, GEMM_K_MIN, 0, expand_q2_K, 256},
    {QG_TYPE_Q3_K, GEMM_U16, GEMM_K_OFF, 0, expand_q3_K, 128},
    {QG_TYPE_Q4_K, GEMM_U16, GEMM_K_MIN32, 0, expand_q4_K, 64},
    {QG_TYPE_Q5_K, GEMM_U31, GEMM_K_MIN32, 0, expand_q5_K, 128},
    {QG_TYPE_Q6_K, GEMM_O32, GEMM_K0, 0, expand_q6_K, 128},
    {QG_TYPE_IQ4_XS, GEMM_SIGNED, GEMM_K_SC32, 0, expand_iq4_xs, 64},
};

const gemm_type *gemm_type_get(qg_type weight) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == weight) return &types[i];
    return NULL;
}

/* Natural order -> interleaved (gemm_slot): element pair 8p + j (elements 16p + 2j and
 * 16p + 2j + 1) goes to int16 lane p of vector j, a 16 x 8 transpose of byte pairs. With
 * rows p and p + 8 of the 16 x 8 matrix in the two halves of one vector, it is an 8 x 8
 * transpose of 16-bit values in each half (three rounds of unpacks). */
static void interleave(const int8_t *src, int8_t *dst) {
    __m256i x[8], a[8], b[8];
    for (int p = 0; p < 8; p++)
        x[p] = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(src + 16 * p))),
                                       _mm_loadu_si128((const __m128i *)(src + 128 + 16 * p)), 1);
    for (int i = 0; i < 4; i++) {
        a[2 * i] = _mm256_unpacklo_epi16(x[2 * i], x[2 * i + 1]);     /* columns 0-3 of rows 2i, 2i+1 */
        a[2 * i + 1] = _mm256_unpackhi_epi16(x[2 * i], x[2 * i + 1]); /* columns 4-7 */
    }
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 2; i++) {
            /* rows 4h..4h+3: columns 4i, 4i+1 (low) and 4i+2, 4i+3 (high) */
            b[4 * h + 2 * i] = _mm256_unpacklo_epi32(a[4 * h + i], a[4 * h + 2 + i]);
            b[4 * h + 2 * i + 1] = _mm256_unpackhi_epi32(a[4 * h + i], a[4 * h + 2 + i]);
        }
    /* b[q], b[4 + q]: rows 0-3 and 4-7 at columns 2q (low 64 bits) and 2q + 1 (high) */
    for (int q = 0; q < 4; q++) {
        _mm256_storeu_si256((__m256i *)(dst + 64 * q), _mm256_unpacklo_epi64(b[q], b[4 + q]));
        _mm256_storeu_si256((__m256i *)(dst + 64 * q + 32), _mm256_unpackhi_epi64(b[q], b[4 + q]));
    }
}

static void pack_x(const cpu_gemm *t, const void *xq, int64_t k, void *dst) {
    gemm_xgroup *out = dst;
    const int64_t groups = gemm_groups(k);
    memset(out, 0, (size_t)groups * sizeof *out);
    if (t->finish == GEMM_K_MIN || t->finish == GEMM_K_MIN32 || t->finish == GEMM_K_OFF || t->finish == GEMM_K_SC32 ||
        t->finish == GEMM_K0) {
        const qg_block_q8_K *y = xq;
        for (int64_t g = 0; g < groups; g++) {
            interleave(y[g].qs, out[g].q);
            out[g].d[0] = y[g].d;
            memcpy(out[g].bs, y[g].bsums, sizeof out[g].bs);
            if (t->kernel == GEMM_O32) {
                /* |init| <= 32 * 8 * 127 */
                for (int h = 0; h < 2; h++)
                    for (int p = 0; p < 16; p++) {
                        int sum = 0;
                        for (int e = 0; e < 8; e++) sum += y[g].qs[16 * p + 8 * h + e];
                        out[g].init[h][p] = (int16_t)(-32 * sum);
                    }
                continue;
            }
            for (int j = 0; j < 8; j++) out[g].bs32[j] = (int16_t)(y[g].bsums[2 * j] + y[g].bsums[2 * j + 1]);
        }
        return;
    }
    int8_t tmp[GEMM_GROUP];
    const bool q8_1 = t->finish == GEMM_LEGACY_MIN;
    for (int64_t g = 0; g < groups; g++) {
        memset(tmp, 0, sizeof tmp);
        for (int b = 0; b < legacy_blocks(k, g); b++) {
            const int8_t *qs;
            if (q8_1) {
                const qg_block_q8_1 *y = (const qg_block_q8_1 *)xq + 8 * g + b;
                qs = y->qs;
                out[g].d[b] = h2f(y->d);
                out[g].s[b] = h2f(y->s);
            } else {
                const qg_block_q8_0 *y = (const qg_block_q8_0 *)xq + 8 * g + b;
                qs = y->qs;
                out[g].d[b] = h2f(y->d);
            }
            int32_t sum = 0;
            for (int j = 0; j < 32; j++) sum += qs[j];
            out[g].ysum[b] = t->offset * sum;
            memcpy(tmp + 32 * b, qs, 32);
        }
        interleave(tmp, out[g].q);
    }
}

/* Only the levels and metadata are written (gemm_run clears the running sums itself);
 * the rows past `rows` are zero. */
static void pack_w(const cpu_gemm *t, const void *w, size_t nb1, int rows, int64_t k, void *panel) {
    const int64_t groups = gemm_groups(k);
    const bool partial = k % GEMM_GROUP != 0; /* legacy: the last group is padded with zeros */
    uint8_t tmp[GEMM_GROUP];
    for (int r = 0; r < CPU_GEMM_ROWS; r++) {
        const char *row = (const char *)w + (size_t)r * nb1;
        for (int64_t g = 0; g < groups; g++) {
            gemm_wmeta *meta = gemm_panel_meta(panel, groups, r / GEMM_R, g) + r % GEMM_R;
            int8_t *lev = (int8_t *)gemm_panel_levels(panel, groups, r / GEMM_R, g) + GEMM_GROUP * (r % GEMM_R);
            memset(meta, 0, sizeof *meta);
            if (r >= rows) {
                memset(lev, 0, GEMM_GROUP);
                continue;
            }
            if (partial && g == groups - 1) memset(tmp, 0, sizeof tmp);
            t->expand(row, k, g, tmp, meta);
            interleave((const int8_t *)tmp, lev);
        }
    }
}

static size_t x_size(int64_t k) { return (size_t)gemm_groups(k) * sizeof(gemm_xgroup); }

static void run(const cpu_gemm *t, const void *panel, int rows, int64_t k, const void *x, size_t xs, int64_t ncols,
                char *out, size_t ldo) {
    gemm_run(t, panel, 0, rows, k, x, xs, ncols, out, ldo);
}

static void run_panels(const cpu_gemm *t, const void *panels, size_t ps, int rows, int64_t k, const void *x,
                       size_t xs, int64_t ncols, char *out, size_t ldo) {
    gemm_run(t, panels, ps, rows, k, x, xs, ncols, out, ldo);
}

static int64_t min_cols(const cpu_gemm *t) { return t->min_cols; }

const cpu_gemm_fns cpu_avx2_gemm_fns = {
    .find = gemm_type_get,
    .x_size = x_size,
    .panel_size = gemm_panel_bytes,
    .pack_x = pack_x,
    .pack_w = pack_w,
    .run = run,
    .run_panels = run_panels,
    .min_cols = min_cols,
};
