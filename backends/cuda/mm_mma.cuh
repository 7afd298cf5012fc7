/* Tensor-core mat-mat kernels for MUL_MAT with many columns (mm_mma_*.cu). mm_mma_q.cu:
 * integer weights (every qgcu_int_type) against Q8 activations with int8 mma.sync
 * (m16n8k32 per 32-element chunk, or m16n8k16 per half chunk for the types with a scale
 * per 16), scales applied in float per chunk. mm_mma_f.cu: F16, BF16 and the FP8
 * types with f16/bf16 mma (F32 weights stay on the mat-vec kernel: the conform limit of
 * 1e-8 leaves no room for rounding activations). Both need sm_80 (int8 and bf16
 * mma.sync). */
#ifndef QG_CUDA_MM_MMA_CUH
#define QG_CUDA_MM_MMA_CUH

#include "mm_common.cuh"

/* Columns above which mm_dispatch.cu prefers a mat-mat kernel. */
constexpr int64_t QGCU_MMA_MIN_N = 8;

/* Whether a mat-mat kernel exists for the weight type, and its launcher. */
bool qgcu_mm_mma_q_has(int type);
cudaError_t qgcu_mm_mma_q(int type, const qgcu_mm_args &a, cudaStream_t st);
bool qgcu_mm_mma_f_has(int type);
cudaError_t qgcu_mm_mma_f(int type, const qgcu_mm_args &a, cudaStream_t st);

#endif
