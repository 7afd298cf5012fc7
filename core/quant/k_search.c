/* Scale searches shared by the K-quant reference quantizers.
 *
 * A sub-block of n floats is mapped to integer levels with either a scale and a min
 * (type-1: x ~ d*L - m, L in 0..nmax) or a signed scale (type-0: x ~ d*L, L in
 * -nmax..nmax-1). Rounding with the obvious scale is not the least-squares optimum, so
 * both searches try a fan of candidate scales, refit the scale (and min) in closed form
 * for the level assignment each candidate produces, and keep the best. The algorithm
 * follows the published description of ggml's reference quantizers; this code is ours.
 */
#include "core/quant/k_internal.h"

#include <string.h>

/* Weighted error of x ~ scale*L - mn. */
static float type1_error(int n, const float *x, const float *w, const uint8_t *L, float scale,
                         float mn, bool abs_err) {
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
        float diff = scale * L[i] - mn - x[i];
        err += w[i] * (abs_err ? fabsf(diff) : diff * diff);
    }
    return err;
}

float qg_kq_search_type1(int n, int nmax, const float *x, const float *w, uint8_t *L,
                         float *min_out, float rmin, float rdelta, int nstep, bool abs_err) {
    float lo = x[0], hi = x[0], sw = 0.0f, swx = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        sw += w[i];
        swx += w[i] * x[i];
    }
    /* The min is stored as a non-negative offset to subtract, so the level-0 value
     * can never be above zero. */
    if (lo > 0.0f) lo = 0.0f;
    if (hi == lo) {
        memset(L, 0, (size_t)n);
        *min_out = -lo;
        return 0.0f;
    }
    float range = hi - lo;
    float iscale = nmax / range;
    float scale = 1.0f / iscale;
    for (int i = 0; i < n; ++i) L[i] = (uint8_t)qg_kq_round_clamp(iscale * (x[i] - lo), 0, nmax);
    float best = type1_error(n, x, w, L, scale, -lo, abs_err);
    float best_min = lo; /* the (non-positive) value of level 0 */

    uint8_t cand[QG_QK_K];
    for (int step = 0; step <= nstep; ++step) {
        /* Candidates are laid out from the best level-0 value found so far. */
        const float base = best_min;
        const float is = (nmax + rmin + rdelta * step) / (hi - base);
        float sl = 0.0f, sl2 = 0.0f, sxl = 0.0f;
        for (int i = 0; i < n; ++i) {
            int l = qg_kq_round_clamp(is * (x[i] - base), 0, nmax);
            cand[i] = (uint8_t)l;
            sl += w[i] * l;
            sl2 += w[i] * l * l;
            sxl += w[i] * l * x[i];
        }
        /* Least squares for x ~ a*l + b: the 2x2 normal equations. */
        float det = sw * sl2 - sl * sl;
        if (det <= 0.0f) continue;
        float a = (sw * sxl - swx * sl) / det;
        float b = (sl2 * swx - sl * sxl) / det;
        if (b > 0.0f) { /* level 0 must stay <= 0: refit the scale alone with b = 0 */
            b = 0.0f;
            a = sxl / sl2;
        }
        float err = type1_error(n, x, w, cand, a, -b, abs_err);
        if (err < best) {
            memcpy(L, cand, (size_t)n);
            best = err;
            scale = a;
            best_min = b;
        }
    }
    *min_out = -best_min;
    return scale;
}

/* Weight of x in the type-0 fit. */
static float type0_weight(float x, int wmode) { return wmode == QG_KQ_W_X2 ? x * x : 1.0f; }

float qg_kq_search_type0(int n, int nmax, const float *x, int8_t *L, int wmode, int refine) {
    const float max = qg_signed_absmax(x, n);
    if (!(fabsf(max) >= QG_KQ_EPS)) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    /* For a fixed assignment the least-squares scale is sum(w*x*l)/sum(w*l^2) and the
     * weighted error drops by sum(w*x*l)^2/sum(w*l^2): maximise that. The plain
     * candidate (step 0, the extreme on -nmax) goes first and only a strictly better one
     * replaces it, so exactly representable blocks stay exact. */
    float best_sxl = 0.0f, best_sl2 = 0.0f;
    bool have = false;
    for (int k = 0; k <= 18; ++k) {
        const int step = k == 0 ? 0 : (k <= 9 ? k - 10 : k - 9);
        const float is = -(nmax + 0.1f * step) / max;
        float sxl = 0.0f, sl2 = 0.0f;
        int8_t cand[QG_QK_K];
        for (int i = 0; i < n; ++i) {
            int l = qg_kq_round_clamp(is * x[i], -nmax, nmax - 1);
            float wi = type0_weight(x[i], wmode);
            cand[i] = (int8_t)l;
            sxl += wi * x[i] * l;
            sl2 += wi * l * l;
        }
        if (sl2 > 0.0f && (!have || sxl * sxl * best_sl2 > best_sxl * best_sxl * sl2)) {
            memcpy(L, cand, (size_t)n);
            best_sxl = sxl;
            best_sl2 = sl2;
            have = true;
        }
    }
    if (!have) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    /* Coordinate descent: move one level to the value best for the current scale of the
     * others whenever that raises sxl^2/sl2. */
    for (int pass = 0; pass < refine; ++pass) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            float wi = type0_weight(x[i], wmode);
            float sxl = best_sxl - wi * x[i] * L[i];
            float sl2 = best_sl2 - wi * L[i] * L[i];
            if (!(sxl != 0.0f) || sl2 <= 0.0f) continue;
            int nl = qg_kq_round_clamp(x[i] * sl2 / sxl, -nmax, nmax - 1);
            if (nl == L[i]) continue;
            sxl += wi * x[i] * nl;
            sl2 += wi * nl * nl;
            if (sl2 > 0.0f && sxl * sxl * best_sl2 > best_sxl * best_sxl * sl2) {
                L[i] = (int8_t)nl;
                best_sxl = sxl;
                best_sl2 = sl2;
                ++changed;
            }
        }
        if (!changed) break;
    }
    return best_sxl / best_sl2;
}

void qg_kq_pack_scale_min(uint8_t *scales, int j, int sc, int mn) {
    if (j < 4) {
        scales[j] = (uint8_t)((scales[j] & 0xC0) | sc);
        scales[j + 4] = (uint8_t)((scales[j + 4] & 0xC0) | mn);
    } else {
        scales[j + 4] = (uint8_t)((sc & 15) | ((mn & 15) << 4));
        scales[j - 4] = (uint8_t)((scales[j - 4] & 0x3F) | ((sc >> 4) << 6));
        scales[j] = (uint8_t)((scales[j] & 0x3F) | ((mn >> 4) << 6));
    }
}

void qg_kq_unpack_scale_min(const uint8_t *scales, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = scales[j] & 63;
        *mn = scales[j + 4] & 63;
    } else {
        *sc = (scales[j + 4] & 15) | ((scales[j - 4] >> 6) << 4);
        *mn = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
    }
}

void qg_kq_quantize_scales6(const float *scales, const float *mins, uint8_t *packed,
                            uint16_t *d, uint16_t *dmin) {
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float is = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    float im = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    memset(packed, 0, 12);
    for (int j = 0; j < 8; ++j) {
        int sc = qg_kq_round_clamp(is * scales[j], 0, 63);
        int mn = qg_kq_round_clamp(im * mins[j], 0, 63);
        qg_kq_pack_scale_min(packed, j, sc, mn);
    }
    *d = qg_fp32_to_fp16(max_scale / 63.0f);
    *dmin = qg_fp32_to_fp16(max_min / 63.0f);
}

void qg_kq_type1_subblocks(const float *x, int nmax, float rmin, int nstep, float *scales,
                           float *mins) {
    uint8_t L[32];
    float w[32];
    for (int j = 0; j < 8; ++j) {
        const float *xb = x + 32 * j;
        float s2 = 0.0f;
        for (int l = 0; l < 32; ++l) s2 += xb[l] * xb[l];
        float av = sqrtf(s2 / 32.0f);
        for (int l = 0; l < 32; ++l) w[l] = av + fabsf(xb[l]);
        scales[j] = qg_kq_search_type1(32, nmax, xb, w, L, &mins[j], rmin, 0.1f, nstep, false);
    }
}
