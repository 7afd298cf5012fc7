/* Mat-vec for the float and FP8 weight types (F32, F16, BF16, F8_E4M3, F8_E5M2,
 * MXFP8_E4M3, MXFP8_E5M2) against float activations: one warp per weight row, lanes on
 * consecutive elements (coalesced), each weight decoded exactly (dequant.cuh) and fused
 * into up to 8 column accumulators in float; any k (these types have no block
 * constraint beyond MXFP8's 32). */
#include "dequant.cuh"
#include "mm_common.cuh"

namespace {

/* Weight element i of a row: direct loads for the plain types, the exact decoder else. */
template <int T>
__device__ __forceinline__ float weight_at(const uint8_t *wr, int64_t i) {
    if (T == QG_TYPE_F32) return ((const float *)wr)[i];
    if (T == QG_TYPE_F16) return qgcu_half_to_float(((const uint16_t *)wr)[i]);
    if (T == QG_TYPE_BF16) return qgcu_bf16_to_float(((const uint16_t *)wr)[i]);
    return qgcu_dequant_elem(T, wr, i);
}

template <int T>
__global__ void __launch_bounds__(32 * QGCU_VEC_WARPS) mmv_f_kernel(qgcu_mm_args a) {
    const int lane = threadIdx.x & 31;
    const int64_t row = (int64_t)blockIdx.x * QGCU_VEC_WARPS + (threadIdx.x >> 5);
    if (row >= a.m) return;
    const int64_t p = blockIdx.y;
    const int64_t col0 = (int64_t)blockIdx.z * QGCU_VEC_COLS;
    const int nc = (int)min((int64_t)QGCU_VEC_COLS, a.n - col0);
    const uint8_t *wr = qgcu_mm_wplane(a, p) + row * a.wnb1;
    const float *x = a.xf + (p * a.n + col0) * a.k;

    float acc[QGCU_VEC_COLS];
#pragma unroll
    for (int j = 0; j < QGCU_VEC_COLS; j++) acc[j] = 0.0f;
    for (int64_t i = lane; i < a.k; i += 32) {
        const float w = weight_at<T>(wr, i);
#pragma unroll
        for (int j = 0; j < QGCU_VEC_COLS; j++)
            if (j < nc) acc[j] = fmaf(w, x[j * a.k + i], acc[j]);
    }
#pragma unroll
    for (int j = 0; j < QGCU_VEC_COLS; j++) {
        if (j < nc) {
            const float s = qgcu_warp_sum(acc[j]);
            if (lane == j) *qgcu_mm_out(a, row, col0 + j, p) = s;
        }
    }
}

} // namespace

bool qgcu_mm_vec_f_has(int type) {
    switch (type) {
    case QG_TYPE_F32: case QG_TYPE_F16: case QG_TYPE_BF16: case QG_TYPE_F8_E4M3:
    case QG_TYPE_F8_E5M2: case QG_TYPE_MXFP8_E4M3: case QG_TYPE_MXFP8_E5M2:
        return true;
    default:
        return false;
    }
}

cudaError_t qgcu_mm_vec_f(int type, const qgcu_mm_args &a, cudaStream_t st) {
    dim3 grid;
    if (!qgcu_vec_grid(a, &grid)) return cudaErrorInvalidValue;
    const dim3 block(32 * QGCU_VEC_WARPS);
    switch (type) {
#define QGCU_CASE(T) \
    case QG_TYPE_##T: mmv_f_kernel<QG_TYPE_##T><<<grid, block, 0, st>>>(a); break;
        QGCU_CASE(F32) QGCU_CASE(F16) QGCU_CASE(BF16) QGCU_CASE(F8_E4M3) QGCU_CASE(F8_E5M2)
        QGCU_CASE(MXFP8_E4M3) QGCU_CASE(MXFP8_E5M2)
#undef QGCU_CASE
    default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}
