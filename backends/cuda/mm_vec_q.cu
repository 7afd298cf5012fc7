/* Mat-vec for the integer weight types (mm_common.cuh): one warp per weight row, each
 * lane walks the row's 32-element chunks with a stride of 32 chunks (so a warp reads 32
 * consecutive chunks, about 0.5-1 KiB, per step), unpacks the chunk's levels once
 * (mm_chunk.cuh) and takes dp4a dot products with up to 8 activation columns (two
 * 16-byte loads per column and chunk). A butterfly reduction ends each row. */
#include "mm_chunk.cuh"
#include "mm_common.cuh"

namespace {

template <int T>
__global__ void __launch_bounds__(32 * QGCU_VEC_WARPS) mmv_q_kernel(qgcu_mm_args a) {
    const int lane = threadIdx.x & 31;
    const int64_t row = (int64_t)blockIdx.x * QGCU_VEC_WARPS + (threadIdx.x >> 5);
    if (row >= a.m) return;
    const int64_t p = blockIdx.y;
    const int64_t col0 = (int64_t)blockIdx.z * QGCU_VEC_COLS;
    const int nc = (int)min((int64_t)QGCU_VEC_COLS, a.n - col0);
    const int cpb = qgcu_type_block(T) / 32, bytes = qgcu_type_bytes(T);
    const uint8_t *wr = qgcu_mm_wplane(a, p) + row * a.wnb1;
    const int64_t nch = a.k / 32, xrow0 = p * a.n + col0;
    const int8_t *xq = a.xq + xrow0 * a.k;
    const float *xd = a.xd + xrow0 * nch;

    float acc[QGCU_VEC_COLS];
#pragma unroll
    for (int j = 0; j < QGCU_VEC_COLS; j++) acc[j] = 0.0f;
    /* types with a fast unpacker keep two chunks per lane in flight (their weight loads
     * are issued before either's math); the generic unpackers would exceed 255 registers */
    constexpr int kUnroll = (T == QG_TYPE_Q4_0 || T == QG_TYPE_Q8_0 || T == QG_TYPE_Q4_K ||
                             T == QG_TYPE_Q5_K || T == QG_TYPE_Q6_K) ? 2 : 1;
#pragma unroll kUnroll
    for (int64_t ch = lane; ch < nch; ch += 32) {
        int32_t q[8];
        float sa[2], so[2];
        qgcu_chunk(T, wr + (ch / cpb) * bytes, (int)(ch % cpb), q, sa, so);
#pragma unroll
        for (int j = 0; j < QGCU_VEC_COLS; j++) {
            if (j < nc) {
                const int4 *yp = (const int4 *)(xq + j * a.k + ch * 32);
                const int4 y0 = yp[0], y1 = yp[1];
                const int32_t y[8] = {y0.x, y0.y, y0.z, y0.w, y1.x, y1.y, y1.z, y1.w};
                acc[j] += qgcu_chunk_dot(q, sa, so, y, xd[j * nch + ch], qgcu_int_type_offset(T));
            }
        }
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

cudaError_t qgcu_mm_vec_q(int type, const qgcu_mm_args &a, cudaStream_t st) {
    dim3 grid;
    if (!qgcu_vec_grid(a, &grid)) return cudaErrorInvalidValue;
    const dim3 block(32 * QGCU_VEC_WARPS);
    switch (type) {
#define QGCU_CASE(T) \
    case QG_TYPE_##T: mmv_q_kernel<QG_TYPE_##T><<<grid, block, 0, st>>>(a); break;
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
