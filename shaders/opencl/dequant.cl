/* Element dequantizers of every block type: deq_<type>(block, j) returns element j of
 * the block at `b` as float, with the same float operations as the C reference
 * dequantizers in core/quant (so results are bit-identical). The program is compiled
 * with -DSTYPE=<type id>; SQK, STS and DEQ(b, j) then name the block size, the bytes per
 * block and the dequantizer of that source type. Plain types (SQK 1) share one program
 * (-DSTYPE=0) and pick their type at run time; -DSTYPE=-1 builds the generic program
 * where every type is chosen at run time. load_row_elem() (one element) and
 * load_chunk32() (32 consecutive elements) are the entry points.
 */
__constant char iq4_tab[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
__constant char e2m1_x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
__constant uchar pow3_tab[6] = {1, 3, 9, 27, 81, 243};

inline uint nib(gcbytes qs, int j) { return j < 16 ? (qs[j] & 15u) : (uint)(qs[j - 16] >> 4); }

inline float deq_q4_0(gcbytes b, int j) { return (float)((int)nib(b + 2, j) - 8) * h2f(rd_u16(b)); }
inline float deq_q4_1(gcbytes b, int j) { return (float)nib(b + 4, j) * h2f(rd_u16(b)) + h2f(rd_u16(b + 2)); }
inline float deq_q5_0(gcbytes b, int j) {
    int q = (int)nib(b + 6, j) | (int)(((rd_u32(b + 2) >> j) & 1u) << 4);
    return (float)(q - 16) * h2f(rd_u16(b));
}
inline float deq_q5_1(gcbytes b, int j) {
    int q = (int)nib(b + 8, j) | (int)(((rd_u32(b + 4) >> j) & 1u) << 4);
    return (float)q * h2f(rd_u16(b)) + h2f(rd_u16(b + 2));
}
inline float deq_q8_0(gcbytes b, int j) { return (float)(char)b[2 + j] * h2f(rd_u16(b)); }
inline float deq_q8_1(gcbytes b, int j) { return (float)(char)b[4 + j] * h2f(rd_u16(b)); }
inline float deq_q8_k(gcbytes b, int j) { return as_float(rd_u32(b)) * (float)(char)b[4 + j]; }
inline float deq_iq4_nl(gcbytes b, int j) { return h2f(rd_u16(b)) * (float)iq4_tab[nib(b + 2, j)]; }
inline float deq_mxfp4(gcbytes b, int j) {
    uint e = b[0];
    float h = e == 0xffu ? NAN : ldexp(1.0f, (int)e - 128);
    return (float)e2m1_x2[nib(b + 1, j)] * h;
}
inline float ue4m3_to_f(uint v) {
    v &= 0x7fu;
    return v == 0x7fu ? 0.0f : e4m3_to_f(v);
}
inline float deq_nvfp4(gcbytes b, int j) {
    int s = j / 16, jj = j % 16;
    float h = ue4m3_to_f(b[s]) * 0.5f;
    uint byte = b[4 + 8 * s + (jj & 7)];
    uint q = jj < 8 ? (byte & 15u) : (byte >> 4);
    return (float)e2m1_x2[q] * h;
}
inline float e8m0_to_f(uint e) { return e == 0xffu ? NAN : ldexp(1.0f, (int)e - 127); }
inline float deq_mxfp8_e4m3(gcbytes b, int j) { return e4m3_to_f(b[1 + j]) * e8m0_to_f(b[0]); }
inline float deq_mxfp8_e5m2(gcbytes b, int j) { return e5m2_to_f(b[1 + j]) * e8m0_to_f(b[0]); }

inline float deq_tq2_0(gcbytes b, int j) {
    int g = j / 128, w = j % 128, l = w / 32, m = w % 32;
    int q = (int)((b[32 * g + m] >> (2 * l)) & 3u);
    return (float)(q - 1) * h2f(rd_u16(b + 64));
}
inline float deq_tq1_0(gcbytes b, int j) {
    int k, byte;
    if (j < 160) { k = j / 32; byte = j % 32; }
    else if (j < 240) { k = (j - 160) / 16; byte = 32 + (j - 160) % 16; }
    else { k = (j - 240) / 4; byte = 48 + (j - 240) % 4; }
    uint shifted = (uint)(uchar)(b[byte] * pow3_tab[k]);
    int t = (int)((shifted * 3u) >> 8);
    return (float)(t - 1) * h2f(rd_u16(b + 52));
}

/* K-quants: position of element j inside the Q2_K/Q3_K bit layout. */
inline void k2_pos(int j, int *byte, int *shift, int *sub, int *hbit) {
    int h = j / 128, e = j % 128, si = e / 32, g = e % 32;
    *byte = 32 * h + g;
    *shift = 2 * si;
    *sub = 8 * h + 2 * si + g / 16;
    *hbit = 4 * h + si;
}
inline float deq_q2_k(gcbytes b, int j) {
    int byte, shift, sub, hbit;
    k2_pos(j, &byte, &shift, &sub, &hbit);
    uint q = (b[16 + byte] >> shift) & 3u;
    float d = h2f(rd_u16(b + 80)), dmin = h2f(rd_u16(b + 82));
    uint sc = b[sub];
    float dl = d * (float)(sc & 15u), ml = dmin * (float)(sc >> 4);
    return dl * (float)q - ml;
}
inline int q3k_scale(gcbytes sc, int i) {
    int lo = i < 8 ? (sc[i] & 15) : (sc[i - 8] >> 4);
    int hi = (sc[8 + (i % 4)] >> (2 * (i / 4))) & 3;
    return (lo | (hi << 4)) - 32;
}
inline float deq_q3_k(gcbytes b, int j) {
    int byte, shift, sub, hbit;
    k2_pos(j, &byte, &shift, &sub, &hbit);
    int low = (b[32 + byte] >> shift) & 3;
    int bit = (b[(j % 128) % 32] >> hbit) & 1;
    int q = low - (bit ? 0 : 4);
    float d = h2f(rd_u16(b + 108));
    float dl = d * (float)q3k_scale(b + 96, sub);
    return dl * (float)q;
}
inline void k4_scale_min(gcbytes s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}
inline float deq_q4_k(gcbytes b, int j) {
    int c = j / 64, w = j % 64, hi = w / 32, l = w % 32;
    uint byte = b[16 + 32 * c + l];
    uint q = hi ? (byte >> 4) : (byte & 15u);
    int sc, mn;
    k4_scale_min(b + 4, 2 * c + hi, &sc, &mn);
    float d1 = h2f(rd_u16(b)) * (float)sc, m1 = h2f(rd_u16(b + 2)) * (float)mn;
    return d1 * (float)q - m1;
}
inline float deq_q5_k(gcbytes b, int j) {
    int c = j / 64, w = j % 64, hi = w / 32, l = w % 32;
    uint byte = b[48 + 32 * c + l];
    uint q = hi ? (byte >> 4) : (byte & 15u);
    if ((b[16 + l] >> (2 * c + hi)) & 1u) q += 16u;
    int sc, mn;
    k4_scale_min(b + 4, 2 * c + hi, &sc, &mn);
    float d1 = h2f(rd_u16(b)) * (float)sc, m1 = h2f(rd_u16(b + 2)) * (float)mn;
    return d1 * (float)q - m1;
}
inline float deq_q6_k(gcbytes b, int j) {
    int h = j / 128, e = j % 128, quarter = e / 32, l = e % 32;
    gcbytes ql = b + 64 * h, qh = b + 128 + 32 * h;
    uint lo = (quarter & 1) ? ql[l + 32] : ql[l];
    lo = (quarter & 2) ? (lo >> 4) : (lo & 15u);
    int q = (int)(lo | (((qh[l] >> (2 * quarter)) & 3u) << 4)) - 32;
    float d = h2f(rd_u16(b + 208));
    return d * (float)(char)b[192 + 8 * h + e / 16] * (float)q;
}
inline float deq_iq4_xs(gcbytes b, int j) {
    int ib = j / 32, jj = j % 32;
    int lo = (b[4 + ib / 2] >> (4 * (ib % 2))) & 15;
    int hi = (int)((rd_u16(b + 2) >> (2 * ib)) & 3u);
    float dl = h2f(rd_u16(b)) * (float)((lo | (hi << 4)) - 32);
    return dl * (float)iq4_tab[nib(b + 8 + 16 * ib, jj)];
}

#if defined(STYPE) && STYPE == -1
/* Generic program: the source type is chosen at run time (one program for all types,
 * used where compiling many specialised programs costs more than it saves). */
inline int blk_qk(int t) {
    switch (t) {
    case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0: case T_Q8_1: case T_IQ4_NL:
    case T_MXFP4: case T_MXFP8_E4M3: case T_MXFP8_E5M2: return 32;
    case T_NVFP4: return 64;
    case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: case T_IQ4_XS: case T_TQ1_0:
    case T_TQ2_0: case T_Q8_K: return 256;
    default: return 1;
    }
}
inline int blk_ts(int t) {
    switch (t) {
    case T_Q4_0: return 18; case T_Q4_1: return 20; case T_Q5_0: return 22; case T_Q5_1: return 24;
    case T_Q8_0: return 34; case T_Q8_1: return 36; case T_IQ4_NL: return 18; case T_MXFP4: return 17;
    case T_MXFP8_E4M3: case T_MXFP8_E5M2: return 33; case T_NVFP4: return 36; case T_Q2_K: return 84;
    case T_Q3_K: return 110; case T_Q4_K: return 144; case T_Q5_K: return 176; case T_Q6_K: return 210;
    case T_IQ4_XS: return 136; case T_TQ1_0: return 54; case T_TQ2_0: return 66; case T_Q8_K: return 292;
    default: return 0;
    }
}
inline float deq_any(gcbytes b, int j, int t) {
    switch (t) {
    case T_Q4_0: return deq_q4_0(b, j);
    case T_Q4_1: return deq_q4_1(b, j);
    case T_Q5_0: return deq_q5_0(b, j);
    case T_Q5_1: return deq_q5_1(b, j);
    case T_Q8_0: return deq_q8_0(b, j);
    case T_Q8_1: return deq_q8_1(b, j);
    case T_IQ4_NL: return deq_iq4_nl(b, j);
    case T_MXFP4: return deq_mxfp4(b, j);
    case T_MXFP8_E4M3: return deq_mxfp8_e4m3(b, j);
    case T_MXFP8_E5M2: return deq_mxfp8_e5m2(b, j);
    case T_NVFP4: return deq_nvfp4(b, j);
    case T_Q2_K: return deq_q2_k(b, j);
    case T_Q3_K: return deq_q3_k(b, j);
    case T_Q4_K: return deq_q4_k(b, j);
    case T_Q5_K: return deq_q5_k(b, j);
    case T_Q6_K: return deq_q6_k(b, j);
    case T_IQ4_XS: return deq_iq4_xs(b, j);
    case T_TQ1_0: return deq_tq1_0(b, j);
    case T_TQ2_0: return deq_tq2_0(b, j);
    case T_Q8_K: return deq_q8_k(b, j);
    default: return NAN;
    }
}
inline float load_row_elem(gcbytes row, long i0, long nb0, int st) {
    const int qk = blk_qk(st);
    if (qk == 1) return load_plain(row + i0 * nb0, st);
    return deq_any(row + (i0 / qk) * blk_ts(st), (int)(i0 % qk), st);
}

#define DEQ_LOOP(fn) for (int j = 0; j < 32; j++) out[j] = fn(b, j0 + j); break;
/* Elements [32c, 32c + 32) of a row (block types: inside one block), the type switch
 * taken once per chunk. */
inline void load_chunk32(gcbytes row, long c, long nb0, int st, float *out) {
    const int qk = blk_qk(st);
    if (qk == 1) {
        for (int j = 0; j < 32; j++) out[j] = load_plain(row + (32 * c + j) * nb0, st);
        return;
    }
    gcbytes b = row + (32 * c / qk) * blk_ts(st);
    const int j0 = (int)((32 * c) % qk);
    switch (st) {
    case T_Q4_0: DEQ_LOOP(deq_q4_0)
    case T_Q4_1: DEQ_LOOP(deq_q4_1)
    case T_Q5_0: DEQ_LOOP(deq_q5_0)
    case T_Q5_1: DEQ_LOOP(deq_q5_1)
    case T_Q8_0: DEQ_LOOP(deq_q8_0)
    case T_Q8_1: DEQ_LOOP(deq_q8_1)
    case T_IQ4_NL: DEQ_LOOP(deq_iq4_nl)
    case T_MXFP4: DEQ_LOOP(deq_mxfp4)
    case T_MXFP8_E4M3: DEQ_LOOP(deq_mxfp8_e4m3)
    case T_MXFP8_E5M2: DEQ_LOOP(deq_mxfp8_e5m2)
    case T_NVFP4: DEQ_LOOP(deq_nvfp4)
    case T_Q2_K: DEQ_LOOP(deq_q2_k)
    case T_Q3_K: DEQ_LOOP(deq_q3_k)
    case T_Q4_K: DEQ_LOOP(deq_q4_k)
    case T_Q5_K: DEQ_LOOP(deq_q5_k)
    case T_Q6_K: DEQ_LOOP(deq_q6_k)
    case T_IQ4_XS: DEQ_LOOP(deq_iq4_xs)
    case T_TQ1_0: DEQ_LOOP(deq_tq1_0)
    case T_TQ2_0: DEQ_LOOP(deq_tq2_0)
    case T_Q8_K: DEQ_LOOP(deq_q8_k)
    default: for (int j = 0; j < 32; j++) out[j] = NAN;
    }
}
#elif defined(STYPE)
#if STYPE == T_Q4_0
#define SQK 32
#define STS 18
#define DEQ deq_q4_0
#elif STYPE == T_Q4_1
#define SQK 32
#define STS 20
#define DEQ deq_q4_1
#elif STYPE == T_Q5_0
#define SQK 32
#define STS 22
#define DEQ deq_q5_0
#elif STYPE == T_Q5_1
#define SQK 32
#define STS 24
#define DEQ deq_q5_1
#elif STYPE == T_Q8_0
#define SQK 32
#define STS 34
#define DEQ deq_q8_0
#elif STYPE == T_Q8_1
#define SQK 32
#define STS 36
#define DEQ deq_q8_1
#elif STYPE == T_Q2_K
#define SQK 256
#define STS 84
#define DEQ deq_q2_k
#elif STYPE == T_Q3_K
#define SQK 256
#define STS 110
#define DEQ deq_q3_k
#elif STYPE == T_Q4_K
#define SQK 256
#define STS 144
#define DEQ deq_q4_k
#elif STYPE == T_Q5_K
#define SQK 256
#define STS 176
#define DEQ deq_q5_k
#elif STYPE == T_Q6_K
#define SQK 256
#define STS 210
#define DEQ deq_q6_k
#elif STYPE == T_Q8_K
#define SQK 256
#define STS 292
#define DEQ deq_q8_k
#elif STYPE == T_IQ4_NL
#define SQK 32
#define STS 18
#define DEQ deq_iq4_nl
#elif STYPE == T_IQ4_XS
#define SQK 256
#define STS 136
#define DEQ deq_iq4_xs
#elif STYPE == T_TQ1_0
#define SQK 256
#define STS 54
#define DEQ deq_tq1_0
#elif STYPE == T_TQ2_0
#define SQK 256
#define STS 66
#define DEQ deq_tq2_0
#elif STYPE == T_MXFP4
#define SQK 32
#define STS 17
#define DEQ deq_mxfp4
#elif STYPE == T_NVFP4
#define SQK 64
#define STS 36
#define DEQ deq_nvfp4
#elif STYPE == T_MXFP8_E4M3
#define SQK 32
#define STS 33
#define DEQ deq_mxfp8_e4m3
#elif STYPE == T_MXFP8_E5M2
#define SQK 32
#define STS 33
#define DEQ deq_mxfp8_e5m2
#else
/* plain types: one element per "block", the type chosen at run time (st) */
#define SQK 1
#define STS 0
#endif

/* Element i0 of the row starting at `row`; plain types use the element stride nb0 and
 * the run-time type id st. */
inline float load_row_elem(gcbytes row, long i0, long nb0, int st) {
#if SQK == 1
    return load_plain(row + i0 * nb0, st);
#else
    (void)nb0;
    (void)st;
    return DEQ(row + (i0 / SQK) * STS, (int)(i0 % SQK));
#endif
}

inline void load_chunk32(gcbytes row, long c, long nb0, int st, float *out) {
#if SQK == 1
    for (int j = 0; j < 32; j++) out[j] = load_plain(row + (32 * c + j) * nb0, st);
#else
    (void)nb0;
    (void)st;
    gcbytes b = row + (32 * c / SQK) * STS;
    const int j0 = (int)((32 * c) % SQK);
    for (int j = 0; j < 32; j++) out[j] = DEQ(b, j0 + j);
#endif
}
#endif
