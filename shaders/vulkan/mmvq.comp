#version 450
// MUL_MAT, matrix-vector path with integer dot products (VK_KHR_shader_integer_dot_product):
// weights of type WTYPE (compile-time; WID is the same id for #if) are read as 32-bit
// words, expanded to signed int8x4 words and multiplied with the int8 activations of
// quantize_act.comp by OpSDot (4 products and their sum per instruction); the block
// scales are applied in float.
// One workgroup per NR weight rows and group of up to NC columns of one plane; each
// invocation takes one "unit" at a time (8 weights: a quarter of a 32-element block),
// so 4 invocations share a block and neighbours read neighbouring bytes. Partial sums
// are reduced with subgroup arithmetic (SUBGROUP variant) or a shared-memory tree.
// ops.c picks this kernel only when the device enabled shaderIntegerDotProduct; else
// (or with QG_VK_DISABLE=intdot) mmv.comp runs. Tested on lavapipe only.
//
// glslang 12 lacks GL_EXT_integer_dot_product, so OpSDot is declared through
// GL_EXT_spirv_intrinsics (opcode 4450, capabilities DotProduct 6019 and
// DotProductInput4x8BitPacked 6018, operand PackedVectorFormat4x8Bit = 0).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_spirv_intrinsics : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#define WG 64u
#define NC 4u
#define NR 2u
layout(local_size_x = 64) in;
#include "common.glsl"
#include "types.glsl"

spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int sdot4(uint a, uint b, spirv_literal int packed_format);

// Per-byte x - c of four bytes holding 0..127 (c <= 128), as int8 two's complement:
// setting bit 7 first keeps the subtraction from borrowing across bytes.
uint sub_bytes(uint x, uint c) { return ((x | 0x80808080u) - c) ^ 0x80808080u; }

// Four nibbles (bytes of x, each 0..15) mapped through a 16-entry int8 table packed as
// four little-endian words.
uint lut4(uint x, uint t0, uint t1, uint t2, uint t3) {
    uint r = 0u;
    for (uint i = 0u; i < 4u; i++) {
        const uint q = (x >> (8u * i)) & 15u, ws = q >> 2;
        const uint w = ws == 0u ? t0 : ws == 1u ? t1 : ws == 2u ? t2 : t3;
        r |= ((w >> (8u * (q & 3u))) & 0xffu) << (8u * i);
    }
    return r;
}
// IQ4_NL levels and doubled E2M1 values (types.glsl's IQ4V, E2M1X2) as int8 bytes.
uint lut_iq4(uint x) { return lut4(x, 0xbfad9881u, 0xf6eaddcfu, 0x26190d01u, 0x71594535u); }
uint lut_e2m1(uint x) { return lut4(x, 0x03020100u, 0x0c080604u, 0xfdfeff00u, 0xf4f8fafcu); }

// Bits 0..3 of b moved to bit 4 of bytes 0..3 (the fifth bit of Q5 weights).
uint spread4(uint b) { return ((b & 1u) << 4) | ((b & 2u) << 11) | ((b & 4u) << 18) | ((b & 8u) << 25); }

// Units (8 weights each) per weight block; weights per block.
#if WID == 12 || WID == 13 || WID == 14 || WID == 23
#define UPB 32u
#define QKW 256u
#else
#define UPB 4u
#define QKW 32u
#endif

// One unit: slice s (0..3) of the 32-element activation block ab of weight block ba.
// Returns the two int8x4 weight words and which activation words (xw0, xw1, 0..7)
// they pair with, the float scale dw of the products and the float m that multiplies
// the activation block's s (type-1 weights, non-zero only in slice 0).
void unit(uint ba, uint u, out uint w0, out uint w1, out uint xw0, out uint xw1, out float dw, out float mw,
          out uint ab) {
    const uint s = u & 3u;
    mw = 0.0;
    ab = u >> 2;
    xw0 = s;
    xw1 = s + 4u;
#if WID == 2
    dw = h2f(rd16(0u, ba));
    const uint q = rd32(0u, ba + 2u + 4u * s);
    w0 = sub_bytes(q & 0x0f0f0f0fu, 0x08080808u);
    w1 = sub_bytes((q >> 4) & 0x0f0f0f0fu, 0x08080808u);
#elif WID == 3
    dw = h2f(rd16(0u, ba));
    if (s == 0u) mw = h2f(rd16(0u, ba + 2u));
    const uint q = rd32(0u, ba + 4u + 4u * s);
    w0 = q & 0x0f0f0f0fu;
    w1 = (q >> 4) & 0x0f0f0f0fu;
#elif WID == 6
    dw = h2f(rd16(0u, ba));
    const uint h = rd32(0u, ba + 2u), q = rd32(0u, ba + 6u + 4u * s);
    w0 = sub_bytes((q & 0x0f0f0f0fu) | spread4(h >> (4u * s)), 0x10101010u);
    w1 = sub_bytes(((q >> 4) & 0x0f0f0f0fu) | spread4(h >> (16u + 4u * s)), 0x10101010u);
#elif WID == 7
    dw = h2f(rd16(0u, ba));
    if (s == 0u) mw = h2f(rd16(0u, ba + 2u));
    const uint h = rd32(0u, ba + 4u), q = rd32(0u, ba + 8u + 4u * s);
    w0 = (q & 0x0f0f0f0fu) | spread4(h >> (4u * s));
    w1 = ((q >> 4) & 0x0f0f0f0fu) | spread4(h >> (16u + 4u * s));
#elif WID == 8
    dw = h2f(rd16(0u, ba));
    w0 = rd32(0u, ba + 2u + 8u * s);
    w1 = rd32(0u, ba + 6u + 8u * s);
    xw0 = 2u * s;
    xw1 = 2u * s + 1u;
#elif WID == 20
    dw = h2f(rd16(0u, ba));
    const uint q = rd32(0u, ba + 2u + 4u * s);
    w0 = lut_iq4(q & 0x0f0f0f0fu);
    w1 = lut_iq4((q >> 4) & 0x0f0f0f0fu);
#elif WID == 39
    const uint e = rd8(0u, ba);
    dw = e == 0xffu ? qnan() : ldexp(1.0, int(e) - 128);
    const uint q = rd32(0u, ba + 1u + 4u * s);
    w0 = lut_e2m1(q & 0x0f0f0f0fu);
    w1 = lut_e2m1((q >> 4) & 0x0f0f0f0fu);
#elif WID == 12
    // Q4_K: sub-block sb = ab (32 weights), chunk c = sb / 2, low or high nibbles.
    const uint sb = ab, c = sb >> 1, sh = 4u * (sb & 1u);
    uint sc, mn;
    scale_min_k(0u, ba + 4u, sb, sc, mn);
    dw = h2f(rd16(0u, ba)) * float(sc);
    if (s == 0u) mw = -h2f(rd16(0u, ba + 2u)) * float(mn);
    const uint qa = ba + 16u + 32u * c + 8u * s;
    w0 = (rd32(0u, qa) >> sh) & 0x0f0f0f0fu;
    w1 = (rd32(0u, qa + 4u) >> sh) & 0x0f0f0f0fu;
    xw0 = 2u * s;
    xw1 = 2u * s + 1u;
#elif WID == 13
    // Q5_K: as Q4_K, the fifth bit of weight l from qh[l] bit 2c (low nibbles) or 2c+1.
    const uint sb = ab, c = sb >> 1, sh = 4u * (sb & 1u), hb = sb;
    uint sc, mn;
    scale_min_k(0u, ba + 4u, sb, sc, mn);
    dw = h2f(rd16(0u, ba)) * float(sc);
    if (s == 0u) mw = -h2f(rd16(0u, ba + 2u)) * float(mn);
    const uint qa = ba + 48u + 32u * c + 8u * s, ha = ba + 16u + 8u * s;
    w0 = ((rd32(0u, qa) >> sh) & 0x0f0f0f0fu) | (((rd32(0u, ha) >> hb) & 0x01010101u) << 4);
    w1 = ((rd32(0u, qa + 4u) >> sh) & 0x0f0f0f0fu) | (((rd32(0u, ha + 4u) >> hb) & 0x01010101u) << 4);
    xw0 = 2u * s;
    xw1 = 2u * s + 1u;
#elif WID == 23
    // IQ4_XS: sub-block ab with a 6-bit scale, IQ4_NL levels in Q4_0 nibble order.
    const uint ls = ((rd8(0u, ba + 4u + (ab >> 1)) >> (4u * (ab & 1u))) & 15u) |
                    (((rd16(0u, ba + 2u) >> (2u * ab)) & 3u) << 4);
    dw = h2f(rd16(0u, ba)) * float(int(ls) - 32);
    const uint q = rd32(0u, ba + 8u + 16u * ab + 4u * s);
    w0 = lut_iq4(q & 0x0f0f0f0fu);
    w1 = lut_iq4((q >> 4) & 0x0f0f0f0fu);
#elif WID == 14
    // Q6_K: activation block ab = 4 * half + quarter; weights l = 8s .. 8s+7 of it.
    const uint hf = ab >> 2, qt = ab & 3u;
    const uint la = ba + 64u * hf + ((qt & 1u) != 0u ? 32u : 0u) + 8u * s;
    const uint ha = ba + 128u + 32u * hf + 8u * s;
    const uint lsh = 4u * (qt >> 1), hsh = 2u * qt;
    w0 = sub_bytes(((rd32(0u, la) >> lsh) & 0x0f0f0f0fu) | (((rd32(0u, ha) >> hsh) & 0x03030303u) << 4), 0x20202020u);
    w1 = sub_bytes(((rd32(0u, la + 4u) >> lsh) & 0x0f0f0f0fu) | (((rd32(0u, ha + 4u) >> hsh) & 0x03030303u) << 4),
                   0x20202020u);
    dw = h2f(rd16(0u, ba + 208u)) * float(rds8(0u, ba + 192u + 8u * hf + 2u * qt + (s >> 1)));
    xw0 = 2u * s;
    xw1 = 2u * s + 1u;
#else
#error mmvq.comp: no integer path for this WID
#endif
}

shared float red[NR * NC][WG];

void main() {
    const uint k = NE(1u, 0u), m = NE(1u, 1u), n = NE(2u, 1u), b2 = NE(2u, 2u), b3 = NE(2u, 3u);
    const uint ncb = (n + NC - 1u) / NC, nrb = (m + NR - 1u) / NR;
    const uint g = flat_group();
    if (g >= nrb * ncb * b2 * b3) return;
    const uint ib = g % nrb, rest = g / nrb, cb = rest % ncb, plane = rest / ncb;
    const uint i2 = plane % b2, i3 = plane / b2;
    const uint r2 = b2 / NE(1u, 2u), r3 = b3 / NE(1u, 3u);
    const uint i0 = ib * NR, nr = min(NR, m - i0);
    const uint j0 = cb * NC, nc = min(NC, n - j0);
    // Activation blocks: row (plane * n + j) of x starts at block (plane * n + j) * (k / 32).
    const uint xpr = k / 32u, nxb = xpr * n * b2 * b3;
    const uint xq = P(S_OFF + 1u) >> 2, xd = xq + 8u * nxb;
    const uint xb0 = (plane * n + j0) * xpr;
    const uint t = gl_LocalInvocationID.x;
    const uint units = (k / QKW) * UPB, wsz = type_size(WTYPE);
    float acc[NR * NC];
    for (uint c = 0u; c < NR * NC; c++) acc[c] = 0.0;
    for (uint r = 0u; r < nr; r++) {
        const uint wa = row_addr(0u, i0 + r, i2 / r2, i3 / r3);
        for (uint e = t; e < units; e += WG) {
            const uint blk = e / UPB;
            uint w0, w1, xw0, xw1, ab;
            float dw, mw;
            unit(wa + blk * wsz, e % UPB, w0, w1, xw0, xw1, dw, mw, ab);
            const uint xblk = blk * (QKW / 32u) + ab;
            for (uint c = 0u; c < nc; c++) {
                const uint xbi = xb0 + c * xpr + xblk;
                const int si = sdot4(w0, bufs[1].d[xq + 8u * xbi + xw0], 0) + sdot4(w1, bufs[1].d[xq + 8u * xbi + xw1], 0);
                const vec2 ds = uintBitsToFloat(uvec2(bufs[1].d[xd + 2u * xbi], bufs[1].d[xd + 2u * xbi + 1u]));
                acc[r * NC + c] += dw * ds.x * float(si) + mw * ds.y;
            }
        }
    }
#ifdef SUBGROUP
    for (uint c = 0u; c < NR * NC; c++) acc[c] = subgroupAdd(acc[c]);
    if (subgroupElect())
        for (uint c = 0u; c < NR * NC; c++) red[c][gl_SubgroupID] = acc[c];
    barrier();
    if (t < NR * NC) {
        const uint r = t / NC, c = t % NC;
        if (r < nr && c < nc) {
            float s = 0.0;
            for (uint q = 0u; q < gl_NumSubgroups; q++) s += red[t][q];
            wr32(row_addr(3u, j0 + c, i2, i3) + (i0 + r) * 4u, floatBitsToUint(s));
        }
    }
#else
    for (uint c = 0u; c < NR * NC; c++) red[c][t] = acc[c];
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (t < s)
            for (uint c = 0u; c < NR * NC; c++) red[c][t] += red[c][t + s];
        barrier();
    }
    if (t < NR * NC) {
        const uint r = t / NC, c = t % NC;
        if (r < nr && c < nc) wr32(row_addr(3u, j0 + c, i2, i3) + (i0 + r) * 4u, floatBitsToUint(red[t][0]));
    }
#endif
}
