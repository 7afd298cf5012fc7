/* Contract between the CUDA plugin's host side (plugin.c, buffers, op dispatch) and its
 * matrix-product kernels (mm_*.cu). The host side owns the device, stream and scratch
 * memory; the kernels own everything about MUL_MAT: activation quantization to the weight
 * type's partner type, the mat-vec kernels (small n) and the tensor-core mat-mat kernels.
 *
 * Tensors carry device pointers in `data` (a CUDA buffer's base is its cudaMalloc
 * address), so a kernel reads node->src[0]->data directly. Shapes and strides follow
 * include/qg/tensor.h (QG_OP_MUL_MAT: weights [k, m, a2, a3], x [k, n, b2, b3] with
 * b2 % a2 == 0 and b3 % a3 == 0, result F32 [m, n, b2, b3]; x may be permuted).
 * Errors go through qg_set_error(); functions return qg_status.
 */
#ifndef QG_CUDA_MM_H
#define QG_CUDA_MM_H

#include "qg/core.h"
#include "qg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qgcu_mm_env {
    void *stream;     /* cudaStream_t of the device: all work is queued on it */
    int device;       /* CUDA device ordinal (already current on the calling thread) */
    int cc;           /* compute capability as major * 10 + minor: 80, 89, 90 */
    int sm_count;     /* multiprocessors */
    /* Device scratch of at least `bytes`, valid until the next scratch() call; stream-
     * ordered, so it may be reused by the next queued kernel. NULL (error set) on failure. */
    void *(*scratch)(void *user, size_t bytes);
    void *user;
} qgcu_mm_env;

/* Whether qgcu_mul_mat can run this MUL_MAT node (weight type, x type, strides). */
bool qgcu_mul_mat_supported(const qgcu_mm_env *env, const qg_tensor *node);
/* Queue node = src0 x src1 on env->stream. Does not synchronize. */
qg_status qgcu_mul_mat(const qgcu_mm_env *env, qg_tensor *node);

#ifdef __cplusplus
}
#endif
#endif
