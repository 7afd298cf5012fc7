/* Shared between the MUL_MAT kernel files: the argument block every matrix kernel gets
 * (weights with their strides, the prepared activations, the destination with its
 * strides) and the launchers mm_dispatch.cu chooses from. Activation row r of the
 * scratch is column r % n of plane r / n (planes in (i2, i3) order, see quantize_act.cuh);
 * output plane (i2, i3) uses weight plane (i2 / (b2/a2), i3 / (b3/a3)) as ggml does. */
#ifndef QG_CUDA_MM_COMMON_CUH
#define QG_CUDA_MM_COMMON_CUH

#include <cuda_runtime.h>
#include <stdint.h>

struct qgcu_mm_args {
    const uint8_t *w;          /* weights: row i1 of plane (i2, i3) at w + i1*wnb1 + ... */
    int64_t k, m, a2, a3;
    int64_t wnb1, wnb2, wnb3;
    int64_t n, b2, b3;         /* activation columns and planes */
    const int8_t *xq;          /* Q8 levels [rows][k] (integer weights) */
    const float *xd;           /* Q8 scales [rows][k/32] */
    const float *xf;           /* float activations [rows][k] (float weights) */
    char *dst;
    int64_t dnb0, dnb1, dnb2, dnb3;
};

/* Address of output element (row, col) of output plane p = i2 + b2*i3. */
__device__ __forceinline__ float *qgcu_mm_out(const qgcu_mm_args &a, int64_t row, int64_t col, int64_t p) {
    int64_t i2 = p % a.b2, i3 = p / a.b2;
    return (float *)(a.dst + row * a.dnb0 + col * a.dnb1 + i2 * a.dnb2 + i3 * a.dnb3);
}

/* Weights of output plane p. */
__device__ __forceinline__ const uint8_t *qgcu_mm_wplane(const qgcu_mm_args &a, int64_t p) {
    int64_t i2 = p % a.b2, i3 = p / a.b2;
    return a.w + (i2 / (a.b2 / a.a2)) * a.wnb2 + (i3 / (a.b3 / a.a3)) * a.wnb3;
}

/* Mat-vec kernels, any n (each warp takes one weight row and up to 8 columns; more
 * columns are more grid slices). mm_vec_q.cu: integer weights (qgcu_int_type) against
 * Q8 activations with dp4a; mm_vec_f.cu: float and FP8 weights against float
 * activations with FMA. Both return cudaErrorInvalidValue for a type they lack. */
constexpr int QGCU_VEC_COLS = 8;
constexpr int QGCU_VEC_WARPS = 4;
cudaError_t qgcu_mm_vec_q(int type, const qgcu_mm_args &a, cudaStream_t st);
cudaError_t qgcu_mm_vec_f(int type, const qgcu_mm_args &a, cudaStream_t st);
bool qgcu_mm_vec_f_has(int type);

/* Grid of the mat-vec kernels: rows in groups of QGCU_VEC_WARPS, planes, column slices. */
static inline bool qgcu_vec_grid(const qgcu_mm_args &a, dim3 *grid) {
    int64_t gx = (a.m + QGCU_VEC_WARPS - 1) / QGCU_VEC_WARPS, gy = a.b2 * a.b3;
    int64_t gz = (a.n + QGCU_VEC_COLS - 1) / QGCU_VEC_COLS;
    if (gx > 0x7fffffff || gy > 65535 || gz > 65535 || gx == 0 || gy == 0 || gz == 0) return false;
    *grid = dim3((unsigned)gx, (unsigned)gy, (unsigned)gz);
    return true;
}

/* Sum of v over the warp (all lanes get it). */
__device__ __forceinline__ float qgcu_warp_sum(float v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

#endif
