/* Int8 tensor-core mat-mat for the integer weight types (mm_mma.cuh). A block of 4 warps
 * computes a 64 x 64 tile of the result (64 weight rows x 64 activation columns); the k
 * loop takes KC = 4 chunks of 32 per stage: threads 0-63 unpack one weight row's chunk
 * views (mm_chunk.cuh: int8 levels, per-half scale a and offset b), threads 64-127 load
 * one activation column's Q8 levels and scale (and the per-half sums of the levels, for
 * the offset term). Each warp then owns a 32 x 32 sub-tile: per chunk it runs 2 x 4
 * mma.sync.m16n8k32.s8 (types with one scale per 32) or, per half chunk, 2 x 4
 * m16n8k16 (Q2_K, Q3_K, Q6_K, NVFP4: a scale per 16) into fresh int32 fragments and
 * folds them into float accumulators: acc += a[row] * C * d_y[col] + b[row] * sum_y[col]
 * (sum_y = d_y * sum of the activation levels).
 *
 * Fragment layouts (PTX ISA, mma.m16n8k16 .s8, g = lane / 4, t = lane % 4): A row-major
 * regs {A[g][4t..4t+3], A[g+8][4t..4t+3]}; B column-major reg B[4t..4t+3][g];
 * C regs {C[g][2t], C[g][2t+1], C[g+8][2t], C[g+8][2t+1]}. Shared rows are padded to
 * 48 bytes so the 8 x 4 fragment loads of a warp hit 32 distinct banks. */
#include "mm_chunk.cuh"
#include "mm_mma.cuh"

namespace {

constexpr int BM = 64, BN = 64, KC = 4, ROWB = 48, NT = 128;

struct Stage {
    int8_t a[KC][BM][ROWB];
    int8_t b[KC][BN][ROWB];
    float sa[KC][BM][2], so[KC][BM][2]; /* weight scale and offset per half */
    float dy[KC][BN], sy[KC][BN][2];    /* activation scale, scale * sum of levels per half */
};

__device__ __forceinline__ void mma_s8_k16(int (&c)[4], int a0, int a1, int b0) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a0), "r"(a1), "r"(b0));
}

/* m16n8k32: A regs {A[g][4t..], A[g+8][4t..], A[g][16+4t..], A[g+8][16+4t..]},
 * B regs {B[4t..][g], B[16+4t..][g]}, C as for m16n8k16. */
__device__ __forceinline__ void mma_s8_k32(int (&c)[4], const int (&a)[4], const int (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <int T>
__global__ void __launch_bounds__(NT) mma_q_kernel(qgcu_mm_args a) {
    /* types with a scale per 16 elements take one m16n8k16 MMA per half chunk */
    const bool SPLIT = qgcu_int_type_split(T) != 0; /* constant after inlining */
    __shared__ __align__(16) Stage s;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int wm = warp >> 1, wn = warp & 1;
    const int64_t row0 = (int64_t)blockIdx.x * BM, col0 = (int64_t)blockIdx.y * BN, p = blockIdx.z;
    const int cpb = qgcu_type_block(T) / 32, bytes = qgcu_type_bytes(T);
    const int offs = qgcu_int_type_offset(T); /* constant after inlining */
    const int64_t nch = a.k / 32;
    const uint8_t *wplane = qgcu_mm_wplane(a, p);

    float acc[2][4][4];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;

    for (int64_t ch0 = 0; ch0 < nch; ch0 += KC) {
        if (tid < BM) {
            const int64_t row = row0 + tid;
            const uint8_t *wr = wplane + row * a.wnb1;
            for (int kc = 0; kc < KC; kc++) {
                const int64_t ch = ch0 + kc;
                int32_t q[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                float sa[2] = {0.0f, 0.0f}, so[2] = {0.0f, 0.0f};
                if (row < a.m && ch < nch) qgcu_chunk(T, wr + (ch / cpb) * bytes, (int)(ch % cpb), q, sa, so);
                int4 *dst = (int4 *)s.a[kc][tid];
                dst[0] = make_int4(q[0], q[1], q[2], q[3]);
                dst[1] = make_int4(q[4], q[5], q[6], q[7]);
                s.sa[kc][tid][0] = sa[0];
                s.sa[kc][tid][1] = sa[1];
                s.so[kc][tid][0] = so[0];
                s.so[kc][tid][1] = so[1];
            }
        } else {
            const int c = tid - BM;
            const int64_t col = col0 + c, xrow = p * a.n + col;
            for (int kc = 0; kc < KC; kc++) {
                const int64_t ch = ch0 + kc;
                int4 y0 = make_int4(0, 0, 0, 0), y1 = y0;
                float d = 0.0f;
                if (col < a.n && ch < nch) {
                    const int4 *yp = (const int4 *)(a.xq + xrow * a.k + ch * 32);
                    y0 = yp[0];
                    y1 = yp[1];
                    d = a.xd[xrow * nch + ch];
                }
                int4 *dst = (int4 *)s.b[kc][c];
                dst[0] = y0;
                dst[1] = y1;
                int s0 = 0, s1 = 0;
                s0 = __dp4a(y0.x, 0x01010101, s0);
                s0 = __dp4a(y0.y, 0x01010101, s0);
                s0 = __dp4a(y0.z, 0x01010101, s0);
                s0 = __dp4a(y0.w, 0x01010101, s0);
                s1 = __dp4a(y1.x, 0x01010101, s1);
                s1 = __dp4a(y1.y, 0x01010101, s1);
                s1 = __dp4a(y1.z, 0x01010101, s1);
                s1 = __dp4a(y1.w, 0x01010101, s1);
                s.dy[kc][c] = d;
                s.sy[kc][c][0] = d * (float)s0;
                s.sy[kc][c][1] = d * (float)s1;
            }
        }
        __syncthreads();

#pragma unroll
        for (int kc = 0; kc < KC; kc++) {
            if (!SPLIT) { /* one scale per chunk: one m16n8k32 MMA per chunk */
                int af[2][4], bf[4][2];
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    const int r = 32 * wm + 16 * i + g;
                    af[i][0] = *(const int *)&s.a[kc][r][4 * t];
                    af[i][1] = *(const int *)&s.a[kc][r + 8][4 * t];
                    af[i][2] = *(const int *)&s.a[kc][r][16 + 4 * t];
                    af[i][3] = *(const int *)&s.a[kc][r + 8][16 + 4 * t];
                }
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    bf[j][0] = *(const int *)&s.b[kc][32 * wn + 8 * j + g][4 * t];
                    bf[j][1] = *(const int *)&s.b[kc][32 * wn + 8 * j + g][16 + 4 * t];
                }
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    const int r0 = 32 * wm + 16 * i + g;
                    const float a_lo = s.sa[kc][r0][0], a_hi = s.sa[kc][r0 + 8][0];
                    const float o_lo = s.so[kc][r0][0], o_hi = s.so[kc][r0 + 8][0];
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        int c[4] = {0, 0, 0, 0};
                        mma_s8_k32(c, af[i], bf[j]);
                        const int c0 = 32 * wn + 8 * j + 2 * t;
                        const float d0 = s.dy[kc][c0], d1 = s.dy[kc][c0 + 1];
                        acc[i][j][0] += a_lo * (float)c[0] * d0;
                        acc[i][j][1] += a_lo * (float)c[1] * d1;
                        acc[i][j][2] += a_hi * (float)c[2] * d0;
                        acc[i][j][3] += a_hi * (float)c[3] * d1;
                        if (offs) {
                            const float y0 = s.sy[kc][c0][0] + s.sy[kc][c0][1];
                            const float y1 = s.sy[kc][c0 + 1][0] + s.sy[kc][c0 + 1][1];
                            acc[i][j][0] += o_lo * y0;
                            acc[i][j][1] += o_lo * y1;
                            acc[i][j][2] += o_hi * y0;
                            acc[i][j][3] += o_hi * y1;
                        }
                    }
                }
                continue;
            }
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int af[2][2], bf[4];
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    const int r = 32 * wm + 16 * i + g;
                    af[i][0] = *(const int *)&s.a[kc][r][16 * h + 4 * t];
                    af[i][1] = *(const int *)&s.a[kc][r + 8][16 * h + 4 * t];
                }
#pragma unroll
                for (int j = 0; j < 4; j++) bf[j] = *(const int *)&s.b[kc][32 * wn + 8 * j + g][16 * h + 4 * t];
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    const int r0 = 32 * wm + 16 * i + g;
                    const float a_lo = s.sa[kc][r0][h], a_hi = s.sa[kc][r0 + 8][h];
                    const float o_lo = s.so[kc][r0][h], o_hi = s.so[kc][r0 + 8][h];
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        int c[4] = {0, 0, 0, 0};
                        mma_s8_k16(c, af[i][0], af[i][1], bf[j]);
                        const int c0 = 32 * wn + 8 * j + 2 * t;
                        const float d0 = s.dy[kc][c0], d1 = s.dy[kc][c0 + 1];
                        const float y0 = s.sy[kc][c0][h], y1 = s.sy[kc][c0 + 1][h];
                        acc[i][j][0] += a_lo * (float)c[0] * d0;
                        acc[i][j][1] += a_lo * (float)c[1] * d1;
                        acc[i][j][2] += a_hi * (float)c[2] * d0;
                        acc[i][j][3] += a_hi * (float)c[3] * d1;
                        if (offs) {
                            acc[i][j][0] += o_lo * y0;
                            acc[i][j][1] += o_lo * y1;
                            acc[i][j][2] += o_hi * y0;
                            acc[i][j][3] += o_hi * y1;
                        }
                    }
                }
            }
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int64_t row = row0 + 32 * wm + 16 * i + g + 8 * (r >> 1);
                const int64_t col = col0 + 32 * wn + 8 * j + 2 * t + (r & 1);
                if (row < a.m && col < a.n) *qgcu_mm_out(a, row, col, p) = acc[i][j][r];
            }
}

} // namespace

bool qgcu_mm_mma_q_has(int type) { return qgcu_int_type(type) != 0; }

cudaError_t qgcu_mm_mma_q(int type, const qgcu_mm_args &a, cudaStream_t st) {
    const int64_t gx = (a.m + BM - 1) / BM, gy = (a.n + BN - 1) / BN, gz = a.b2 * a.b3;
    if (gx > 0x7fffffff || gy > 65535 || gz > 65535) return cudaErrorInvalidValue;
    const dim3 grid((unsigned)gx, (unsigned)gy, (unsigned)gz), block(NT);
    switch (type) {
#define QGCU_CASE(T) \
    case QG_TYPE_##T: mma_q_kernel<QG_TYPE_##T><<<grid, block, 0, st>>>(a); break;
        QGCU_CASE(Q4_0) QGCU_CASE(Q4_1) QGCU_CASE(Q5_0) QGCU_CASE(Q5_1) QGCU_CASE(Q8_0)
        QGCU_CASE(Q2_K) QGCU_CASE(Q3_K) QGCU_CASE(Q4_K) QGCU_CASE(Q5_K) QGCU_CASE(Q6_K)
        QGCU_CASE(IQ4_NL) QGCU_CASE(IQ4_XS) QGCU_CASE(TQ1_0) QGCU_CASE(TQ2_0)
        QGCU_CASE(MXFP4) QGCU_CASE(NVFP4)
#undef QGCU_CASE
    default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}
