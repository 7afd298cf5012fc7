/* Host side of MUL_MAT (mul_mat.cl). Step 1 (prep_x) gathers x into the device scratch
 * as contiguous float columns, rounded as the CPU reference rounds activations for the
 * weight type (its vec_dot_type: F16, BF16, Q8_0/Q8_1, Q8_K or exact F32). Step 2 runs
 * the mat-vec kernel (a work-group per weight row and 4 columns) when a plane has at
 * most MATVEC_MAX_N columns, else the tiled kernel (32x32 output tiles).
 */
#include "ocl.h"

#define MATVEC_MAX_N 8
#define VEC_WG 64
#define VEC_NC 4

enum { RND_NONE = 0, RND_F16 = 1, RND_BF16 = 2, RND_Q8_0 = 3, RND_Q8_K = 5 };

static void rounding(qg_type vdt, int *mode, int *rb) {
    switch (vdt) {
    case QG_TYPE_F16: *mode = RND_F16; *rb = 1; break;
    case QG_TYPE_BF16: *mode = RND_BF16; *rb = 1; break;
    case QG_TYPE_Q8_0:
    case QG_TYPE_Q8_1: *mode = RND_Q8_0; *rb = 32; break;
    case QG_TYPE_Q8_K: *mode = RND_Q8_K; *rb = 256; break;
    default: *mode = RND_NONE; *rb = 1; break;
    }
}

qg_status ocl_op_mul_mat(qg_plugin_device *dev, qg_tensor *node) {
    const qg_tensor *w = node->src[0], *x = node->src[1];
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    const int64_t planes = x->ne[2] * x->ne[3];
    const int64_t cols = n * planes;
    int mode, rb;
    rounding(qg_type_get(w->type)->vec_dot_type, &mode, &rb);

    qg_status st = ocl_scratch(dev, (size_t)(k * cols) * sizeof(float));
    if (st != QG_OK) return st;
    cl_kernel kp;
    st = ocl_kernel(dev, OCL_FAM_TYPED, ocl_program_type(dev, w->type), dev->specialize ? 0 : -1, "prep_x", &kp);
    if (st != QG_OK) return st;
    ocl_args a = {.k = kp};
    arg_tensor(&a, dev, x);
    arg_mem(&a, dev->scratch);
    arg_int(&a, mode);
    arg_int(&a, rb);
    st = args_done(&a, "prep_x");
    if (st == QG_OK) {
        const size_t global[2] = {(size_t)(k / rb), (size_t)cols};
        st = ocl_launch(dev, kp, 2, global, NULL, "prep_x");
    }
    clReleaseKernel(kp);
    if (st != QG_OK) return st;

    const bool vec = n <= MATVEC_MAX_N;
    const char *name = !vec ? "mul_mat_tiled" : k % 32 == 0 ? "mul_mat_vec32" : "mul_mat_vec";
    cl_kernel km;
    st = ocl_kernel(dev, OCL_FAM_TYPED, ocl_program_type(dev, w->type), dev->specialize ? 0 : -1, name, &km);
    if (st != QG_OK) return st;
    ocl_args b = {.k = km};
    arg_tensor(&b, dev, w);
    arg_int(&b, (int)w->type);
    arg_mem(&b, dev->scratch);
    arg_i64(&b, n);
    arg_i64(&b, x->ne[2]);
    arg_tensor_base(&b, dev, node);
    int64_t nb[4];
    for (int i = 0; i < 4; i++) nb[i] = (int64_t)node->nb[i];
    cl_long4 dnb;
    for (int i = 0; i < 4; i++) dnb.s[i] = nb[i];
    if (b.st == QG_OK && b.err == CL_SUCCESS) b.err = clSetKernelArg(km, b.i, sizeof dnb, &dnb);
    b.i++;
    arg_i64(&b, x->ne[2] / w->ne[2]);
    arg_i64(&b, x->ne[3] / w->ne[3]);
    st = args_done(&b, name);
    if (st == QG_OK) {
        if (vec) {
            const size_t global[3] = {(size_t)(m * VEC_WG), (size_t)((n + VEC_NC - 1) / VEC_NC), (size_t)planes};
            const size_t local[3] = {VEC_WG, 1, 1};
            st = ocl_launch(dev, km, 3, global, local, name);
        } else {
            const size_t global[3] = {(size_t)((m + 31) / 32 * 16), (size_t)((n + 31) / 32 * 16), (size_t)planes};
            const size_t local[3] = {16, 16, 1};
            st = ocl_launch(dev, km, 3, global, local, name);
        }
    }
    clReleaseKernel(km);
    return st;
}
