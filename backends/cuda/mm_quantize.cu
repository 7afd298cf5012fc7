/* Activation preparation for MUL_MAT (quantize_act.cuh): the Q8 quantizers (Q8_0 rules:
 * one warp per 32-element block, each lane loads one element, the block's largest |x|
 * comes from a butterfly max, each lane writes its level, lane 0 the scale; Q8_K rules:
 * one warp per 256-element block, eight elements per lane) and the float
 * gather. Both read x through its byte strides, so transposed and permuted activations
 * need no separate copy. */
#include "quantize_act.cuh"

#include <cuda_runtime.h>

namespace {

constexpr int kWarpsPerBlock = 8;

/* Address of element i0 of scratch row r. */
__device__ __forceinline__ const float *act_elem(const qgcu_act_src &x, int64_t r, int64_t i0) {
    int64_t col = r % x.n, plane = r / x.n;
    int64_t i2 = plane % x.b2, i3 = plane / x.b2;
    return (const float *)(x.base + i0 * x.nb0 + col * x.nb1 + i2 * x.nb2 + i3 * x.nb3);
}

__global__ void quantize_q8_kernel(qgcu_act_src x, int64_t nblocks, int8_t *qs, float *d) {
    const int lane = threadIdx.x & 31;
    const int64_t blk = (int64_t)blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
    if (blk >= nblocks) return;
    const int64_t per_row = x.k / 32;
    const int64_t r = blk / per_row, i0 = (blk % per_row) * 32 + lane;
    const float v = *act_elem(x, r, i0);
    float amax = fabsf(v);
    for (int off = 16; off > 0; off >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, off));
    const float id = qgcu_q8_inv_scale(amax);
    qs[r * x.k + i0] = (int8_t)qgcu_q8_level(v, id);
    if (lane == 0) d[blk] = qgcu_q8_stored_scale(amax);
}

__global__ void quantize_q8k_kernel(qgcu_act_src x, int64_t nblocks, int8_t *qs, float *d) {
    const int lane = threadIdx.x & 31;
    const int64_t blk = (int64_t)blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
    if (blk >= nblocks) return;
    const int64_t per_row = x.k / 256;
    const int64_t r = blk / per_row, i0 = (blk % per_row) * 256;
    float v[8], amax = 0.0f;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        v[i] = *act_elem(x, r, i0 + 32 * i + lane);
        amax = fmaxf(amax, fabsf(v[i]));
    }
    for (int off = 16; off > 0; off >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, off));
    const bool zero = !(amax > 0.0f);
    const float is = zero ? 0.0f : 127.0f / amax;
#pragma unroll
    for (int i = 0; i < 8; i++)
        qs[r * x.k + i0 + 32 * i + lane] = zero ? (int8_t)0 : (int8_t)qgcu_q8k_level(v[i], is);
    if (lane < 8) d[blk * 8 + lane] = zero ? 0.0f : amax / 127.0f;
}

__global__ void gather_f32_kernel(qgcu_act_src x, int64_t total, float *out) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    out[i] = *act_elem(x, i / x.k, i % x.k);
}

} // namespace

cudaError_t qgcu_quantize_q8(const qgcu_act_src *x, int8_t *qs, float *d, bool q8k, cudaStream_t st) {
    const int64_t bs = q8k ? 256 : 32;
    if (x->k % bs != 0) return cudaErrorInvalidValue;
    const int64_t nblocks = x->k / bs * x->n * x->b2 * x->b3;
    if (nblocks == 0) return cudaSuccess;
    const int64_t grid = (nblocks + kWarpsPerBlock - 1) / kWarpsPerBlock;
    if (grid > 0x7fffffff) return cudaErrorInvalidValue;
    if (q8k)
        quantize_q8k_kernel<<<(unsigned)grid, 32 * kWarpsPerBlock, 0, st>>>(*x, nblocks, qs, d);
    else
        quantize_q8_kernel<<<(unsigned)grid, 32 * kWarpsPerBlock, 0, st>>>(*x, nblocks, qs, d);
    return cudaGetLastError();
}

cudaError_t qgcu_gather_f32(const qgcu_act_src *x, float *out, cudaStream_t st) {
    const int64_t total = x->k * x->n * x->b2 * x->b3;
    if (total == 0) return cudaSuccess;
    const int64_t grid = (total + 255) / 256;
    if (grid > 0x7fffffff) return cudaErrorInvalidValue;
    gather_f32_kernel<<<(unsigned)grid, 256, 0, st>>>(*x, total, out);
    return cudaGetLastError();
}
