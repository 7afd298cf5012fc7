/* Shared helpers of every qgraph OpenCL program: the type ids (the same numbers as
 * qg_type), exact conversions between float and the 16- and 8-bit float formats, loads
 * of little-endian fields from byte pointers (block fields are not aligned), and the
 * ACC type used for sums (double when the device has cl_khr_fp64, float otherwise).
 * Contraction into fma is switched off so the quantizers round exactly like the C
 * reference code.
 */
#pragma OPENCL FP_CONTRACT OFF

#ifdef QG_OPENCL_TEST_BUILD_ERROR /* lets the tests check how build failures are reported */
#error "requested build failure"
#endif

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double ACC;
#else
typedef float ACC;
#endif

#define T_F32 0
#define T_F16 1
#define T_Q4_0 2
#define T_Q4_1 3
#define T_Q5_0 6
#define T_Q5_1 7
#define T_Q8_0 8
#define T_Q8_1 9
#define T_Q8_K 15
#define T_Q2_K 10
#define T_Q3_K 11
#define T_Q4_K 12
#define T_Q5_K 13
#define T_Q6_K 14
#define T_IQ4_NL 20
#define T_IQ4_XS 23
#define T_I32 26
#define T_F64 28
#define T_BF16 30
#define T_TQ1_0 34
#define T_TQ2_0 35
#define T_MXFP4 39
#define T_NVFP4 40
#define T_F8_E4M3 1000
#define T_F8_E5M2 1001
#define T_MXFP8_E4M3 1002
#define T_MXFP8_E5M2 1003

typedef global const uchar *gcbytes;
typedef global uchar *gbytes;

inline uint rd_u16(gcbytes p) { return (uint)p[0] | ((uint)p[1] << 8); }
inline uint rd_u32(gcbytes p) {
    return (uint)p[0] | ((uint)p[1] << 8) | ((uint)p[2] << 16) | ((uint)p[3] << 24);
}
inline void wr_u16(gbytes p, uint v) {
    p[0] = (uchar)(v & 255u);
    p[1] = (uchar)((v >> 8) & 255u);
}

inline float h2f(uint h) {
    ushort s = (ushort)h;
    return vload_half(0, (const private half *)&s);
}
inline uint f2h(float f) {
    ushort s;
    vstore_half_rte(f, 0, (private half *)&s);
    return (uint)s;
}
inline float bf2f(uint h) { return as_float(h << 16); }
inline uint f2bf(float f) {
    uint x = as_uint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return ((x >> 16) | 0x40u) & 0xffffu;
    x += 0x7fffu + ((x >> 16) & 1u);
    return x >> 16;
}

/* Round a positive finite float (bits ax) to a small float format with mbits mantissa
 * bits and exponent bias `bias`, ties to even; the caller saturates overflow. */
inline uint round_minifloat(uint ax, int mbits, int bias) {
    int e = (int)(ax >> 23);
    if (e >= 128 - bias) {
        uint x = ax - ((uint)(127 - bias) << 23);
        int sh = 23 - mbits;
        x += ((1u << (sh - 1)) - 1u) + ((x >> sh) & 1u);
        return x >> sh;
    }
    int shift = 151 - bias - mbits - e;
    if (e == 0 || shift > 24) return 0;
    uint m = (ax & 0x7fffffu) | 0x800000u;
    uint q = m >> shift;
    uint rem = m & ((1u << shift) - 1u);
    uint half_ = 1u << (shift - 1);
    if (rem > half_ || (rem == half_ && (q & 1u))) q++;
    return q;
}

inline float e4m3_to_f(uint v) {
    int ex = (int)((v >> 3) & 15u), man = (int)(v & 7u);
    float mag;
    if (ex == 15 && man == 7) mag = NAN;
    else if (ex == 0) mag = ldexp((float)man, -9);
    else mag = ldexp((float)(8 + man), ex - 10);
    return (v & 0x80u) ? -mag : mag;
}
inline float e5m2_to_f(uint v) { return h2f((v & 255u) << 8); }

inline uint f_to_e4m3(float f) {
    uint x = as_uint(f);
    uint sign = (x >> 24) & 0x80u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7fu;
    if (ax == 0x7f800000u) return sign | 0x7eu;
    uint q = round_minifloat(ax, 3, 7);
    return sign | min(q, 0x7eu);
}
inline uint f_to_e5m2(float f) {
    uint x = as_uint(f);
    uint sign = (x >> 24) & 0x80u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7eu;
    if (ax == 0x7f800000u) return sign | 0x7cu;
    uint q = round_minifloat(ax, 2, 15);
    return sign | min(q, 0x7bu);
}

/* Byte address of element (i0, i1, i2, i3) of a tensor given its strides. */
inline ulong elem_off(long4 nb, long i0, long i1, long i2, long i3) {
    return (ulong)(i0 * nb.s0 + i1 * nb.s1 + i2 * nb.s2 + i3 * nb.s3);
}

/* Unravel a row-major linear index over ne into (i0, i1, i2, i3). */
inline long4 unravel4(long L, long4 ne) {
    long4 r;
    r.s0 = L % ne.s0; L /= ne.s0;
    r.s1 = L % ne.s1; L /= ne.s1;
    r.s2 = L % ne.s2;
    r.s3 = L / ne.s2;
    return r;
}

/* Plain (one element per "block") types, chosen at run time by id (F64 only where the
 * device has cl_khr_fp64; the host checks). */
inline float load_plain(gcbytes p, int type) {
    switch (type) {
    case T_F32: return as_float(rd_u32(p));
    case T_F16: return h2f(rd_u16(p));
    case T_BF16: return bf2f(rd_u16(p));
    case T_F8_E4M3: return e4m3_to_f(p[0]);
    case T_F8_E5M2: return e5m2_to_f(p[0]);
#ifdef cl_khr_fp64
    case T_F64: return (float)as_double((ulong)rd_u32(p) | ((ulong)rd_u32(p + 4) << 32));
#endif
    default: return NAN;
    }
}
inline void store_plain(gbytes p, int type, float v) {
    switch (type) {
    case T_F32: {
        uint u = as_uint(v);
        p[0] = (uchar)u; p[1] = (uchar)(u >> 8); p[2] = (uchar)(u >> 16); p[3] = (uchar)(u >> 24);
        break;
    }
    case T_F16: wr_u16(p, f2h(v)); break;
    case T_BF16: wr_u16(p, f2bf(v)); break;
    case T_F8_E4M3: p[0] = (uchar)f_to_e4m3(v); break;
    case T_F8_E5M2: p[0] = (uchar)f_to_e5m2(v); break;
#ifdef cl_khr_fp64
    case T_F64: {
        ulong u = as_ulong((double)v);
        for (int i = 0; i < 8; i++) p[i] = (uchar)(u >> (8 * i));
        break;
    }
#endif
    default: break;
    }
}
