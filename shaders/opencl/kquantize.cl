/* Device quantizers of the K-quants (Q2_K..Q6_K) and IQ4 (IQ4_NL, IQ4_XS): the scale
 * searches of core/quant/k_search.c and the block quantizers of core/quant/q*_k.c and
 * iq4.c written again in OpenCL C (same candidates, refits and float operation order).
 * Each work-item quantizes one block from private floats. Included in the typed program
 * after quantize.cl; quant_store() in quantize.cl dispatches to kq_*.
 */
#define KQ_EPS 1e-15f

inline int kq_round_clamp(float v, int lo, int hi) {
    if (!(v > (float)lo)) return lo;
    if (v >= (float)hi) return hi;
    return (int)rint(v);
}

inline float type1_error(int n, const float *x, const float *w, const uchar *L, float scale, float mn, int abs_err) {
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
        float diff = scale * L[i] - mn - x[i];
        err += w[i] * (abs_err ? fabs(diff) : diff * diff);
    }
    return err;
}

/* Type-1 search (levels 0..nmax, x ~ scale*L - min); returns the scale. */
float kq_search_type1(int n, int nmax, const float *x, const float *w, uchar *L, float *min_out, float rmin,
                      float rdelta, int nstep, int abs_err) {
    float lo = x[0], hi = x[0], sw = 0.0f, swx = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        sw += w[i];
        swx += w[i] * x[i];
    }
    if (lo > 0.0f) lo = 0.0f;
    if (hi == lo) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *min_out = -lo;
        return 0.0f;
    }
    float range = hi - lo;
    float iscale = nmax / range;
    float scale = 1.0f / iscale;
    for (int i = 0; i < n; ++i) L[i] = (uchar)kq_round_clamp(iscale * (x[i] - lo), 0, nmax);
    float best = type1_error(n, x, w, L, scale, -lo, abs_err);
    float best_min = lo;
    uchar cand[32];
    for (int step = 0; step <= nstep; ++step) {
        const float base = best_min;
        const float is = (nmax + rmin + rdelta * step) / (hi - base);
        float sl = 0.0f, sl2 = 0.0f, sxl = 0.0f;
        for (int i = 0; i < n; ++i) {
            int l = kq_round_clamp(is * (x[i] - base), 0, nmax);
            cand[i] = (uchar)l;
            sl += w[i] * l;
            sl2 += w[i] * l * l;
            sxl += w[i] * l * x[i];
        }
        float det = sw * sl2 - sl * sl;
        if (det <= 0.0f) continue;
        float a = (sw * sxl - swx * sl) / det;
        float bb = (sl2 * swx - sl * sxl) / det;
        if (bb > 0.0f) {
            bb = 0.0f;
            a = sxl / sl2;
        }
        float err = type1_error(n, x, w, cand, a, -bb, abs_err);
        if (err < best) {
            for (int i = 0; i < n; ++i) L[i] = cand[i];
            best = err;
            scale = a;
            best_min = bb;
        }
    }
    *min_out = -best_min;
    return scale;
}

/* Type-0 search (levels -nmax..nmax-1, x ~ scale*L); wx2: weights x^2, else 1. */
float kq_search_type0(int n, int nmax, const float *x, char *L, int wx2, int refine) {
    float amax = 0.0f, mx = 0.0f;
    for (int i = 0; i < n; ++i)
        if (fabs(x[i]) > amax) { amax = fabs(x[i]); mx = x[i]; }
    if (!(amax >= KQ_EPS)) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.0f;
    }
    float best_sxl = 0.0f, best_sl2 = 0.0f;
    int have = 0;
    char cand[16];
    for (int k = 0; k <= 18; ++k) {
        const int step = k == 0 ? 0 : (k <= 9 ? k - 10 : k - 9);
        const float is = -(nmax + 0.1f * step) / mx;
        float sxl = 0.0f, sl2 = 0.0f;
        for (int i = 0; i < n; ++i) {
            int l = kq_round_clamp(is * x[i], -nmax, nmax - 1);
            float wi = wx2 ? x[i] * x[i] : 1.0f;
            cand[i] = (char)l;
            sxl += wi * x[i] * l;
            sl2 += wi * l * l;
        }
        if (sl2 > 0.0f && (!have || sxl * sxl * best_sl2 > best_sxl * best_sxl * sl2)) {
            for (int i = 0; i < n; ++i) L[i] = cand[i];
            best_sxl = sxl;
            best_sl2 = sl2;
            have = 1;
        }
    }
    if (!have) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.0f;
    }
    for (int pass = 0; pass < refine; ++pass) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            float wi = wx2 ? x[i] * x[i] : 1.0f;
            float sxl = best_sxl - wi * x[i] * L[i];
            float sl2 = best_sl2 - wi * L[i] * L[i];
            if (!(sxl != 0.0f) || sl2 <= 0.0f) continue;
            int nl = kq_round_clamp(x[i] * sl2 / sxl, -nmax, nmax - 1);
            if (nl == L[i]) continue;
            sxl += wi * x[i] * nl;
            sl2 += wi * nl * nl;
            if (sl2 > 0.0f && sxl * sxl * best_sl2 > best_sxl * best_sxl * sl2) {
                L[i] = (char)nl;
                best_sxl = sxl;
                best_sl2 = sl2;
                ++changed;
            }
        }
        if (!changed) break;
    }
    return best_sxl / best_sl2;
}

inline void kq_pack_scale_min(uchar *s, int j, int sc, int mn) {
    if (j < 4) {
        s[j] = (uchar)((s[j] & 0xC0) | sc);
        s[j + 4] = (uchar)((s[j + 4] & 0xC0) | mn);
    } else {
        s[j + 4] = (uchar)((sc & 15) | ((mn & 15) << 4));
        s[j - 4] = (uchar)((s[j - 4] & 0x3F) | ((sc >> 4) << 6));
        s[j] = (uchar)((s[j] & 0x3F) | ((mn >> 4) << 6));
    }
}

/* Q4_K / Q5_K: type-1 sub-blocks of 32, 6-bit scales and mins, then the levels. */
void kq_type1_k(gbytes b, const float *x, int nmax, float rmin, int nstep, uchar *L) {
    float scales[8], mins[8], w[32];
    for (int j = 0; j < 8; ++j) {
        const float *xb = x + 32 * j;
        float s2 = 0.0f;
        for (int l = 0; l < 32; ++l) s2 += xb[l] * xb[l];
        float av = sqrt(s2 / 32.0f);
        for (int l = 0; l < 32; ++l) w[l] = av + fabs(xb[l]);
        scales[j] = kq_search_type1(32, nmax, xb, w, L + 32 * j, &mins[j], rmin, 0.1f, nstep, 0);
    }
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float is = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    float im = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    uchar packed[12];
    for (int i = 0; i < 12; ++i) packed[i] = 0;
    for (int j = 0; j < 8; ++j)
        kq_pack_scale_min(packed, j, kq_round_clamp(is * scales[j], 0, 63), kq_round_clamp(im * mins[j], 0, 63));
    const uint dh = f2h(max_scale / 63.0f), mh = f2h(max_min / 63.0f);
    wr_u16(b, dh);
    wr_u16(b + 2, mh);
    for (int i = 0; i < 12; ++i) b[4 + i] = packed[i];
    const float d = h2f(dh), dmin = h2f(mh);
    for (int j = 0; j < 8; ++j) {
        int sc, mn;
        if (j < 4) {
            sc = packed[j] & 63;
            mn = packed[j + 4] & 63;
        } else {
            sc = (packed[j + 4] & 15) | ((packed[j - 4] >> 6) << 4);
            mn = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
        }
        const float d1 = d * sc, m1 = dmin * mn;
        for (int l = 0; l < 32; ++l)
            L[32 * j + l] = d1 != 0.0f ? (uchar)kq_round_clamp((x[32 * j + l] + m1) / d1, 0, nmax) : 0;
    }
}

void kq_q4_k(gbytes b, const float *x) {
    uchar L[256];
    kq_type1_k(b, x, 15, -1.0f, 20, L);
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) b[16 + 32 * c + l] = (uchar)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
}

void kq_q5_k(gbytes b, const float *x) {
    uchar L[256], qh[32];
    kq_type1_k(b, x, 31, -0.5f, 15, L);
    for (int l = 0; l < 32; ++l) qh[l] = 0;
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
            uchar lo = L[64 * c + l], hi = L[64 * c + 32 + l];
            b[48 + 32 * c + l] = (uchar)((lo & 15) | ((hi & 15) << 4));
            qh[l] |= (uchar)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
        }
    for (int l = 0; l < 32; ++l) b[16 + l] = qh[l];
}

void kq_q2_k(gbytes b, const float *x) {
    uchar L[256], sc4[16];
    float scales[16], mins[16], w[16];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l) w[l] = fabs(x[16 * j + l]);
        scales[j] = kq_search_type1(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, 1);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float is = max_scale > 0.0f ? 15.0f / max_scale : 0.0f;
    float im = max_min > 0.0f ? 15.0f / max_min : 0.0f;
    for (int j = 0; j < 16; ++j)
        sc4[j] = (uchar)(kq_round_clamp(is * scales[j], 0, 15) | (kq_round_clamp(im * mins[j], 0, 15) << 4));
    const uint dh = f2h(max_scale / 15.0f), mh = f2h(max_min / 15.0f);
    const float d = h2f(dh), dmin = h2f(mh);
    for (int j = 0; j < 16; ++j) {
        b[j] = sc4[j];
        const float dl = d * (sc4[j] & 15), ml = dmin * (sc4[j] >> 4);
        for (int l = 0; l < 16; ++l)
            L[16 * j + l] = dl != 0.0f ? (uchar)kq_round_clamp((x[16 * j + l] + ml) / dl, 0, 3) : 0;
    }
    for (int h = 0; h < 2; ++h)
        for (int l = 0; l < 32; ++l) {
            uint q = 0;
            for (int s = 0; s < 4; ++s) q |= (uint)L[128 * h + 32 * s + l] << (2 * s);
            b[16 + 32 * h + l] = (uchar)q;
        }
    wr_u16(b + 80, dh);
    wr_u16(b + 82, mh);
}

void kq_q3_k(gbytes b, const float *x) {
    char L[256];
    uchar sc[12], u[256];
    float scales[16];
    float amax = 0.0f, max_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
        scales[j] = kq_search_type0(16, 4, x + 16 * j, L + 16 * j, 0, 5);
        if (fabs(scales[j]) > amax) { amax = fabs(scales[j]); max_scale = scales[j]; }
    }
    for (int i = 0; i < 12; ++i) sc[i] = 0;
    uint dh = 0;
    if (amax > 0.0f) {
        const float is = -32.0f / max_scale;
        for (int j = 0; j < 16; ++j) {
            int l = kq_round_clamp(is * scales[j], -32, 31) + 32;
            if (j < 8) sc[j] |= (uchar)(l & 15);
            else sc[j - 8] |= (uchar)((l & 15) << 4);
            sc[8 + j % 4] |= (uchar)((l >> 4) << (2 * (j / 4)));
        }
        dh = f2h(1.0f / is);
    } else {
        for (int j = 0; j < 8; ++j) sc[j] = 0x22;
        for (int j = 8; j < 12; ++j) sc[j] = 0xAA;
    }
    const float d = h2f(dh);
    for (int j = 0; j < 16; ++j) {
        int lo = j < 8 ? (sc[j] & 15) : (sc[j - 8] >> 4);
        int hi = (sc[8 + (j % 4)] >> (2 * (j / 4))) & 3;
        const float dl = d * (float)((lo | (hi << 4)) - 32);
        for (int l = 0; l < 16; ++l) {
            int v = dl != 0.0f ? kq_round_clamp(x[16 * j + l] / dl, -4, 3) : 0;
            u[16 * j + l] = (uchar)(v + 4);
        }
    }
    for (int l = 0; l < 32; ++l) b[l] = 0;
    for (int h = 0; h < 2; ++h)
        for (int l = 0; l < 32; ++l) {
            uint q = 0;
            for (int s = 0; s < 4; ++s) {
                uchar v = u[128 * h + 32 * s + l];
                q |= (uint)(v & 3) << (2 * s);
                if (v > 3) b[l] |= (uchar)(1u << (4 * h + s));
            }
            b[32 + 32 * h + l] = (uchar)q;
        }
    for (int i = 0; i < 12; ++i) b[96 + i] = sc[i];
    wr_u16(b + 108, dh);
}

void kq_q6_k(gbytes b, const float *x) {
    char L[256], sc[16];
    float scales[16];
    float amax = 0.0f, max_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
        scales[j] = kq_search_type0(16, 32, x + 16 * j, L + 16 * j, 0, 2);
        if (fabs(scales[j]) > amax) { amax = fabs(scales[j]); max_scale = scales[j]; }
    }
    uint dh = 0;
    if (amax < KQ_EPS) {
        for (int j = 0; j < 16; ++j) sc[j] = 0;
        for (int e = 0; e < 256; ++e) L[e] = 0;
    } else {
        const float is = -128.0f / max_scale;
        for (int j = 0; j < 16; ++j) sc[j] = (char)kq_round_clamp(is * scales[j], -128, 127);
        dh = f2h(1.0f / is);
        const float d = h2f(dh);
        for (int j = 0; j < 16; ++j) {
            const float dl = d * sc[j];
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = (char)(dl != 0.0f ? kq_round_clamp(x[16 * j + l] / dl, -32, 31) : 0);
        }
    }
    for (int h = 0; h < 2; ++h) {
        for (int l = 0; l < 32; ++l) {
            const int base = 128 * h;
            int a = L[base + l] + 32, bq = L[base + l + 32] + 32, c = L[base + l + 64] + 32, e = L[base + l + 96] + 32;
            b[64 * h + l] = (uchar)((a & 15) | ((c & 15) << 4));
            b[64 * h + l + 32] = (uchar)((bq & 15) | ((e & 15) << 4));
            b[128 + 32 * h + l] = (uchar)((a >> 4) | ((bq >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
        }
    }
    for (int j = 0; j < 16; ++j) b[192 + j] = (uchar)sc[j];
    wr_u16(b + 208, dh);
}

/* IQ4: index of the table value nearest to v (the lower one on ties). */
inline int iq4_nearest(float v) {
    if (!(v > iq4_tab[0])) return 0;
    if (v >= iq4_tab[15]) return 15;
    int k = 0;
    while (k < 14 && v > iq4_tab[k + 1]) ++k;
    return v - iq4_tab[k] <= iq4_tab[k + 1] - v ? k : k + 1;
}

float iq4_block_scale(const float *x) {
    float amax = 0.0f, mx = 0.0f;
    for (int j = 0; j < 32; ++j)
        if (fabs(x[j]) > amax) { amax = fabs(x[j]); mx = x[j]; }
    if (!(amax >= KQ_EPS)) return 0.0f;
    float best_d = 0.0f, best = -1.0f;
    for (int e = 0; e < 2; ++e) {
        const int end = e == 0 ? iq4_tab[0] : iq4_tab[15];
        for (int t = -7; t <= 7; ++t) {
            const float id = (end + t) / mx;
            float sqx = 0.0f, sq2 = 0.0f;
            for (int j = 0; j < 32; ++j) {
                const float q = iq4_tab[iq4_nearest(id * x[j])];
                const float w = x[j] * x[j];
                sqx += w * q * x[j];
                sq2 += w * q * q;
            }
            if (sq2 > 0.0f && sqx * sqx / sq2 > best) {
                best = sqx * sqx / sq2;
                best_d = sqx / sq2;
            }
        }
    }
    return best_d;
}

inline void iq4_put(gbytes qs, const float *x, float d) {
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < 16; ++j)
        qs[j] = (uchar)(iq4_nearest(id * x[j]) | (iq4_nearest(id * x[j + 16]) << 4));
}

void kq_iq4_nl(gbytes b, const float *x) {
    const uint dh = f2h(iq4_block_scale(x));
    wr_u16(b, dh);
    iq4_put(b + 2, x, h2f(dh));
}

void kq_iq4_xs(gbytes b, const float *x) {
    float scales[8];
    float amax = 0.0f, max_scale = 0.0f;
    for (int ib = 0; ib < 8; ++ib) {
        scales[ib] = iq4_block_scale(x + 32 * ib);
        if (fabs(scales[ib]) > amax) { amax = fabs(scales[ib]); max_scale = scales[ib]; }
    }
    const float d = amax > 0.0f ? -max_scale / 32.0f : 0.0f;
    const uint dh = f2h(d);
    const float dhf = h2f(dh);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint sh = 0;
    uchar sl[4] = {0, 0, 0, 0};
    for (int ib = 0; ib < 8; ++ib) {
        const int l = kq_round_clamp(id * scales[ib], -32, 31);
        const int ls = l + 32;
        sl[ib / 2] |= (uchar)((ls & 15) << (4 * (ib % 2)));
        sh |= (uint)((ls >> 4) << (2 * ib));
        iq4_put(b + 8 + 16 * ib, x + 32 * ib, dhf * l);
    }
    wr_u16(b, dh);
    wr_u16(b + 2, sh);
    for (int i = 0; i < 4; ++i) b[4 + i] = sl[i];
}
