// Element types for the qgraph Vulkan kernels: ids (the qg_type values), block sizes,
// the per-element dequantizers of every readable type (bit-exact with core/quant/*.c:
// `precise` keeps the reference's rounding order), and load_elem(), which reads element
// i0 of a row of any type. The type argument is a runtime value in most kernels and a
// compile-time constant in the mul_mat kernels, where the switch folds away. F64 needs
// HAS_F64 (a variant built for devices with shaderFloat64); F16_HW (with STORAGE16)
// converts F16 elements with the device's instruction instead of h2f().

#define T_F32 0u
#define T_F16 1u
#define T_Q4_0 2u
#define T_Q4_1 3u
#define T_Q5_0 6u
#define T_Q5_1 7u
#define T_Q8_0 8u
#define T_Q8_1 9u
#define T_Q2_K 10u
#define T_Q3_K 11u
#define T_Q4_K 12u
#define T_Q5_K 13u
#define T_Q6_K 14u
#define T_Q8_K 15u
#define T_IQ4_NL 20u
#define T_IQ4_XS 23u
#define T_I8 24u
#define T_I16 25u
#define T_I32 26u
#define T_F64 28u
#define T_BF16 30u
#define T_TQ1_0 34u
#define T_TQ2_0 35u
#define T_MXFP4 39u
#define T_NVFP4 40u
#define T_F8_E4M3 1000u
#define T_F8_E5M2 1001u
#define T_MXFP8_E4M3 1002u
#define T_MXFP8_E5M2 1003u

const int E2M1X2[16] = int[16](0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
const int IQ4V[16] = int[16](-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);

uint type_qk(uint t) {
    switch (t) {
    case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0: case T_Q8_1:
    case T_IQ4_NL: case T_MXFP4: case T_MXFP8_E4M3: case T_MXFP8_E5M2: return 32u;
    case T_NVFP4: return 64u;
    case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: case T_Q8_K:
    case T_IQ4_XS: case T_TQ1_0: case T_TQ2_0: return 256u;
    default: return 1u;
    }
}

uint type_size(uint t) {
    switch (t) {
    case T_F64: return 8u;
    case T_F32: case T_I32: return 4u;
    case T_F16: case T_BF16: case T_I16: return 2u;
    case T_I8: case T_F8_E4M3: case T_F8_E5M2: return 1u;
    case T_Q4_0: return 18u;
    case T_Q4_1: return 20u;
    case T_Q5_0: return 22u;
    case T_Q5_1: return 24u;
    case T_Q8_0: return 34u;
    case T_Q8_1: return 36u;
    case T_Q2_K: return 84u;
    case T_Q3_K: return 110u;
    case T_Q4_K: return 144u;
    case T_Q5_K: return 176u;
    case T_Q6_K: return 210u;
    case T_Q8_K: return 292u;
    case T_IQ4_NL: return 18u;
    case T_IQ4_XS: return 136u;
    case T_TQ1_0: return 54u;
    case T_TQ2_0: return 66u;
    case T_MXFP4: return 17u;
    case T_NVFP4: return 36u;
    default: return 33u; // MXFP8
    }
}

// Nibble j of a 32-element Q4-style block: low nibbles hold 0..15, high 16..31.
uint nib32(uint b, uint qs, uint j) {
    uint v = rd8(b, qs + (j & 15u));
    return j < 16u ? (v & 15u) : (v >> 4);
}

// K-quant 6-bit scale/min pair j (Q4_K, Q5_K) from the 12 packed bytes at sa.
void scale_min_k(uint b, uint sa, uint j, out uint sc, out uint mn) {
    if (j < 4u) {
        sc = rd8(b, sa + j) & 63u;
        mn = rd8(b, sa + j + 4u) & 63u;
    } else {
        uint hi = rd8(b, sa + j + 4u);
        sc = (hi & 15u) | ((rd8(b, sa + j - 4u) >> 6) << 4);
        mn = (hi >> 4) | ((rd8(b, sa + j) >> 6) << 4);
    }
}

// Element j of the block of type t at byte address ba of buffer b.
float deq(uint b, uint t, uint ba, uint j) {
    precise float r;
    switch (t) {
    case T_Q4_0:
        r = float(int(nib32(b, ba + 2u, j)) - 8) * h2f(rd16(b, ba));
        return r;
    case T_Q4_1:
        r = float(nib32(b, ba + 4u, j)) * h2f(rd16(b, ba)) + h2f(rd16(b, ba + 2u));
        return r;
    case T_Q5_0: {
        uint q = nib32(b, ba + 6u, j) | (((rd32(b, ba + 2u) >> j) & 1u) << 4);
        r = float(int(q) - 16) * h2f(rd16(b, ba));
        return r;
    }
    case T_Q5_1: {
        uint q = nib32(b, ba + 8u, j) | (((rd32(b, ba + 4u) >> j) & 1u) << 4);
        r = float(q) * h2f(rd16(b, ba)) + h2f(rd16(b, ba + 2u));
        return r;
    }
    case T_Q8_0:
        r = float(rds8(b, ba + 2u + j)) * h2f(rd16(b, ba));
        return r;
    case T_Q8_1:
        r = float(rds8(b, ba + 4u + j)) * h2f(rd16(b, ba));
        return r;
    case T_IQ4_NL:
        r = h2f(rd16(b, ba)) * float(IQ4V[nib32(b, ba + 2u, j)]);
        return r;
    case T_MXFP4: {
        uint e = rd8(b, ba);
        float h = e == 0xffu ? qnan() : ldexp(1.0, int(e) - 128);
        r = float(E2M1X2[nib32(b, ba + 1u, j)]) * h;
        return r;
    }
    case T_NVFP4: {
        uint s = j >> 4, jj = j & 15u;
        float h = ue4m3f(rd8(b, ba + s)) * 0.5;
        uint v = rd8(b, ba + 4u + 8u * s + (jj & 7u));
        r = float(E2M1X2[jj < 8u ? (v & 15u) : (v >> 4)]) * h;
        return r;
    }
    case T_MXFP8_E4M3:
        r = e4m3f(rd8(b, ba + 1u + j)) * e8m0f(rd8(b, ba));
        return r;
    case T_MXFP8_E5M2:
        r = e5m2f(rd8(b, ba + 1u + j)) * e8m0f(rd8(b, ba));
        return r;
    case T_Q8_K:
        r = uintBitsToFloat(rd32(b, ba)) * float(rds8(b, ba + 4u + j));
        return r;
    case T_Q2_K: {
        uint h = j >> 7, s = (j & 127u) >> 5, l = j & 31u, sb = j >> 4;
        uint q = (rd8(b, ba + 16u + 32u * h + l) >> (2u * s)) & 3u;
        uint sc = rd8(b, ba + sb);
        precise float dl = h2f(rd16(b, ba + 80u)) * float(sc & 15u);
        precise float ml = h2f(rd16(b, ba + 82u)) * float(sc >> 4);
        r = dl * float(q) - ml;
        return r;
    }
    case T_Q3_K: {
        uint h = j >> 7, s = (j & 127u) >> 5, l = j & 31u, m = 4u * h + s, i = j >> 4;
        int low = int((rd8(b, ba + 32u + 32u * h + l) >> (2u * s)) & 3u);
        int q = low - (((rd8(b, ba + l) >> m) & 1u) != 0u ? 0 : 4);
        uint lo = i < 8u ? (rd8(b, ba + 96u + i) & 15u) : (rd8(b, ba + 96u + i - 8u) >> 4);
        uint hi = (rd8(b, ba + 104u + (i & 3u)) >> (2u * (i >> 2))) & 3u;
        precise float dl = h2f(rd16(b, ba + 108u)) * float(int(lo | (hi << 4)) - 32);
        r = dl * float(q);
        return r;
    }
    case T_Q4_K: case T_Q5_K: {
        uint c = j >> 6, hi = (j >> 5) & 1u, l = j & 31u, sc, mn;
        bool k5 = t == T_Q5_K;
        uint v = rd8(b, ba + (k5 ? 48u : 16u) + 32u * c + l);
        uint q = hi != 0u ? (v >> 4) : (v & 15u);
        if (k5) q |= ((rd8(b, ba + 16u + l) >> (2u * c + hi)) & 1u) << 4;
        scale_min_k(b, ba + 4u, j >> 5, sc, mn);
        precise float d1 = h2f(rd16(b, ba)) * float(sc);
        precise float m1 = h2f(rd16(b, ba + 2u)) * float(mn);
        r = d1 * float(q) - m1;
        return r;
    }
    case T_Q6_K: {
        uint h = j >> 7, rr = j & 127u, l = rr & 31u, qt = rr >> 5;
        uint v = rd8(b, ba + 64u * h + l + ((qt & 1u) != 0u ? 32u : 0u));
        uint lo = qt >= 2u ? (v >> 4) : (v & 15u);
        uint hb = (rd8(b, ba + 128u + 32u * h + l) >> (2u * qt)) & 3u;
        int q = int(lo | (hb << 4)) - 32;
        precise float ds = h2f(rd16(b, ba + 208u)) * float(rds8(b, ba + 192u + (j >> 4)));
        r = ds * float(q);
        return r;
    }
    case T_IQ4_XS: {
        uint ib = j >> 5, jj = j & 31u;
        uint ls = ((rd8(b, ba + 4u + (ib >> 1)) >> (4u * (ib & 1u))) & 15u) |
                  (((rd16(b, ba + 2u) >> (2u * ib)) & 3u) << 4);
        precise float dl = h2f(rd16(b, ba)) * float(int(ls) - 32);
        r = dl * float(IQ4V[nib32(b, ba + 8u + 16u * ib, jj)]);
        return r;
    }
    case T_TQ1_0: {
        uint byte0, cnt, e0;
        if (j < 160u) { byte0 = 0u; cnt = 32u; e0 = 0u; }
        else if (j < 240u) { byte0 = 32u; cnt = 16u; e0 = 160u; }
        else { byte0 = 48u; cnt = 4u; e0 = 240u; }
        uint rel = j - e0, k = rel / cnt, m = rel % cnt;
        uint pw = k == 0u ? 1u : k == 1u ? 3u : k == 2u ? 9u : k == 3u ? 27u : 81u;
        uint sh = (rd8(b, ba + byte0 + m) * pw) & 255u;
        int tr = int((sh * 3u) >> 8);
        r = float(tr - 1) * h2f(rd16(b, ba + 52u));
        return r;
    }
    case T_TQ2_0: {
        uint g = j >> 7, l = (j & 127u) >> 5, m = j & 31u;
        int q = int((rd8(b, ba + 32u * g + m) >> (2u * l)) & 3u) - 1;
        r = float(q) * h2f(rd16(b, ba + 64u));
        return r;
    }
    }
    return 0.0;
}

// Element i0 of a row at byte address ra (nb0: element stride of plain types).
float load_elem(uint b, uint t, uint ra, uint i0, uint nb0) {
    uint a = ra + i0 * nb0;
    switch (t) {
    case T_F32: return uintBitsToFloat(rd32(b, a));
#ifdef F16_HW
    // The device's conversion (one instruction); may flush F16 subnormals on devices
    // without denormPreserve, so only the MUL_MAT variants use it.
    case T_F16: return (a & 1u) == 0u ? float(bufsh[b].d[a >> 1]) : h2f(rd16(b, a));
#else
    case T_F16: return h2f(rd16(b, a));
#endif
    case T_BF16: return bf2f(rd16(b, a));
    case T_F8_E4M3: return e4m3f(rd8(b, a));
    case T_F8_E5M2: return e5m2f(rd8(b, a));
    case T_I8: return float(rds8(b, a));
    case T_I16: return float(rds16(b, a));
    case T_I32: return float(int(rd32(b, a)));
#ifdef HAS_F64
    case T_F64: return float(packDouble2x32(uvec2(rd32(b, a), rd32(b, a + 4u))));
#endif
    }
    uint qk = type_qk(t);
    return deq(b, t, ra + (i0 / qk) * type_size(t), i0 % qk);
}

// Byte address of row (i1, i2, i3) of tensor slot ts (0..2 sources, 3 = dst) in buffer ts.
uint row_addr(uint ts, uint i1, uint i2, uint i3) {
    uint s = ts == 3u ? 0u : ts + 1u;
    return P(S_OFF + ts) + i1 * NB(s, 1u) + i2 * NB(s, 2u) + i3 * NB(s, 3u);
}
