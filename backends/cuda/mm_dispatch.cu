/* MUL_MAT entry points of mm.h: checks what the kernels can run, prepares the
 * activations in device scratch (Q8 levels and scales for integer weights, by the rules
 * of the weight type's partner, Q8_0/Q8_1 or Q8_K; contiguous
 * floats for float weights; quantize_act.cuh) and picks the kernel: the tensor-core
 * mat-mat kernels (mm_mma_*.cu) for n > QGCU_MMA_MIN_N columns where they exist for the
 * weight type, otherwise the mat-vec kernels (mm_vec_*.cu), which handle any n.
 * QG_CUDA_MM=vec in the environment forces the mat-vec kernels for every n (to isolate a
 * mat-mat kernel fault on a new device). */
#include "mm.h"

#include "mm_chunk.cuh"
#include "mm_common.cuh"
#include "mm_mma.cuh"
#include "quantize_act.cuh"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr size_t kAlign = 256;

size_t align_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

bool weight_type_ok(int t) { return qgcu_int_type(t) || qgcu_mm_vec_f_has(t); }

/* Byte alignment the kernels assume for weight rows (mm_chunk.cuh's fast loads). */
size_t weight_align(int t) {
    switch (t) {
    case QG_TYPE_F32: return 4;
    case QG_TYPE_Q4_K: case QG_TYPE_Q5_K: return 4;
    case QG_TYPE_F16: case QG_TYPE_BF16: case QG_TYPE_Q4_0: case QG_TYPE_Q8_0: case QG_TYPE_Q6_K: return 2;
    default: return 1;
    }
}

/* Why the node cannot run here, or NULL. */
const char *unsupported_reason(const qg_tensor *node) {
    if (!node || node->op != QG_OP_MUL_MAT || !node->src[0] || !node->src[1]) return "not a MUL_MAT node";
    const qg_tensor *w = node->src[0], *x = node->src[1];
    if (!weight_type_ok(w->type)) return "weight type has no CUDA kernel";
    if (x->type != QG_TYPE_F32) return "activations must be F32";
    if (node->type != QG_TYPE_F32) return "result must be F32";
    const int64_t bs = qgcu_type_block(w->type);
    if (w->ne[0] != x->ne[0] || w->ne[0] <= 0 || w->ne[0] % bs != 0) return "k does not fit the weight blocks";
    if (w->nb[0] != (size_t)qgcu_type_bytes(w->type)) return "weight rows are not contiguous";
    if (w->ne[2] <= 0 || w->ne[3] <= 0 || x->ne[2] % w->ne[2] != 0 || x->ne[3] % w->ne[3] != 0)
        return "activation planes do not broadcast the weight planes";
    if (node->ne[0] != w->ne[1] || node->ne[1] != x->ne[1] || node->ne[2] != x->ne[2] || node->ne[3] != x->ne[3])
        return "result shape";
    const size_t wa = weight_align(w->type);
    if ((uintptr_t)w->data % wa || w->nb[1] % wa || w->nb[2] % wa || w->nb[3] % wa)
        return "misaligned weights";
    for (int d = 0; d < 4; d++)
        if (x->nb[d] % 4 || node->nb[d] % 4) return "misaligned activations or result";
    if ((uintptr_t)x->data % 4 || (uintptr_t)node->data % 4) return "misaligned activations or result";
    if (x->ne[2] * x->ne[3] > 65535) return "too many planes";
    if ((x->ne[1] + QGCU_VEC_COLS - 1) / QGCU_VEC_COLS > 65535) return "too many columns";
    return nullptr;
}

bool force_vec() {
    const char *v = getenv("QG_CUDA_MM");
    return v && strcmp(v, "vec") == 0;
}

qg_status cuda_fail(const qg_tensor *node, const char *what, cudaError_t e) {
    return qg_set_error(QG_ERR_BACKEND, "cuda mul_mat %s (%s): %s: %s", node->name, qg_type_name(node->src[0]->type),
                        what, cudaGetErrorString(e));
}

} // namespace

extern "C" bool qgcu_mul_mat_supported(const qgcu_mm_env *env, const qg_tensor *node) {
    (void)env;
    return unsupported_reason(node) == nullptr;
}

extern "C" qg_status qgcu_mul_mat(const qgcu_mm_env *env, qg_tensor *node) {
    if (!env || !env->scratch) return qg_set_error(QG_ERR_INVALID_ARG, "cuda mul_mat: no environment");
    const char *why = unsupported_reason(node);
    if (why) return qg_set_error(QG_ERR_UNSUPPORTED, "cuda mul_mat %s: %s", node ? node->name : "(null)", why);
    const qg_tensor *w = node->src[0], *x = node->src[1];
    cudaStream_t st = (cudaStream_t)env->stream;

    qgcu_mm_args a = {};
    a.w = (const uint8_t *)w->data;
    a.k = w->ne[0];
    a.m = w->ne[1];
    a.a2 = w->ne[2];
    a.a3 = w->ne[3];
    a.wnb1 = (int64_t)w->nb[1];
    a.wnb2 = (int64_t)w->nb[2];
    a.wnb3 = (int64_t)w->nb[3];
    a.n = x->ne[1];
    a.b2 = x->ne[2];
    a.b3 = x->ne[3];
    a.dst = (char *)node->data;
    a.dnb0 = (int64_t)node->nb[0];
    a.dnb1 = (int64_t)node->nb[1];
    a.dnb2 = (int64_t)node->nb[2];
    a.dnb3 = (int64_t)node->nb[3];
    if (a.m == 0 || a.n == 0 || a.b2 == 0 || a.b3 == 0) return QG_OK;

    qgcu_act_src src = {(const char *)x->data, a.k, a.n, a.b2, a.b3,
                        (int64_t)x->nb[0], (int64_t)x->nb[1], (int64_t)x->nb[2], (int64_t)x->nb[3]};
    const size_t rows = (size_t)(a.n * a.b2 * a.b3);
    const bool integer = qgcu_int_type(w->type) != 0;
    cudaError_t e;
    if (integer) {
        const size_t qbytes = align_up(rows * (size_t)a.k);
        char *s = (char *)env->scratch(env->user, qbytes + rows * (size_t)(a.k / 32) * sizeof(float));
        if (!s) return QG_ERR_NO_MEMORY; /* scratch() has set the message */
        a.xq = (const int8_t *)s;
        a.xd = (const float *)(s + qbytes);
        const qg_type_traits *tt = qg_type_get(w->type);
        const bool q8k = tt && tt->vec_dot_type == QG_TYPE_Q8_K; /* same levels as cpu-ref */
        e = qgcu_quantize_q8(&src, (int8_t *)s, (float *)(s + qbytes), q8k, st);
        if (e != cudaSuccess) return cuda_fail(node, "activation quantization", e);
    } else {
        float *s = (float *)env->scratch(env->user, rows * (size_t)a.k * sizeof(float));
        if (!s) return QG_ERR_NO_MEMORY;
        a.xf = s;
        e = qgcu_gather_f32(&src, s, st);
        if (e != cudaSuccess) return cuda_fail(node, "activation gather", e);
    }

    if (a.n > QGCU_MMA_MIN_N && env->cc >= 80 && !force_vec()) {
        if (integer ? qgcu_mm_mma_q_has(w->type) : qgcu_mm_mma_f_has(w->type)) {
            e = integer ? qgcu_mm_mma_q(w->type, a, st) : qgcu_mm_mma_f(w->type, a, st);
            if (e != cudaSuccess) return cuda_fail(node, "mat-mat kernel", e);
            return QG_OK;
        }
    }
    e = integer ? qgcu_mm_vec_q(w->type, a, st) : qgcu_mm_vec_f(w->type, a, st);
    if (e != cudaSuccess) return cuda_fail(node, "mat-vec kernel", e);
    return QG_OK;
}
