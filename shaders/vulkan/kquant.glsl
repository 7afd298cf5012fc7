// Device quantizers of the 256-element super-block types Q2_K, Q3_K, Q4_K, Q5_K, Q6_K
// and IQ4_XS, included by store.glsl when V_SIZE >= 256. They follow the reference
// quantizers of core/quant (k_search.c, q2_k.c .. q6_k.c, iq4.c) operation by
// operation: the same candidate scales, the same least-squares refits, the same float
// evaluation order (`precise` forbids fused multiply-adds the C code does not do) and
// the same round-to-nearest-even (lrintf -> roundEven). One invocation quantizes one
// block from V[0..256) into QB[].

int KL[256];   // levels of the block, element order (signed for type-0 types)
float KW[32];  // weights of the sub-block being searched
int KC[32];    // candidate levels of the sub-block being searched

// qg_kq_round_clamp: nearest (ties to even), clamped to [lo, hi]; NaN gives lo.
int kq_round(float v, int lo, int hi) {
    if (!(v > float(lo))) return lo;
    if (v >= float(hi)) return hi;
    return int(roundEven(v));
}

// Weighted error of V[o+i] ~ scale*L - mn over n values (levels in KL[o..]).
float kq_type1_error(uint o, uint n, float scale, float mn, bool abs_err, bool cand) {
    precise float err = 0.0;
    for (uint i = 0u; i < n; i++) {
        precise float diff = scale * float(cand ? KC[i] : KL[o + i]) - mn - V[o + i];
        err += KW[i] * (abs_err ? abs(diff) : diff * diff);
    }
    return err;
}

// qg_kq_search_type1 on V[o..o+n) with weights KW: levels into KL[o..], returns the
// scale and the (non-negative) min in mn_out.
float kq_search_type1(uint o, uint n, int nmax, out float mn_out, float rmin, float rdelta, int nstep,
                      bool abs_err) {
    float lo = V[o], hi = V[o];
    precise float sw = 0.0, swx = 0.0;
    for (uint i = 0u; i < n; i++) {
        if (V[o + i] < lo) lo = V[o + i];
        if (V[o + i] > hi) hi = V[o + i];
        sw += KW[i];
        swx += KW[i] * V[o + i];
    }
    if (lo > 0.0) lo = 0.0;
    if (hi == lo) {
        for (uint i = 0u; i < n; i++) KL[o + i] = 0;
        mn_out = -lo;
        return 0.0;
    }
    precise float range = hi - lo;
    precise float iscale = float(nmax) / range;
    precise float scale = 1.0 / iscale;
    for (uint i = 0u; i < n; i++) {
        precise float v = iscale * (V[o + i] - lo);
        KL[o + i] = kq_round(v, 0, nmax);
    }
    float best = kq_type1_error(o, n, scale, -lo, abs_err, false);
    float best_min = lo;
    for (int step = 0; step <= nstep; step++) {
        const float base = best_min;
        precise float is = (float(nmax) + rmin + rdelta * float(step)) / (hi - base);
        precise float sl = 0.0, sl2 = 0.0, sxl = 0.0;
        for (uint i = 0u; i < n; i++) {
            precise float v = is * (V[o + i] - base);
            int l = kq_round(v, 0, nmax);
            KC[i] = l;
            sl += KW[i] * float(l);
            sl2 += KW[i] * float(l) * float(l);
            sxl += KW[i] * float(l) * V[o + i];
        }
        precise float det = sw * sl2 - sl * sl;
        if (det <= 0.0) continue;
        precise float a = (sw * sxl - swx * sl) / det;
        precise float b = (sl2 * swx - sl * sxl) / det;
        if (b > 0.0) {
            b = 0.0;
            a = sxl / sl2;
        }
        float err = kq_type1_error(o, n, a, -b, abs_err, true);
        if (err < best) {
            for (uint i = 0u; i < n; i++) KL[o + i] = KC[i];
            best = err;
            scale = a;
            best_min = b;
        }
    }
    mn_out = -best_min;
    return scale;
}

// qg_kq_search_type0 with uniform weights on V[o..o+n): signed levels -nmax..nmax-1
// into KL[o..], `refine` coordinate-descent passes; returns the scale.
float kq_search_type0(uint o, uint n, int nmax, int refine) {
    float amax = 0.0, mx = 0.0;
    for (uint i = 0u; i < n; i++)
        if (abs(V[o + i]) > amax) { amax = abs(V[o + i]); mx = V[o + i]; }
    if (!(amax >= 1e-15)) {
        for (uint i = 0u; i < n; i++) KL[o + i] = 0;
        return 0.0;
    }
    precise float best_sxl = 0.0, best_sl2 = 0.0;
    bool have = false;
    for (int k = 0; k <= 18; k++) {
        const int step = k == 0 ? 0 : (k <= 9 ? k - 10 : k - 9);
        precise float is = -(float(nmax) + 0.1 * float(step)) / mx;
        precise float sxl = 0.0, sl2 = 0.0;
        for (uint i = 0u; i < n; i++) {
            precise float v = is * V[o + i];
            int l = kq_round(v, -nmax, nmax - 1);
            KC[i] = l;
            sxl += V[o + i] * float(l);
            sl2 += float(l) * float(l);
        }
        precise float lhs = sxl * sxl * best_sl2, rhs = best_sxl * best_sxl * sl2;
        if (sl2 > 0.0 && (!have || lhs > rhs)) {
            for (uint i = 0u; i < n; i++) KL[o + i] = KC[i];
            best_sxl = sxl;
            best_sl2 = sl2;
            have = true;
        }
    }
    if (!have) {
        for (uint i = 0u; i < n; i++) KL[o + i] = 0;
        return 0.0;
    }
    for (int pass = 0; pass < refine; pass++) {
        int changed = 0;
        for (uint i = 0u; i < n; i++) {
            const int li = KL[o + i];
            precise float sxl = best_sxl - V[o + i] * float(li);
            precise float sl2 = best_sl2 - float(li) * float(li);
            if (!(sxl != 0.0) || sl2 <= 0.0) continue;
            precise float v = V[o + i] * sl2 / sxl;
            int nl = kq_round(v, -nmax, nmax - 1);
            if (nl == li) continue;
            sxl += V[o + i] * float(nl);
            sl2 += float(nl) * float(nl);
            precise float lhs = sxl * sxl * best_sl2, rhs = best_sxl * best_sxl * sl2;
            if (sl2 > 0.0 && lhs > rhs) {
                KL[o + i] = nl;
                best_sxl = sxl;
                best_sl2 = sl2;
                changed++;
            }
        }
        if (changed == 0) break;
    }
    precise float r = best_sxl / best_sl2;
    return r;
}

void quant_q2_k() {
    float scales[16], mins[16];
    float max_scale = 0.0, max_min = 0.0;
    for (uint j = 0u; j < 16u; j++) {
        for (uint l = 0u; l < 16u; l++) KW[l] = abs(V[16u * j + l]);
        scales[j] = kq_search_type1(16u * j, 16u, 3, mins[j], -0.5, 0.1, 15, true);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    precise float is = max_scale > 0.0 ? 15.0 / max_scale : 0.0;
    precise float im = max_min > 0.0 ? 15.0 / max_min : 0.0;
    for (uint j = 0u; j < 16u; j++) {
        precise float a = is * scales[j], b = im * mins[j];
        QB[j] = uint(kq_round(a, 0, 15)) | (uint(kq_round(b, 0, 15)) << 4);
    }
    uint dh = f2h(max_scale / 15.0), mh = f2h(max_min / 15.0);
    put16(80u, dh);
    put16(82u, mh);
    const float d = h2f(dh), dmin = h2f(mh);
    for (uint j = 0u; j < 16u; j++) {
        precise float dl = d * float(QB[j] & 15u);
        precise float ml = dmin * float(QB[j] >> 4);
        for (uint l = 0u; l < 16u; l++) {
            precise float v = (V[16u * j + l] + ml) / dl;
            KL[16u * j + l] = dl != 0.0 ? kq_round(v, 0, 3) : 0;
        }
    }
    for (uint h = 0u; h < 2u; h++)
        for (uint l = 0u; l < 32u; l++) {
            uint q = 0u;
            for (uint s = 0u; s < 4u; s++) q |= uint(KL[128u * h + 32u * s + l]) << (2u * s);
            QB[16u + 32u * h + l] = q;
        }
}

// Sub-block scale i (0..15) of a Q3_K block being written, +32 offset removed.
int q3k_scale(uint i) {
    uint lo = i < 8u ? (QB[96u + i] & 15u) : (QB[96u + i - 8u] >> 4);
    uint hi = (QB[104u + (i & 3u)] >> (2u * (i >> 2))) & 3u;
    return int(lo | (hi << 4)) - 32;
}

void quant_q3_k() {
    float scales[16];
    float amax = 0.0, max_scale = 0.0;
    for (uint j = 0u; j < 16u; j++) {
        scales[j] = kq_search_type0(16u * j, 16u, 4, 5);
        if (abs(scales[j]) > amax) { amax = abs(scales[j]); max_scale = scales[j]; }
    }
    for (uint i = 0u; i < 110u; i++) QB[i] = 0u;
    if (amax > 0.0) {
        precise float is = -32.0 / max_scale;
        for (uint j = 0u; j < 16u; j++) {
            precise float a = is * scales[j];
            uint l = uint(kq_round(a, -32, 31) + 32);
            if (j < 8u) QB[96u + j] |= l & 15u;
            else QB[96u + j - 8u] |= (l & 15u) << 4;
            QB[104u + (j & 3u)] |= (l >> 4) << (2u * (j >> 2));
        }
        put16(108u, f2h(1.0 / is));
    } else {
        for (uint j = 0u; j < 8u; j++) QB[96u + j] = 0x22u;
        for (uint j = 8u; j < 12u; j++) QB[96u + j] = 0xaau;
    }
    const float d = h2f(QB[108] | (QB[109] << 8));
    for (uint j = 0u; j < 16u; j++) {
        precise float dl = d * float(q3k_scale(j));
        for (uint l = 0u; l < 16u; l++) {
            precise float v = V[16u * j + l] / dl;
            KL[16u * j + l] = (dl != 0.0 ? kq_round(v, -4, 3) : 0) + 4;
        }
    }
    for (uint h = 0u; h < 2u; h++)
        for (uint s = 0u; s < 4u; s++) {
            const uint m = 4u * h + s;
            for (uint l = 0u; l < 32u; l++) {
                uint v = uint(KL[128u * h + 32u * s + l]);
                QB[32u + 32u * h + l] |= (v & 3u) << (2u * s);
                if (v > 3u) QB[l] |= 1u << m;
            }
        }
}

// qg_kq_pack_scale_min into QB[4..16).
void kq_pack_scale_min(uint j, uint sc, uint mn) {
    if (j < 4u) {
        QB[4u + j] = (QB[4u + j] & 0xc0u) | sc;
        QB[8u + j] = (QB[8u + j] & 0xc0u) | mn;
    } else {
        QB[8u + j] = (sc & 15u) | ((mn & 15u) << 4);
        QB[j] = (QB[j] & 0x3fu) | ((sc >> 4) << 6);
        QB[4u + j] = (QB[4u + j] & 0x3fu) | ((mn >> 4) << 6);
    }
}

void kq_unpack_scale_min(uint j, out uint sc, out uint mn) {
    if (j < 4u) {
        sc = QB[4u + j] & 63u;
        mn = QB[8u + j] & 63u;
    } else {
        sc = (QB[8u + j] & 15u) | ((QB[j] >> 6) << 4);
        mn = (QB[8u + j] >> 4) | ((QB[4u + j] >> 6) << 4);
    }
}

// Q4_K (nmax 15) and Q5_K (nmax 31): per-sub-block type-1 search weighted by
// rms(x) + |x|, 6-bit sub-block scales and mins, then the level re-assignment.
void quant_q45_k(bool k5) {
    const int nmax = k5 ? 31 : 15;
    float scales[8], mins[8];
    for (uint j = 0u; j < 8u; j++) {
        precise float s2 = 0.0;
        for (uint l = 0u; l < 32u; l++) s2 += V[32u * j + l] * V[32u * j + l];
        precise float av = sqrt(s2 / 32.0);
        for (uint l = 0u; l < 32u; l++) KW[l] = av + abs(V[32u * j + l]);
        scales[j] = kq_search_type1(32u * j, 32u, nmax, mins[j], k5 ? -0.5 : -1.0, 0.1, k5 ? 15 : 20, false);
    }
    float max_scale = 0.0, max_min = 0.0;
    for (uint j = 0u; j < 8u; j++) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    precise float is = max_scale > 0.0 ? 63.0 / max_scale : 0.0;
    precise float im = max_min > 0.0 ? 63.0 / max_min : 0.0;
    for (uint i = 0u; i < 16u; i++) QB[i] = 0u;
    for (uint j = 0u; j < 8u; j++) {
        precise float a = is * scales[j], b = im * mins[j];
        kq_pack_scale_min(j, uint(kq_round(a, 0, 63)), uint(kq_round(b, 0, 63)));
    }
    uint dh = f2h(max_scale / 63.0), mh = f2h(max_min / 63.0);
    put16(0u, dh);
    put16(2u, mh);
    const float d = h2f(dh), dmin = h2f(mh);
    for (uint j = 0u; j < 8u; j++) {
        uint sc, mn;
        kq_unpack_scale_min(j, sc, mn);
        precise float d1 = d * float(sc);
        precise float m1 = dmin * float(mn);
        for (uint l = 0u; l < 32u; l++) {
            precise float v = (V[32u * j + l] + m1) / d1;
            KL[32u * j + l] = d1 != 0.0 ? kq_round(v, 0, nmax) : 0;
        }
    }
    const uint qs = k5 ? 48u : 16u;
    if (k5)
        for (uint l = 0u; l < 32u; l++) QB[16u + l] = 0u;
    for (uint c = 0u; c < 4u; c++)
        for (uint l = 0u; l < 32u; l++) {
            uint lo = uint(KL[64u * c + l]), hi = uint(KL[64u * c + 32u + l]);
            QB[qs + 32u * c + l] = (lo & 15u) | ((hi & 15u) << 4);
            if (k5) QB[16u + l] |= ((lo >> 4) << (2u * c)) | ((hi >> 4) << (2u * c + 1u));
        }
}

void quant_q6_k() {
    float scales[16];
    float amax = 0.0, max_scale = 0.0;
    for (uint j = 0u; j < 16u; j++) {
        scales[j] = kq_search_type0(16u * j, 16u, 32, 2);
        if (abs(scales[j]) > amax) { amax = abs(scales[j]); max_scale = scales[j]; }
    }
    if (amax < 1e-15) {
        for (uint j = 0u; j < 16u; j++) QB[192u + j] = 0u;
        put16(208u, f2h(0.0));
        for (uint e = 0u; e < 256u; e++) KL[e] = 0;
    } else {
        precise float is = -128.0 / max_scale;
        for (uint j = 0u; j < 16u; j++) {
            precise float a = is * scales[j];
            QB[192u + j] = uint(kq_round(a, -128, 127)) & 0xffu;
        }
        uint dh = f2h(1.0 / is);
        put16(208u, dh);
        const float d = h2f(dh);
        for (uint j = 0u; j < 16u; j++) {
            int sc = int(QB[192u + j]);
            if (sc >= 128) sc -= 256;
            precise float dl = d * float(sc);
            for (uint l = 0u; l < 16u; l++) {
                precise float v = V[16u * j + l] / dl;
                KL[16u * j + l] = dl != 0.0 ? kq_round(v, -32, 31) : 0;
            }
        }
    }
    for (uint h = 0u; h < 2u; h++)
        for (uint l = 0u; l < 32u; l++) {
            const uint e = 128u * h + l;
            uint a = uint(KL[e] + 32), b = uint(KL[e + 32u] + 32), c = uint(KL[e + 64u] + 32),
                 f = uint(KL[e + 96u] + 32);
            QB[64u * h + l] = (a & 15u) | ((c & 15u) << 4);
            QB[64u * h + l + 32u] = (b & 15u) | ((f & 15u) << 4);
            QB[128u + 32u * h + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((f >> 4) << 6);
        }
}

// IQ4_XS (iq4_xs_quantize_block in iq4.c): the best IQ4 scale of each sub-block of 32
// (iq4_scale, as IQ4_NL), a super-block d that maps the largest one to -32, 6-bit
// sub-block scales ls = l + 32 (low nibbles in scales_l, high 2 bits in scales_h), and
// the codes re-assigned for the stored scale d*l. Layout: d (0), scales_h (2),
// scales_l (4..8), qs (8..136, 16 bytes per sub-block, nibbles as Q4_0).
void quant_iq4_xs() {
    float scales[8];
    float amax = 0.0, max_scale = 0.0;
    for (uint ib = 0u; ib < 8u; ib++) {
        scales[ib] = iq4_scale(32u * ib);
        if (abs(scales[ib]) > amax) { amax = abs(scales[ib]); max_scale = scales[ib]; }
    }
    for (uint i = 0u; i < 136u; i++) QB[i] = 0u;
    precise float d = abs(max_scale) > 0.0 ? -max_scale / 32.0 : 0.0;
    const uint dh = f2h(d);
    put16(0u, dh);
    const float dd = h2f(dh);
    precise float id = d != 0.0 ? 1.0 / d : 0.0;
    uint sh = 0u;
    for (uint ib = 0u; ib < 8u; ib++) {
        precise float a = id * scales[ib];
        const int l = kq_round(a, -32, 31);
        const uint ls = uint(l + 32);
        QB[4u + ib / 2u] |= (ls & 15u) << (4u * (ib % 2u));
        sh |= (ls >> 4) << (2u * ib);
        precise float dl = dd * float(l);
        iq4_assign(32u * ib, dl, 8u + 16u * ib);
    }
    put16(2u, sh);
}
