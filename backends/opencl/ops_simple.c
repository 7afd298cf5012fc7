/* Host side of the element-wise, row-normalising and ROPE kernels: pick the kernel,
 * set its arguments (tensors as buffer, offset, ne, nb; types as run-time ids) and
 * launch one work-item per element (element-wise, ROPE) or one work-group per row
 * (RMS_NORM, NORM, SOFT_MAX).
 */
#include "ocl.h"

#define NORM_WG 64

static qg_status finish(qg_plugin_device *dev, cl_kernel k, ocl_args *a, const char *name, int dims,
                        const size_t *global, const size_t *local) {
    qg_status st = args_done(a, name);
    if (st == QG_OK) st = ocl_launch(dev, k, dims, global, local, name);
    clReleaseKernel(k);
    return st;
}

static size_t rows_of(const qg_tensor *t) { return (size_t)(t->ne[1] * t->ne[2] * t->ne[3]); }

qg_status ocl_op_elementwise(qg_plugin_device *dev, qg_tensor *node) {
    const bool binary = node->op == QG_OP_ADD || node->op == QG_OP_MUL;
    const char *name = binary ? "binary" : "unary";
    cl_kernel k;
    qg_status st = ocl_kernel(dev, OCL_FAM_ELEMENTWISE, -1, -1, name, &k);
    if (st != QG_OK) return st;
    ocl_args a = {.k = k};
    arg_tensor(&a, dev, node->src[0]);
    arg_int(&a, node->src[0]->type);
    if (binary) {
        arg_tensor(&a, dev, node->src[1]);
        arg_int(&a, node->src[1]->type);
    }
    arg_tensor(&a, dev, node);
    arg_int(&a, node->type);
    if (binary) {
        arg_int(&a, node->op == QG_OP_MUL);
    } else {
        arg_int(&a, node->op == QG_OP_SCALE ? 0 : node->op == QG_OP_SILU ? 1 : 2);
        arg_f32(&a, node->op == QG_OP_SCALE ? qg_op_param_f32(node, 0) : 0.0f);
    }
    const size_t global[2] = {(size_t)node->ne[0], rows_of(node)};
    return finish(dev, k, &a, name, 2, global, NULL);
}

qg_status ocl_op_norm(qg_plugin_device *dev, qg_tensor *node) {
    const bool sm = node->op == QG_OP_SOFT_MAX;
    const char *name = sm ? "soft_max" : "norm_rows";
    cl_kernel k;
    qg_status st = ocl_kernel(dev, OCL_FAM_NORM, -1, -1, name, &k);
    if (st != QG_OK) return st;
    ocl_args a = {.k = k};
    arg_tensor(&a, dev, node->src[0]);
    arg_int(&a, node->src[0]->type);
    if (sm) {
        const qg_tensor *m = node->src[1] ? node->src[1] : node->src[0]; /* any valid buffer when unmasked */
        arg_tensor(&a, dev, m);
        arg_int(&a, m->type);
        arg_int(&a, node->src[1] != NULL);
    }
    arg_tensor(&a, dev, node);
    arg_int(&a, node->type);
    arg_f32(&a, qg_op_param_f32(node, 0));
    if (!sm) arg_int(&a, node->op == QG_OP_RMS_NORM);
    const size_t global[2] = {NORM_WG, rows_of(node)}, local[2] = {NORM_WG, 1};
    return finish(dev, k, &a, name, 2, global, local);
}

qg_status ocl_op_rope(qg_plugin_device *dev, qg_tensor *node) {
    const qg_tensor *pos = node->src[1];
    cl_kernel k;
    qg_status st = ocl_kernel(dev, OCL_FAM_ROPE, -1, -1, "rope", &k);
    if (st != QG_OK) return st;
    ocl_args a = {.k = k};
    arg_tensor(&a, dev, node->src[0]);
    arg_int(&a, node->src[0]->type);
    arg_tensor_base(&a, dev, pos);
    arg_i64(&a, (int64_t)pos->nb[0]);
    arg_int(&a, pos->type == QG_TYPE_I64);
    arg_tensor(&a, dev, node);
    arg_int(&a, node->type);
    arg_int(&a, node->op_params[0]);
    arg_int(&a, node->op_params[1] == QG_ROPE_NEOX);
    arg_f32(&a, qg_op_param_f32(node, 2));
    arg_f32(&a, qg_op_param_f32(node, 3));
    const size_t global[2] = {(size_t)node->ne[0], rows_of(node)};
    return finish(dev, k, &a, "rope", 2, global, NULL);
}
