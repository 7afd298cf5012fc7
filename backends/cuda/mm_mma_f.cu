/* Tensor-core mat-mat for the 16-bit and FP8 weight types (mm_mma.cuh): F16, F8_E4M3,
 * F8_E5M2, MXFP8_E4M3 and MXFP8_E5M2 through f16 mma.sync m16n8k16 (FP8 values are exact
 * in f16; activations are rounded to f16 as cpu-ref does for F16 weights), BF16 through
 * bf16 mma (activations rounded to bf16, as cpu-ref does). Accumulation is f32. FP8
 * tensor-core mma with FP8 activations is not used: rounding activations to E4M3 costs
 * ~1e-3 NMSE, far above the conform limit of 1e-6 for FP8 weights (KERNELS.md).
 *
 * Same tiling as mm_mma_q.cu: 4 warps, a 64 x 64 result tile, KC chunks of 32 elements
 * per stage; threads 0-63 convert one weight row's chunk to 16-bit values, threads
 * 64-127 one activation column's. MXFP8 keeps its E8M0 block scale out of the f16
 * values: each chunk's two MMAs go to a fresh fragment that is scaled into the
 * accumulator. Rows of shared memory are padded to 40 halves (80 bytes) so a warp's
 * fragment loads hit distinct banks.
 *
 * Fragment layouts (PTX ISA, m16n8k16 .f16/.bf16, g = lane / 4, t = lane % 4):
 * A regs {A[g][2t..2t+1], A[g+8][2t..2t+1], A[g][2t+8..2t+9], A[g+8][2t+8..2t+9]},
 * B regs {B[2t..2t+1][g], B[2t+8..2t+9][g]}, C {C[g][2t], C[g][2t+1], C[g+8][2t], C[g+8][2t+1]}. */
#include "dequant.cuh"
#include "mm_mma.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace {

constexpr int BM = 64, BN = 64, KC = 2, ROWH = 40, NT = 128;

struct Stage {
    uint16_t a[KC][BM][ROWH];
    uint16_t b[KC][BN][ROWH];
    float sa[KC][BM]; /* MXFP8 block scale per row and chunk */
};

template <bool BF>
__device__ __forceinline__ void mma_k16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    if (BF)
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    else
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint16_t to16(float v, bool bf) {
    return bf ? __bfloat16_as_ushort(__float2bfloat16_rn(v)) : __half_as_ushort(__float2half_rn(v));
}

/* 16-bit value of weight element i of a row (MXFP8: without its block scale). */
template <int T>
__device__ __forceinline__ uint16_t weight16(const uint8_t *wr, int64_t i) {
    if (T == QG_TYPE_F16 || T == QG_TYPE_BF16) return ((const uint16_t *)wr)[i];
    if (T == QG_TYPE_F8_E4M3) return to16(qgcu_e4m3_to_float(wr[i]), false);
    if (T == QG_TYPE_F8_E5M2) return (uint16_t)(wr[i] << 8);
    const uint8_t q = wr[(i / 32) * 33 + 1 + (i % 32)];
    if (T == QG_TYPE_MXFP8_E4M3) return to16(qgcu_e4m3_to_float(q), false);
    return (uint16_t)(q << 8); /* MXFP8_E5M2 */
}

template <int T>
__global__ void __launch_bounds__(NT) mma_f_kernel(qgcu_mm_args a) {
    constexpr bool BF = T == QG_TYPE_BF16;
    constexpr bool MX = T == QG_TYPE_MXFP8_E4M3 || T == QG_TYPE_MXFP8_E5M2;
    __shared__ __align__(16) Stage s;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int wm = warp >> 1, wn = warp & 1;
    const int64_t row0 = (int64_t)blockIdx.x * BM, col0 = (int64_t)blockIdx.y * BN, p = blockIdx.z;
    const uint8_t *wplane = qgcu_mm_wplane(a, p);

    float acc[2][4][4];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;

    for (int64_t k0 = 0; k0 < a.k; k0 += 32 * KC) {
        if (tid < BM) {
            const int64_t row = row0 + tid;
            const uint8_t *wr = wplane + row * a.wnb1;
            for (int kc = 0; kc < KC; kc++) {
                const int64_t kb = k0 + 32 * kc;
                for (int e = 0; e < 32; e += 2) {
                    uint16_t v0 = 0, v1 = 0;
                    if (row < a.m && kb + e < a.k) v0 = weight16<T>(wr, kb + e);
                    if (row < a.m && kb + e + 1 < a.k) v1 = weight16<T>(wr, kb + e + 1);
                    *(uint32_t *)&s.a[kc][tid][e] = (uint32_t)v0 | ((uint32_t)v1 << 16);
                }
                if (MX) s.sa[kc][tid] = (row < a.m && kb < a.k) ? qgcu_e8m0_to_float(wr[(kb / 32) * 33]) : 0.0f;
            }
        } else {
            const int c = tid - BM;
            const int64_t col = col0 + c;
            const float *x = a.xf + (p * a.n + col) * a.k;
            for (int kc = 0; kc < KC; kc++) {
                const int64_t kb = k0 + 32 * kc;
                for (int e = 0; e < 32; e += 2) {
                    uint16_t v0 = 0, v1 = 0;
                    if (col < a.n && kb + e < a.k) v0 = to16(x[kb + e], BF);
                    if (col < a.n && kb + e + 1 < a.k) v1 = to16(x[kb + e + 1], BF);
                    *(uint32_t *)&s.b[kc][c][e] = (uint32_t)v0 | ((uint32_t)v1 << 16);
                }
            }
        }
        __syncthreads();

#pragma unroll
        for (int kc = 0; kc < KC; kc++) {
            float fresh[2][4][4];
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 4; j++)
#pragma unroll
                    for (int r = 0; r < 4; r++) fresh[i][j][r] = 0.0f;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                uint32_t af[2][4];
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    const int r = 32 * wm + 16 * i + g, kk = 16 * h + 2 * t;
                    af[i][0] = *(const uint32_t *)&s.a[kc][r][kk];
                    af[i][1] = *(const uint32_t *)&s.a[kc][r + 8][kk];
                    af[i][2] = *(const uint32_t *)&s.a[kc][r][kk + 8];
                    af[i][3] = *(const uint32_t *)&s.a[kc][r + 8][kk + 8];
                }
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const int cc = 32 * wn + 8 * j + g, kk = 16 * h + 2 * t;
                    const uint32_t b0 = *(const uint32_t *)&s.b[kc][cc][kk];
                    const uint32_t b1 = *(const uint32_t *)&s.b[kc][cc][kk + 8];
#pragma unroll
                    for (int i = 0; i < 2; i++) mma_k16<BF>(MX ? fresh[i][j] : acc[i][j], af[i], b0, b1);
                }
            }
            if (MX) {
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    const int r0 = 32 * wm + 16 * i + g;
                    const float s_lo = s.sa[kc][r0], s_hi = s.sa[kc][r0 + 8];
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        acc[i][j][0] += s_lo * fresh[i][j][0];
                        acc[i][j][1] += s_lo * fresh[i][j][1];
                        acc[i][j][2] += s_hi * fresh[i][j][2];
                        acc[i][j][3] += s_hi * fresh[i][j][3];
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

bool qgcu_mm_mma_f_has(int type) {
    switch (type) {
    case QG_TYPE_F16: case QG_TYPE_BF16: case QG_TYPE_F8_E4M3: case QG_TYPE_F8_E5M2:
    case QG_TYPE_MXFP8_E4M3: case QG_TYPE_MXFP8_E5M2:
        return true;
    default:
        return false;
    }
}

cudaError_t qgcu_mm_mma_f(int type, const qgcu_mm_args &a, cudaStream_t st) {
    const int64_t gx = (a.m + BM - 1) / BM, gy = (a.n + BN - 1) / BN, gz = a.b2 * a.b3;
    if (gx > 0x7fffffff || gy > 65535 || gz > 65535) return cudaErrorInvalidValue;
    const dim3 grid((unsigned)gx, (unsigned)gy, (unsigned)gz), block(NT);
    switch (type) {
#define QGCU_CASE(T) \
    case QG_TYPE_##T: mma_f_kernel<QG_TYPE_##T><<<grid, block, 0, st>>>(a); break;
        QGCU_CASE(F16) QGCU_CASE(BF16) QGCU_CASE(F8_E4M3) QGCU_CASE(F8_E5M2)
        QGCU_CASE(MXFP8_E4M3) QGCU_CASE(MXFP8_E5M2)
#undef QGCU_CASE
    default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}
