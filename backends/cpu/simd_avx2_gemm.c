/* AVX2 kernels of the tiled mat-mat (layout in gemm_layout.h): a register tile of
 * GEMM_R = 4 weight rows x GEMM_C = 2 activation columns runs over a k-chunk of
 * GEMM_KG groups, for every column pair of a block of GEMM_NB columns, continuing the
 * running sums the panel keeps per row and column; then the next k-chunk. A chunk of the
 * panels (4 tiles each x GEMM_KG groups) stays near (L1/L2) while the column pairs stream
 * past it; the next pair's chunk is prefetched (at n = 512, k = 14336 the packed columns
 * come from L3, so a run takes several panels at once: each column chunk loaded then
 * serves all of their tiles).
 *
 * Per group, each of the 8 steps loads one vector of every row and column and multiplies
 * them with maddubs (unsigned weight bytes x signed activation bytes, int16 pair sums):
 *  - U16, U31, U63 (levels <= 15, 31, 63): 8, 4 or 2 steps add in int16 (the lanes stay
 *    below 2^15), then a madd with the row's lane multipliers widens to int32 (U63: no
 *    type uses it now);
 *  - O32 (Q6_K: level + 32 <= 63): like U31, 4 steps per madd, the int16 sums starting
 *    from -32 times the activation sums of the round, which keeps them below 2^15 and
 *    takes the offset out (no correction in the finish);
 *  - U127 (levels <= 127; no type uses it now): each step is widened at once;
 *  - SIGNED (Q8_0, IQ4_NL, MXFP4, IQ4_XS): |w| times y with w's sign moved onto y
 *    (activations never hold -128: Q8_0 and Q8_K clamp to +-127), widened at once.
 * The group's int32 vector (lane s = elements 32s..32s+31) is then finished:
 *  - legacy: minus the offset correction, times d_w * d_y per block, added to 8 float
 *    lanes per output (plus m * s for type-1 weights); the lanes are summed at the end;
 *  - K-quants: the eight outputs' vectors are summed horizontally together (offset
 *    types: after subtracting the offset sums from the activation's bsums, exact in
 *    int32), the min sums likewise (Q4_K / Q5_K: two columns per madd, from sums of 32
 *    quants; IQ4_XS: each sum of 32 times its scale first, in int32), then the
 *    super-block is evaluated in double exactly as the scalar reference does, so
 *    results are bitwise those of vec_dot.
 * Every output sees the same operations whatever tile, thread or column pairing it falls
 * in (padding rows and a repeated last column are computed and dropped).
 */
#include <immintrin.h>
#include <string.h>

#include "gemm_layout.h"

_Static_assert(GEMM_R * GEMM_C == 8, "the K-quant finish reduces eight outputs at once");

/* Per 128-bit half: lane r of the result is the sum of the four lanes of v[r] in that
 * half (unpacks and adds: hadd would load the multiply pipes the kernels need). */
static inline __m256i sum4x4(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
    const __m256i s01 = _mm256_add_epi32(_mm256_unpacklo_epi32(v0, v1), _mm256_unpackhi_epi32(v0, v1));
    const __m256i s23 = _mm256_add_epi32(_mm256_unpacklo_epi32(v2, v3), _mm256_unpackhi_epi32(v2, v3));
    return _mm256_add_epi32(_mm256_unpacklo_epi64(s01, s23), _mm256_unpackhi_epi64(s01, s23));
}

/* Lane q of the result is the sum of the eight int32 lanes of v[q]. */
static inline __m256i reduce8(const __m256i v[8]) {
    const __m256i a = sum4x4(v[0], v[1], v[2], v[3]), b = sum4x4(v[4], v[5], v[6], v[7]);
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The small loops over rows, columns and steps must be unrolled to keep the tile in
 * registers. */
#define UNROLL _Pragma("GCC unroll 8")
#define ROLLED _Pragma("GCC unroll 1")

static inline __m256i ld(const void *p) { return _mm256_load_si256((const __m256i *)p); }

/* One step of the unsigned kernels: a[r][c] += maddubs(row r's vector, column c's
 * vector) for the 4 x 2 tile, in int16. Written as one asm block because GCC, left alone,
 * copies every accumulator once per step and spills one, which made the loop
 * dispatch-bound; here each step is 6 loads, 8 vpmaddubsw and 8 vpaddw. */
_Static_assert(GEMM_R == 4 && GEMM_C == 2, "step_u is written for the 4 x 2 tile");
static inline __attribute__((always_inline)) void step_u(const uint8_t *w, const int8_t *y0, const int8_t *y1,
                                                         __m256i a[GEMM_R][GEMM_C]) {
    __m256i t0, t1, tw, tm;
    __asm__("vmovdqa %[y0], %[t0]\n\t"
            "vmovdqa %[y1], %[t1]\n\t"
            "vmovdqa %[w0], %[tw]\n\t"
            "vpmaddubsw %[t0], %[tw], %[tm]\n\t"
            "vpaddw %[tm], %[a00], %[a00]\n\t"
            "vpmaddubsw %[t1], %[tw], %[tm]\n\t"
            "vpaddw %[tm], %[a01], %[a01]\n\t"
            "vmovdqa %[w1], %[tw]\n\t"
            "vpmaddubsw %[t0], %[tw], %[tm]\n\t"
            "vpaddw %[tm], %[a10], %[a10]\n\t"
            "vpmaddubsw %[t1], %[tw], %[tm]\n\t"
            "vpaddw %[tm], %[a11], %[a11]\n\t"
            "vmovdqa %[w2], %[tw]\n\t"
            "vpmaddubsw %[t0], %[tw], %[tm]\n\t"
            "vpaddw %[tm], %[a20], %[a20]\n\t"
            "vpmaddubsw %[t1], %[tw], %[tm]\n\t"
            "vpaddw %[tm], %[a21], %[a21]\n\t"
            "vmovdqa %[w3], %[tw]\n\t"
            "vpmaddubsw %[t0], %[tw], %[tm]\n\t"
            "vpaddw %[tm], %[a30], %[a30]\n\t"
            "vpmaddubsw %[t1], %[tw], %[tm]\n\t"
            "vpaddw %[tm], %[a31], %[a31]"
            : [a00] "+x"(a[0][0]), [a01] "+x"(a[0][1]), [a10] "+x"(a[1][0]), [a11] "+x"(a[1][1]),
              [a20] "+x"(a[2][0]), [a21] "+x"(a[2][1]), [a30] "+x"(a[3][0]), [a31] "+x"(a[3][1]),
              [t0] "=&x"(t0), [t1] "=&x"(t1), [tw] "=&x"(tw), [tm] "=&x"(tm)
            : [y0] "m"(*(const __m256i *)y0), [y1] "m"(*(const __m256i *)y1),
              [w0] "m"(*(const __m256i *)w), [w1] "m"(*(const __m256i *)(w + GEMM_GROUP)),
              [w2] "m"(*(const __m256i *)(w + 2 * GEMM_GROUP)), [w3] "m"(*(const __m256i *)(w + 3 * GEMM_GROUP)));
}

/* One step of the SIGNED kernel: v[r][c] += madd(maddubs(|w_r|, y_c with w_r's sign), 1)
 * for the 4 x 2 tile, in int32 (a pair of products reaches 2 * 128 * 127, so every step
 * widens at once). One asm block for the reason given at step_u: left to GCC, the loop
 * copied four accumulators and kept two on the stack; here each step is 6 loads, 12
 * vpsignb, 8 vpmaddubsw, 8 vpmaddwd and 8 vpaddd in 15 registers. */
static inline __attribute__((always_inline)) void step_s(const uint8_t *w, const int8_t *y0, const int8_t *y1,
                                                         __m256i ones, __m256i v[GEMM_R][GEMM_C]) {
    __m256i t0, t1, tw, ta, ts;
#define STEP_S_ROW(W, V0, V1)                                                                                     \
    "vmovdqa " W ", %[tw]\n\t"                                                                                  \
    "vpsignb %[tw], %[tw], %[ta]\n\t"                                                                           \
    "vpsignb %[tw], %[t0], %[ts]\n\t"                                                                           \
    "vpsignb %[tw], %[t1], %[tw]\n\t"                                                                           \
    "vpmaddubsw %[ts], %[ta], %[ts]\n\t"                                                                        \
    "vpmaddubsw %[tw], %[ta], %[tw]\n\t"                                                                        \
    "vpmaddwd %[one], %[ts], %[ts]\n\t"                                                                         \
    "vpmaddwd %[one], %[tw], %[tw]\n\t"                                                                         \
    "vpaddd %[ts], " V0 ", " V0 "\n\t"                                                                          \
    "vpaddd %[tw], " V1 ", " V1 "\n\t"
    __asm__("vmovdqa %[y0], %[t0]\n\t"
            "vmovdqa %[y1], %[t1]\n\t"
            STEP_S_ROW("%[w0]", "%[a00]", "%[a01]") STEP_S_ROW("%[w1]", "%[a10]", "%[a11]")
            STEP_S_ROW("%[w2]", "%[a20]", "%[a21]") STEP_S_ROW("%[w3]", "%[a30]", "%[a31]")
            : [a00] "+x"(v[0][0]), [a01] "+x"(v[0][1]), [a10] "+x"(v[1][0]), [a11] "+x"(v[1][1]),
              [a20] "+x"(v[2][0]), [a21] "+x"(v[2][1]), [a30] "+x"(v[3][0]), [a31] "+x"(v[3][1]),
              [t0] "=&x"(t0), [t1] "=&x"(t1), [tw] "=&x"(tw), [ta] "=&x"(ta), [ts] "=&x"(ts)
            : [one] "x"(ones), [y0] "m"(*(const __m256i *)y0), [y1] "m"(*(const __m256i *)y1),
              [w0] "m"(*(const __m256i *)w), [w1] "m"(*(const __m256i *)(w + GEMM_GROUP)),
              [w2] "m"(*(const __m256i *)(w + 2 * GEMM_GROUP)), [w3] "m"(*(const __m256i *)(w + 3 * GEMM_GROUP)));
#undef STEP_S_ROW
}

/* The int32 vectors v[r][c] of one group. */
static inline __attribute__((always_inline)) void group_dot(gemm_kernel KER, const uint8_t *lev,
                                                            const gemm_wmeta *meta, const gemm_xgroup *y[GEMM_C],
                                                            __m256i v[GEMM_R][GEMM_C]) {
    if (KER == GEMM_U16 || KER == GEMM_U31 || KER == GEMM_U63 || KER == GEMM_O32) {
        /* int16 lanes take 2 products per step: S steps of levels <= 15, 31, 63 stay below
         * 2^15. GEMM_O32: starting from -32 times the round's activation sums, every
         * partial sum is that of (level - 32) * y over the steps done plus -32 * y over the
         * rest, at most 8 * 32 * 127 < 2^15 in magnitude, so a round takes 4 steps. */
        const int S = KER == GEMM_U16 ? 8 : KER == GEMM_U31 || KER == GEMM_O32 ? 4 : 2;
        UNROLL
        for (int r = 0; r < GEMM_R; r++)
            UNROLL
            for (int c = 0; c < GEMM_C; c++) v[r][c] = _mm256_setzero_si256();
        ROLLED
        for (int j0 = 0; j0 < 8; j0 += S) {
            __m256i a[GEMM_R][GEMM_C];
            UNROLL
            for (int r = 0; r < GEMM_R; r++)
                UNROLL
                for (int c = 0; c < GEMM_C; c++)
                    a[r][c] = KER == GEMM_O32 ? ld(y[c]->init[j0 / 4]) : _mm256_setzero_si256();
            ROLLED
            for (int j = j0; j < j0 + S; j++) step_u(lev + 32 * j, y[0]->q + 32 * j, y[1]->q + 32 * j, a);
            UNROLL
            for (int r = 0; r < GEMM_R; r++) {
                const __m256i mul = ld(meta[r].mul);
                UNROLL
                for (int c = 0; c < GEMM_C; c++) v[r][c] = _mm256_add_epi32(v[r][c], _mm256_madd_epi16(a[r][c], mul));
            }
        }
        return;
    }
    if (KER == GEMM_SIGNED) {
        const __m256i ones = _mm256_set1_epi16(1);
        UNROLL
        for (int r = 0; r < GEMM_R; r++)
            UNROLL
            for (int c = 0; c < GEMM_C; c++) v[r][c] = _mm256_setzero_si256();
        ROLLED
        for (int j = 0; j < 8; j++) step_s(lev + 32 * j, y[0]->q + 32 * j, y[1]->q + 32 * j, ones, v);
        return;
    }
    __m256i mul[GEMM_R];
    UNROLL
    for (int r = 0; r < GEMM_R; r++) {
        mul[r] = KER == GEMM_SIGNED ? _mm256_set1_epi16(1) : ld(meta[r].mul);
        UNROLL
        for (int c = 0; c < GEMM_C; c++) v[r][c] = _mm256_setzero_si256();
    }
    ROLLED
    for (int j = 0; j < 8; j++) {
        __m256i yv[GEMM_C];
        UNROLL
        for (int c = 0; c < GEMM_C; c++) yv[c] = ld(y[c]->q + 32 * j);
        UNROLL
        for (int r = 0; r < GEMM_R; r++) {
            const __m256i w = ld(lev + GEMM_GROUP * r + 32 * j);
            if (KER == GEMM_SIGNED) {
                const __m256i aw = _mm256_sign_epi8(w, w);
                UNROLL
                for (int c = 0; c < GEMM_C; c++)
                    v[r][c] = _mm256_add_epi32(
                        v[r][c], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(yv[c], w)), mul[r]));
            } else {
                UNROLL
                for (int c = 0; c < GEMM_C; c++)
                    v[r][c] = _mm256_add_epi32(v[r][c], _mm256_madd_epi16(_mm256_maddubs_epi16(w, yv[c]), mul[r]));
            }
        }
    }
}

/* One register tile over groups [g0, g1): lev/meta point at the tile's group 0, y0/y1 at
 * the two columns' group 0. acc0/acc1: the columns' running sums, 32 bytes per row
 * (legacy: 8 float lanes; K-quants: one double), loaded at the start, stored at the end. */
static inline __attribute__((always_inline)) void tile(gemm_kernel KER, gemm_finish FIN, const uint8_t *lev,
                                                       const gemm_wmeta *meta, const gemm_xgroup *y0,
                                                       const gemm_xgroup *y1, int64_t g0, int64_t g1, char *acc0,
                                                       char *acc1) {
    const bool legacy = FIN == GEMM_LEGACY || FIN == GEMM_LEGACY_MIN;
    const bool offset = FIN == GEMM_LEGACY && KER != GEMM_SIGNED;
    char *accs[GEMM_C] = {acc0, acc1};
    __m256 facc[GEMM_R][GEMM_C];
    __m256d dacc[2];
    if (legacy) {
        UNROLL
        for (int r = 0; r < GEMM_R; r++)
            UNROLL
            for (int c = 0; c < GEMM_C; c++) facc[r][c] = _mm256_load_ps((const float *)(accs[c] + 32 * r));
    } else {
        double *a0 = (double *)acc0, *a1 = (double *)acc1;
        dacc[0] = _mm256_setr_pd(a0[0], a1[0], a0[4], a1[4]);
        dacc[1] = _mm256_setr_pd(a0[8], a1[8], a0[12], a1[12]);
    }
    for (int64_t g = g0; g < g1; g++) {
        const gemm_xgroup *y[GEMM_C] = {y0 + g, y1 + g};
        const gemm_wmeta *m = meta + g * GEMM_R;
        __m256i v[GEMM_R][GEMM_C];
        group_dot(KER, lev + (size_t)g * GEMM_R * GEMM_GROUP, m, y, v);
        if (legacy) {
            UNROLL
            for (int r = 0; r < GEMM_R; r++) {
                const __m256 dw = _mm256_load_ps(m[r].d);
                UNROLL
                for (int c = 0; c < GEMM_C; c++) {
                    __m256i s = v[r][c];
                    if (offset) s = _mm256_sub_epi32(s, ld(y[c]->ysum));
                    facc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_load_ps(y[c]->d)),
                                                 facc[r][c]);
                    if (FIN == GEMM_LEGACY_MIN)
                        facc[r][c] = _mm256_fmadd_ps(_mm256_load_ps(m[r].m), _mm256_load_ps(y[c]->s), facc[r][c]);
                }
            }
            continue;
        }
        /* K-quants: output q = r * GEMM_C + c */
        __m256i dots[8], isum, msum = _mm256_setzero_si256();
        if (FIN == GEMM_K_MIN32) {
            /* both columns' eight sums of 32 quants in one vector: lanes 0-3 of row r's madd
             * are its partial min sums against column 0, lanes 4-7 against column 1 */
            const __m256i ybs = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_load_si128((const __m128i *)y[0]->bs32)),
                _mm_load_si128((const __m128i *)y[1]->bs32), 1);
            __m256i cm[GEMM_R];
            UNROLL
            for (int r = 0; r < GEMM_R; r++) cm[r] = _mm256_madd_epi16(ld(m[r].mins), ybs);
            const __m256i h = sum4x4(cm[0], cm[1], cm[2], cm[3]);
            /* h: rows 0-3 against column 0, then against column 1 -> q order */
            msum = _mm256_permutevar8x32_epi32(h, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        }
        UNROLL
        for (int r = 0; r < GEMM_R; r++) {
            const __m256i mins = ld(m[r].mins);
            const __m256i sc32 =
                FIN == GEMM_K_SC32 ? _mm256_cvtepi16_epi32(_mm_load_si128((const __m128i *)m[r].mul)) : mins;
            UNROLL
            for (int c = 0; c < GEMM_C; c++) {
                __m256i corr;
                if (FIN == GEMM_K_SC32) {
                    /* |sum of 32 products| <= 32 * 127 * 128, times |scale| <= 32: exact in int32 */
                    dots[r * GEMM_C + c] = _mm256_mullo_epi32(v[r][c], sc32);
                } else if (FIN == GEMM_K_OFF) {
                    /* the offsets' correction goes in before the reduction (all of it exact int32) */
                    corr = _mm256_madd_epi16(mins, ld(y[c]->bs));
                    dots[r * GEMM_C + c] = _mm256_sub_epi32(v[r][c], corr);
                } else {
                    dots[r * GEMM_C + c] = v[r][c];
                }
            }
        }
        isum = reduce8(dots);
        if (FIN == GEMM_K_MIN) {
            __m256i corr[8];
            UNROLL
            for (int r = 0; r < GEMM_R; r++)
                UNROLL
                for (int c = 0; c < GEMM_C; c++) corr[r * GEMM_C + c] = _mm256_madd_epi16(ld(m[r].mins), ld(y[c]->bs));
            msum = reduce8(corr);
        }
        const double yd0 = y[0]->d[0], yd1 = y[1]->d[0];
        const __m256d ydv = _mm256_setr_pd(yd0, yd1, yd0, yd1);
        UNROLL
        for (int h = 0; h < 2; h++) {
            /* d of rows 2h, 2h + 1, each twice (the two columns); dmin likewise */
            const __m256d dv = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_load_pd(m[2 * h].kd)),
                                                    _mm_load_pd(m[2 * h + 1].kd), 1);
            const __m256d is = _mm256_cvtepi32_pd(h ? _mm256_extracti128_si256(isum, 1) : _mm256_castsi256_si128(isum));
            __m256d t;
            if (FIN == GEMM_K_OFF || FIN == GEMM_K_SC32 || FIN == GEMM_K0) {
                t = _mm256_mul_pd(_mm256_mul_pd(ydv, dv), is);
            } else {
                const __m256d nv = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_load_pd(m[2 * h].kd + 2)),
                                                        _mm_load_pd(m[2 * h + 1].kd + 2), 1);
                const __m256d ms =
                    _mm256_cvtepi32_pd(h ? _mm256_extracti128_si256(msum, 1) : _mm256_castsi256_si128(msum));
                t = _mm256_mul_pd(ydv, _mm256_sub_pd(_mm256_mul_pd(dv, is), _mm256_mul_pd(nv, ms)));
            }
            dacc[h] = _mm256_add_pd(dacc[h], t);
        }
    }
    if (legacy) {
        UNROLL
        for (int r = 0; r < GEMM_R; r++)
            UNROLL
            for (int c = 0; c < GEMM_C; c++) _mm256_store_ps((float *)(accs[c] + 32 * r), facc[r][c]);
        return;
    }
    double d[8];
    _mm256_storeu_pd(d, dacc[0]);
    _mm256_storeu_pd(d + 4, dacc[1]);
    UNROLL
    for (int q = 0; q < 8; q++) *(double *)(accs[q % GEMM_C] + 32 * (q / GEMM_C)) = d[q];
}

typedef void (*tile_fn)(const uint8_t *lev, const gemm_wmeta *meta, const gemm_xgroup *y0, const gemm_xgroup *y1,
                        int64_t g0, int64_t g1, char *acc0, char *acc1);

#define TILE_FN(name, KER, FIN)                                                                                   \
    static void name(const uint8_t *lev, const gemm_wmeta *meta, const gemm_xgroup *y0, const gemm_xgroup *y1,    \
                     int64_t g0, int64_t g1, char *acc0, char *acc1) {                                            \
        tile(KER, FIN, lev, meta, y0, y1, g0, g1, acc0, acc1);                                                    \
    }
TILE_FN(tile_u16_leg, GEMM_U16, GEMM_LEGACY)
TILE_FN(tile_u16_legmin, GEMM_U16, GEMM_LEGACY_MIN)
TILE_FN(tile_u127_leg, GEMM_U127, GEMM_LEGACY)
TILE_FN(tile_u127_legmin, GEMM_U127, GEMM_LEGACY_MIN)
TILE_FN(tile_signed_leg, GEMM_SIGNED, GEMM_LEGACY)
TILE_FN(tile_u16_kmin, GEMM_U16, GEMM_K_MIN)
TILE_FN(tile_u16_kmin32, GEMM_U16, GEMM_K_MIN32)
TILE_FN(tile_u16_koff, GEMM_U16, GEMM_K_OFF)
TILE_FN(tile_u127_kmin, GEMM_U127, GEMM_K_MIN)
TILE_FN(tile_u127_koff, GEMM_U127, GEMM_K_OFF)
TILE_FN(tile_u31_leg, GEMM_U31, GEMM_LEGACY)
TILE_FN(tile_u31_legmin, GEMM_U31, GEMM_LEGACY_MIN)
TILE_FN(tile_u31_kmin, GEMM_U31, GEMM_K_MIN)
TILE_FN(tile_u31_kmin32, GEMM_U31, GEMM_K_MIN32)
TILE_FN(tile_u63_koff, GEMM_U63, GEMM_K_OFF)
TILE_FN(tile_signed_ksc32, GEMM_SIGNED, GEMM_K_SC32)
TILE_FN(tile_o32_k0, GEMM_O32, GEMM_K0)

static tile_fn pick(const gemm_type *t) {
    switch (t->kernel) {
    case GEMM_U16:
        return t->finish == GEMM_LEGACY ? tile_u16_leg
             : t->finish == GEMM_LEGACY_MIN ? tile_u16_legmin
             : t->finish == GEMM_K_MIN ? tile_u16_kmin
             : t->finish == GEMM_K_MIN32 ? tile_u16_kmin32
                                       : tile_u16_koff;
    case GEMM_U127:
        return t->finish == GEMM_LEGACY ? tile_u127_leg
             : t->finish == GEMM_LEGACY_MIN ? tile_u127_legmin
             : t->finish == GEMM_K_MIN ? tile_u127_kmin
             : t->finish == GEMM_K_OFF ? tile_u127_koff
                                       : NULL; /* no type pairs U127 with K_MIN32 */
    case GEMM_U31:
        return t->finish == GEMM_LEGACY ? tile_u31_leg
             : t->finish == GEMM_LEGACY_MIN ? tile_u31_legmin
             : t->finish == GEMM_K_MIN ? tile_u31_kmin
             : t->finish == GEMM_K_MIN32 ? tile_u31_kmin32
                                         : NULL;
    case GEMM_U63: return tile_u63_koff;
    case GEMM_O32: return tile_o32_k0;
    case GEMM_SIGNED: return t->finish == GEMM_K_SC32 ? tile_signed_ksc32 : tile_signed_leg;
    }
    return NULL;
}

/* Asks for the next column pair's groups [g0, g1) while the current pair runs: each
 * column's chunk is a short stream from L3 that the hardware prefetcher picks up late. */
static inline void prefetch_pair(const gemm_xgroup *x, size_t xs, int64_t j, bool two, int64_t g0, int64_t g1) {
    for (int c = 0; c < (two ? 2 : 1); c++) {
        const char *p = (const char *)((const gemm_xgroup *)((const char *)x + (size_t)(j + c) * xs) + g0);
        const char *e = (const char *)((const gemm_xgroup *)((const char *)x + (size_t)(j + c) * xs) + g1);
        for (; p < e; p += 64) _mm_prefetch(p, _MM_HINT_T0);
    }
}

void gemm_run(const gemm_type *t, const void *panel, size_t ps, int rows, int64_t k, const gemm_xgroup *x,
              size_t xs, int64_t ncols, char *out, size_t ldo) {
    const tile_fn fn = pick(t);
    const bool legacy = t->finish == GEMM_LEGACY || t->finish == GEMM_LEGACY_MIN;
    const int64_t groups = gemm_groups(k);
    const int tiles = (rows + GEMM_R - 1) / GEMM_R; /* over all panels */
    const size_t col_acc = CPU_GEMM_ROWS * 32;      /* accumulator bytes of one column in one panel */
    char *base = (char *)(uintptr_t)panel;
    for (int64_t jb = 0; jb < ncols; jb += GEMM_NB) {
        const int64_t nb = ncols - jb < GEMM_NB ? ncols - jb : GEMM_NB;
        for (int p = 0; p * CPU_GEMM_ROWS < rows; p++) memset(gemm_panel_acc(base + p * ps, groups), 0, (size_t)nb * col_acc);
        for (int64_t g0 = 0; g0 < groups; g0 += GEMM_KG) {
            const int64_t g1 = groups - g0 < GEMM_KG ? groups : g0 + GEMM_KG;
            for (int64_t jj = 0; jj < nb; jj += GEMM_C) {
                /* a lone last column is computed twice into the same accumulators */
                const bool two = jj + 1 < nb;
                const gemm_xgroup *y0 = (const gemm_xgroup *)((const char *)x + (size_t)(jb + jj) * xs);
                const gemm_xgroup *y1 = two ? (const gemm_xgroup *)((const char *)y0 + xs) : y0;
                if (jj + GEMM_C < nb) prefetch_pair(x, xs, jb + jj + GEMM_C, jj + GEMM_C + 1 < nb, g0, g1);
                for (int ti = 0; ti < tiles; ti++) {
                    void *pv = base + (size_t)(ti / GEMM_TILES) * ps;
                    const int tp = ti % GEMM_TILES;
                    char *a0 = gemm_panel_acc(pv, groups) + (size_t)jj * col_acc + tp * GEMM_R * 32;
                    char *a1 = two ? a0 + col_acc : a0;
                    fn(gemm_panel_levels(pv, groups, tp, 0), gemm_panel_meta(pv, groups, tp, 0), y0, y1, g0, g1, a0, a1);
                }
            }
        }
        for (int64_t c = 0; c < nb; c++) {
            float *o = (float *)(out + (size_t)(jb + c) * ldo);
            for (int r = 0; r < rows; r++) {
                const char *a = gemm_panel_acc(base + (size_t)(r / CPU_GEMM_ROWS) * ps, groups) + (size_t)c * col_acc +
                                32 * (r % CPU_GEMM_ROWS);
                o[r] = legacy ? hsum_ps(_mm256_load_ps((const float *)a)) : (float)*(const double *)a;
            }
        }
    }
}
