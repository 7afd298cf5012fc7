/* Block quantizers for the destination of CPY and SET_ROWS: the reference quantizers of
 * shared/spec/quant-formats.md and fp8.md written again in OpenCL C with the same float
 * operations and order as core/quant, so a block comes out byte-identical. Compiled with
 * -DDTYPE=<type id>: dst_qk(dt), DQK_MAX and quant_store(dst, x, dt) then describe the
 * destination type (plain types share -DDTYPE=0, have DQK 1 and store the run-time type
 * dt; -DDTYPE=-1 is the generic program choosing every type at run time). The K-quant
 * and IQ4 quantizers (kq_*) live in kquantize.cl, which comes before this file.
 */
inline float blk_signed_absmax(const float *x, int n) {
    float amax = 0.0f, mx = 0.0f;
    for (int j = 0; j < n; j++)
        if (fabs(x[j]) > amax) { amax = fabs(x[j]); mx = x[j]; }
    return mx;
}
inline float blk_absmax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++)
        if (fabs(x[j]) > amax) amax = fabs(x[j]);
    return amax;
}
inline void blk_min_max(const float *x, int n, float *mn, float *mx) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}
inline int trunc_q(float v, int hi) {
    if (!(v > 0.0f)) return 0;
    if (v >= (float)hi) return hi;
    return (int)v;
}
inline int round_q8(float v) {
    if (isnan(v)) return 0;
    float r = round(v);
    return (int)clamp(r, -127.0f, 127.0f);
}

inline void quant_q4_0(gbytes b, const float *x) {
    float d = blk_signed_absmax(x, 32) / -8.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    wr_u16(b, f2h(d));
    for (int j = 0; j < 16; j++)
        b[2 + j] = (uchar)(trunc_q(x[j] * id + 8.5f, 15) | (trunc_q(x[j + 16] * id + 8.5f, 15) << 4));
}
inline void quant_q4_1(gbytes b, const float *x) {
    float mn, mx;
    blk_min_max(x, 32, &mn, &mx);
    float d = (mx - mn) / 15.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    wr_u16(b, f2h(d));
    wr_u16(b + 2, f2h(mn));
    for (int j = 0; j < 16; j++)
        b[4 + j] = (uchar)(trunc_q((x[j] - mn) * id + 0.5f, 15) | (trunc_q((x[j + 16] - mn) * id + 0.5f, 15) << 4));
}
inline void q5_pack(gbytes qh, gbytes qs, const int *q) {
    uint h = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uchar)((q[j] & 15) | ((q[j + 16] & 15) << 4));
        h |= (uint)((q[j] >> 4) & 1) << j;
        h |= (uint)((q[j + 16] >> 4) & 1) << (j + 16);
    }
    for (int k = 0; k < 4; k++) qh[k] = (uchar)(h >> (8 * k));
}
inline void quant_q5_0(gbytes b, const float *x) {
    int q[32];
    float d = blk_signed_absmax(x, 32) / -16.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    wr_u16(b, f2h(d));
    for (int j = 0; j < 32; j++) q[j] = trunc_q(x[j] * id + 16.5f, 31);
    q5_pack(b + 2, b + 6, q);
}
inline void quant_q5_1(gbytes b, const float *x) {
    int q[32];
    float mn, mx;
    blk_min_max(x, 32, &mn, &mx);
    float d = (mx - mn) / 31.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    wr_u16(b, f2h(d));
    wr_u16(b + 2, f2h(mn));
    for (int j = 0; j < 32; j++) q[j] = trunc_q((x[j] - mn) * id + 0.5f, 31);
    q5_pack(b + 4, b + 8, q);
}
inline void quant_q8_0(gbytes b, const float *x) {
    float d = blk_absmax(x, 32) / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    wr_u16(b, f2h(d));
    for (int j = 0; j < 32; j++) b[2 + j] = (uchar)(char)round_q8(x[j] * id);
}
inline void quant_q8_1(gbytes b, const float *x) {
    float d = blk_absmax(x, 32) / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    wr_u16(b, f2h(d));
    for (int j = 0; j < 32; j++) {
        int q = round_q8(x[j] * id);
        b[4 + j] = (uchar)(char)q;
        sum += q;
    }
    wr_u16(b + 2, f2h((float)sum * d));
}

/* Q8_K: d = amax/127, q = round-to-even(x * 127/amax) in [-127, 127], bsums of 16. */
inline void quant_q8_k(gbytes b, const float *x) {
    float amax = blk_absmax(x, 256);
    for (int i = 0; i < 292; i++) b[i] = 0;
    if (!(amax > 0.0f)) return;
    const float is = 127.0f / amax;
    for (int g = 0; g < 16; g++) {
        int s = 0;
        for (int l = 0; l < 16; l++) {
            float v = is * x[16 * g + l];
            int q = !(v > -127.0f) ? -127 : v >= 127.0f ? 127 : (int)rint(v);
            b[4 + 16 * g + l] = (uchar)(char)q;
            s += q;
        }
        wr_u16(b + 260 + 2 * g, (uint)(ushort)(short)s);
    }
    uint d = as_uint(amax / 127.0f);
    b[0] = (uchar)d; b[1] = (uchar)(d >> 8); b[2] = (uchar)(d >> 16); b[3] = (uchar)(d >> 24);
}

/* Code whose value e2m1_x2[code] * h is nearest to x (first code on ties). */
inline uint nearest_e2m1(float x, float h) {
    uint best = 0;
    float best_err = fabs((float)e2m1_x2[0] * h - x);
    for (uint c = 1; c < 16; c++) {
        float err = fabs((float)e2m1_x2[c] * h - x);
        if (err < best_err) { best_err = err; best = c; }
    }
    return best;
}
inline void quant_mxfp4(gbytes b, const float *x) {
    float amax = blk_absmax(x, 32);
    int e = 0;
    if (amax > 0.0f && isfinite(amax)) {
        int ex;
        frexp(amax, &ex);
        e = clamp(ex - 1 - 2 + 127, 0, 254);
    } else if (isinf(amax)) {
        e = 254;
    }
    float h = ldexp(1.0f, e - 128);
    b[0] = (uchar)e;
    for (int j = 0; j < 16; j++) b[1 + j] = (uchar)(nearest_e2m1(x[j], h) | (nearest_e2m1(x[j + 16], h) << 4));
}
inline void quant_nvfp4(gbytes b, const float *x) {
    for (int s = 0; s < 4; s++) {
        const float *xs = x + 16 * s;
        float amax = blk_absmax(xs, 16);
        uint code = isnan(amax) ? 0u : f_to_e4m3(amax / 6.0f);
        b[s] = (uchar)code;
        float h = ue4m3_to_f(code) * 0.5f;
        for (int j = 0; j < 8; j++)
            b[4 + 8 * s + j] = (uchar)(nearest_e2m1(xs[j], h) | (nearest_e2m1(xs[j + 8], h) << 4));
    }
}
inline uint mx_scale(const float *x, int emax_elem) {
    float amax = blk_absmax(x, 32);
    if (amax == 0.0f) return 0;
    if (isinf(amax)) return 254;
    int ex;
    frexp(amax, &ex);
    return (uint)clamp(ex - 1 - emax_elem + 127, 0, 254);
}
inline void quant_mxfp8_e4m3(gbytes b, const float *x) {
    uint e = mx_scale(x, 8);
    b[0] = (uchar)e;
    for (int j = 0; j < 32; j++) b[1 + j] = (uchar)f_to_e4m3(ldexp(x[j], 127 - (int)e));
}
inline void quant_mxfp8_e5m2(gbytes b, const float *x) {
    uint e = mx_scale(x, 15);
    b[0] = (uchar)e;
    for (int j = 0; j < 32; j++) b[1 + j] = (uchar)f_to_e5m2(ldexp(x[j], 127 - (int)e));
}

/* Ternary: d = amax, t = round(x / d) in {-1, 0, 1}, stored as t + 1. */
inline float ternary_codes(const float *x, uchar *t) {
    float amax = blk_absmax(x, 256);
    float id = amax > 0.0f && isfinite(amax) ? 1.0f / amax : 0.0f;
    for (int j = 0; j < 256; j++) {
        float v = x[j] * id;
        t[j] = (uchar)(isnan(v) ? 1 : v >= 0.5f ? 2 : v <= -0.5f ? 0 : 1);
    }
    return amax;
}
inline void quant_tq2_0(gbytes b, const float *x) {
    uchar t[256];
    wr_u16(b + 64, f2h(ternary_codes(x, t)));
    for (int g = 0; g < 2; g++)
        for (int m = 0; m < 32; m++) {
            int q = 0;
            for (int l = 0; l < 4; l++) q |= t[128 * g + 32 * l + m] << (2 * l);
            b[32 * g + m] = (uchar)q;
        }
}
inline void quant_tq1_0(gbytes b, const float *x) {
    uchar t[256];
    const int byte0[3] = {0, 32, 48}, count[3] = {32, 16, 4}, trits[3] = {5, 5, 4}, elem0[3] = {0, 160, 240};
    wr_u16(b + 52, f2h(ternary_codes(x, t)));
    for (int s = 0; s < 3; s++)
        for (int m = 0; m < count[s]; m++) {
            int v = 0;
            for (int k = 0; k < 5; k++) v = v * 3 + (k < trits[s] ? t[elem0[s] + k * count[s] + m] : 0);
            b[byte0[s] + m] = (uchar)((v * 256 + 242) / 243);
        }
}

#if defined(DTYPE) && DTYPE == -1
/* Generic program: destination type chosen at run time. */
#define DQK_MAX 256
inline int dst_qk(int t) {
    switch (t) {
    case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0: case T_Q8_1: case T_MXFP4:
    case T_MXFP8_E4M3: case T_MXFP8_E5M2: return 32;
    case T_NVFP4: return 64;
    case T_IQ4_NL: return 32;
    case T_TQ1_0: case T_TQ2_0: case T_Q8_K: case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K:
    case T_Q6_K: case T_IQ4_XS: return 256;
    default: return 1;
    }
}
inline void quant_store(gbytes b, const float *x, int dt) {
    switch (dt) {
    case T_Q4_0: quant_q4_0(b, x); break;
    case T_Q4_1: quant_q4_1(b, x); break;
    case T_Q5_0: quant_q5_0(b, x); break;
    case T_Q5_1: quant_q5_1(b, x); break;
    case T_Q8_0: quant_q8_0(b, x); break;
    case T_Q8_1: quant_q8_1(b, x); break;
    case T_MXFP4: quant_mxfp4(b, x); break;
    case T_MXFP8_E4M3: quant_mxfp8_e4m3(b, x); break;
    case T_MXFP8_E5M2: quant_mxfp8_e5m2(b, x); break;
    case T_NVFP4: quant_nvfp4(b, x); break;
    case T_TQ1_0: quant_tq1_0(b, x); break;
    case T_TQ2_0: quant_tq2_0(b, x); break;
    case T_Q8_K: quant_q8_k(b, x); break;
    case T_Q2_K: kq_q2_k(b, x); break;
    case T_Q3_K: kq_q3_k(b, x); break;
    case T_Q4_K: kq_q4_k(b, x); break;
    case T_Q5_K: kq_q5_k(b, x); break;
    case T_Q6_K: kq_q6_k(b, x); break;
    case T_IQ4_NL: kq_iq4_nl(b, x); break;
    case T_IQ4_XS: kq_iq4_xs(b, x); break;
    default: store_plain(b, dt, x[0]); break;
    }
}
#elif defined(DTYPE)
#if DTYPE == T_Q4_0
#define DQK 32
#define QUANT quant_q4_0
#elif DTYPE == T_Q4_1
#define DQK 32
#define QUANT quant_q4_1
#elif DTYPE == T_Q5_0
#define DQK 32
#define QUANT quant_q5_0
#elif DTYPE == T_Q5_1
#define DQK 32
#define QUANT quant_q5_1
#elif DTYPE == T_Q8_0
#define DQK 32
#define QUANT quant_q8_0
#elif DTYPE == T_Q8_1
#define DQK 32
#define QUANT quant_q8_1
#elif DTYPE == T_MXFP4
#define DQK 32
#define QUANT quant_mxfp4
#elif DTYPE == T_NVFP4
#define DQK 64
#define QUANT quant_nvfp4
#elif DTYPE == T_MXFP8_E4M3
#define DQK 32
#define QUANT quant_mxfp8_e4m3
#elif DTYPE == T_MXFP8_E5M2
#define DQK 32
#define QUANT quant_mxfp8_e5m2
#elif DTYPE == T_TQ1_0
#define DQK 256
#define QUANT quant_tq1_0
#elif DTYPE == T_TQ2_0
#define DQK 256
#define QUANT quant_tq2_0
#elif DTYPE == T_Q8_K
#define DQK 256
#define QUANT quant_q8_k
#elif DTYPE == T_Q2_K
#define DQK 256
#define QUANT kq_q2_k
#elif DTYPE == T_Q3_K
#define DQK 256
#define QUANT kq_q3_k
#elif DTYPE == T_Q4_K
#define DQK 256
#define QUANT kq_q4_k
#elif DTYPE == T_Q5_K
#define DQK 256
#define QUANT kq_q5_k
#elif DTYPE == T_Q6_K
#define DQK 256
#define QUANT kq_q6_k
#elif DTYPE == T_IQ4_NL
#define DQK 32
#define QUANT kq_iq4_nl
#elif DTYPE == T_IQ4_XS
#define DQK 256
#define QUANT kq_iq4_xs
#else
#define DQK 1
#endif
#define DQK_MAX DQK
#define dst_qk(t) DQK
/* Write one destination block (plain types: one element of run-time type dt). */
inline void quant_store(gbytes b, const float *x, int dt) {
#if DQK == 1
    store_plain(b, dt, x[0]);
#else
    (void)dt;
    QUANT(b, x);
#endif
}
#endif
