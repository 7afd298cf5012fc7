// Shared by every qgraph Vulkan kernel: the descriptor layout (four storage buffers
// read as 32-bit words, dst is bufs[3]; one parameter buffer), the per-dispatch
// parameter slot, the specialization constants, byte-addressed loads, sub-word stores
// (masked atomics, so no 8/16-bit storage feature is needed and neighbouring
// invocations may share a word), and bit-exact conversions between float and F16,
// BF16, E4M3, E5M2 and E8M0.
// Variants: STORAGE8 / STORAGE16 (built for devices with storageBuffer8BitAccess /
// storageBuffer16BitAccess) alias the same buffers as uint8_t / uint16_t / float16_t
// arrays, so rd8/rd16 and the F16 loads are single narrow loads instead of word
// extraction. Stores stay word-based in every variant.

layout(set = 0, binding = 0) buffer Buf { uint d[]; } bufs[4];
layout(set = 0, binding = 1) buffer Params { uint p[]; };
layout(push_constant) uniform PC { uint base; } pc;
#ifdef STORAGE8
#extension GL_EXT_shader_8bit_storage : require
layout(set = 0, binding = 0) buffer Buf8 { uint8_t d[]; } bufs8[4];
#endif
#ifdef STORAGE16
#extension GL_EXT_shader_16bit_storage : require
layout(set = 0, binding = 0) buffer Buf16 { uint16_t d[]; } bufs16[4];
layout(set = 0, binding = 0) buffer BufH { float16_t d[]; } bufsh[4];
#endif

// Specialization constants: destination type, source types and the op, so the driver
// folds the type switches of a pipeline to the one case it runs.
layout(constant_id = 0) const uint TD = 0u;
layout(constant_id = 1) const uint TS0 = 0u;
layout(constant_id = 2) const uint TS1 = 0u;
layout(constant_id = 3) const uint OPC = 0u;

// Slot layout (see backends/vulkan/vk.h, VKS_*).
#define S_OFF 0u
#define S_NE_D 4u
#define S_NB_D 8u
#define S_NE_0 12u
#define S_NB_0 16u
#define S_NE_1 20u
#define S_NB_1 24u
#define S_NE_2 28u
#define S_NB_2 32u
#define S_TYPE 36u
#define S_OP 40u
#define S_X 56u

uint P(uint i) { return p[pc.base + i]; }
float PF(uint i) { return uintBitsToFloat(p[pc.base + i]); }
uint NE(uint t, uint i) { return P(S_NE_D + 8u * t + i); }
uint NB(uint t, uint i) { return P(S_NB_D + 8u * t + i); }

// Report a data error (a row id out of range): word 0 counts, word 1 keeps a slot.
void report_error() {
    atomicAdd(p[0], 1u);
    atomicMax(p[1], pc.base);
}

// Index of this invocation over a 2-D grid of 1-D workgroups.
uint flat_id(uint wg) { return gl_GlobalInvocationID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x * wg; }
uint flat_group() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }

#ifdef STORAGE8
uint rd8(uint b, uint a) { return uint(bufs8[b].d[a]); }
#else
uint rd8(uint b, uint a) { return (bufs[b].d[a >> 2] >> ((a & 3u) * 8u)) & 0xffu; }
#endif
uint rd16(uint b, uint a) {
#ifdef STORAGE16
    if ((a & 1u) == 0u) return uint(bufs16[b].d[a >> 1]);
#else
    if ((a & 1u) == 0u) return (bufs[b].d[a >> 2] >> ((a & 2u) * 8u)) & 0xffffu;
#endif
    return rd8(b, a) | (rd8(b, a + 1u) << 8);
}
uint rd32(uint b, uint a) {
    if ((a & 3u) == 0u) return bufs[b].d[a >> 2];
    return rd16(b, a) | (rd16(b, a + 2u) << 16);
}
int rds8(uint b, uint a) { int v = int(rd8(b, a)); return v >= 128 ? v - 256 : v; }
int rds16(uint b, uint a) { int v = int(rd16(b, a)); return v >= 32768 ? v - 65536 : v; }

void wr_masked(uint w, uint v, uint m) {
    if (m == 0xffffffffu) {
        bufs[3].d[w] = v;
    } else {
        atomicAnd(bufs[3].d[w], ~m);
        atomicOr(bufs[3].d[w], v & m);
    }
}
// With STORAGE8/STORAGE16, a destination of a 1-byte (I8, F8) or 2-byte (F16, BF16,
// I16) plain type, which only ever gets stores of its own width, is written with plain
// narrow stores instead of two atomics. Block types keep the atomics: a plain store
// next to another invocation's atomic on the same word would be a data race.
void wr8(uint a, uint v) {
#ifdef STORAGE8
    if (TD == 24u || TD == 1000u || TD == 1001u) {
        bufs8[3].d[a] = uint8_t(v & 0xffu);
        return;
    }
#endif
    uint s = (a & 3u) * 8u;
    wr_masked(a >> 2, (v & 0xffu) << s, 0xffu << s);
}
void wr16(uint a, uint v) {
#ifdef STORAGE16
    if ((TD == 1u || TD == 30u || TD == 25u) && (a & 1u) == 0u) {
        bufs16[3].d[a >> 1] = uint16_t(v & 0xffffu);
        return;
    }
#endif
    if ((a & 1u) == 0u) {
        uint s = (a & 2u) * 8u;
        wr_masked(a >> 2, (v & 0xffffu) << s, 0xffffu << s);
    } else {
        wr8(a, v);
        wr8(a + 1u, v >> 8);
    }
}
void wr32(uint a, uint v) {
    if ((a & 3u) == 0u) bufs[3].d[a >> 2] = v;
    else { wr16(a, v); wr16(a + 2u, v >> 16); }
}

bool nan_bits(float f) { return (floatBitsToUint(f) & 0x7fffffffu) > 0x7f800000u; }
float qnan() { return uintBitsToFloat(0x7fc00000u); }

float h2f(uint h) {
    uint s = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1fu) return uintBitsToFloat(s | 0x7f800000u | (m << 13));
    if (e == 0u) {
        float v = float(m) * uintBitsToFloat(0x33800000u); // 2^-24, exact
        return s != 0u ? -v : v;
    }
    return uintBitsToFloat(s | ((e + 112u) << 23) | (m << 13));
}

// Nearest magnitude code of a small float format (ties to even), as core/quant/quant.h.
uint round_mini(uint ax, int mbits, int bias) {
    int e = int(ax >> 23);
    if (e >= 128 - bias) {
        uint x = ax - (uint(127 - bias) << 23);
        int sh = 23 - mbits;
        x += ((1u << (sh - 1)) - 1u) + ((x >> sh) & 1u);
        return x >> sh;
    }
    int shift = 151 - bias - mbits - e;
    if (e == 0 || shift > 24) return 0u;
    uint m = (ax & 0x7fffffu) | 0x800000u;
    uint q = m >> shift, rem = m & ((1u << shift) - 1u), half_ = 1u << (shift - 1);
    if (rem > half_ || (rem == half_ && (q & 1u) != 0u)) q++;
    return q;
}

uint f2h(float f) {
    uint x = floatBitsToUint(f), sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7e00u | ((ax >> 13) & 0x3ffu);
    if (ax == 0x7f800000u) return sign | 0x7c00u;
    uint q = round_mini(ax, 10, 15);
    if (q >= 0x7c00u) q = 0x7c00u;
    return sign | q;
}

float bf2f(uint h) { return uintBitsToFloat(h << 16); }
uint f2bf(float f) {
    uint x = floatBitsToUint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return ((x >> 16) | 0x40u) & 0xffffu;
    x += 0x7fffu + ((x >> 16) & 1u);
    return x >> 16;
}

float e4m3f(uint v) {
    uint e = (v >> 3) & 15u, m = v & 7u;
    float mag;
    if (e == 15u && m == 7u) mag = qnan();
    else if (e == 0u) mag = ldexp(float(m), -9);
    else mag = ldexp(float(8u + m), int(e) - 10);
    return (v & 0x80u) != 0u ? -mag : mag;
}
float e5m2f(uint v) { return h2f((v & 0xffu) << 8); }
uint f2e4m3(float f) {
    uint x = floatBitsToUint(f), sign = (x >> 24) & 0x80u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7fu;
    if (ax == 0x7f800000u) return sign | 0x7eu;
    return sign | min(round_mini(ax, 3, 7), 0x7eu);
}
uint f2e5m2(float f) {
    uint x = floatBitsToUint(f), sign = (x >> 24) & 0x80u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7eu;
    if (ax == 0x7f800000u) return sign | 0x7cu;
    return sign | min(round_mini(ax, 2, 15), 0x7bu);
}
float e8m0f(uint e) { return e == 0xffu ? qnan() : ldexp(1.0, int(e) - 127); }
float ue4m3f(uint v) { v &= 0x7fu; return v == 0x7fu ? 0.0 : e4m3f(v); }
