/* compute() of the OpenCL backend: checks each node, enqueues its kernels on the
 * device's in-order queue, then waits for the queue and reads the row-id error flag, so
 * a bad row id (data, known only on the device) fails the call that ran it. Also the
 * kernel-argument helpers, launch and the scratch buffer shared by the op files.
 */
#include "ocl.h"

#include <stdio.h>
#include <string.h>

void arg_mem(ocl_args *a, cl_mem m) {
    if (a->err == CL_SUCCESS && a->st == QG_OK) a->err = clSetKernelArg(a->k, a->i, sizeof m, &m);
    a->i++;
}
void arg_u64(ocl_args *a, uint64_t v) {
    cl_ulong x = v;
    if (a->err == CL_SUCCESS && a->st == QG_OK) a->err = clSetKernelArg(a->k, a->i, sizeof x, &x);
    a->i++;
}
void arg_i64(ocl_args *a, int64_t v) {
    cl_long x = v;
    if (a->err == CL_SUCCESS && a->st == QG_OK) a->err = clSetKernelArg(a->k, a->i, sizeof x, &x);
    a->i++;
}
void arg_int(ocl_args *a, int v) {
    cl_int x = v;
    if (a->err == CL_SUCCESS && a->st == QG_OK) a->err = clSetKernelArg(a->k, a->i, sizeof x, &x);
    a->i++;
}
void arg_f32(ocl_args *a, float v) {
    cl_float x = v;
    if (a->err == CL_SUCCESS && a->st == QG_OK) a->err = clSetKernelArg(a->k, a->i, sizeof x, &x);
    a->i++;
}

static void arg_long4(ocl_args *a, const int64_t v[4]) {
    cl_long4 x;
    for (int i = 0; i < 4; i++) x.s[i] = v[i];
    if (a->err == CL_SUCCESS && a->st == QG_OK) a->err = clSetKernelArg(a->k, a->i, sizeof x, &x);
    a->i++;
}

void arg_tensor_base(ocl_args *a, qg_plugin_device *dev, const qg_tensor *t) {
    const qg_plugin_buffer *b = t->pbuf;
    if (a->st == QG_OK) {
        if (!b || b->dev != dev || !t->data)
            a->st = qg_set_error(QG_ERR_INVALID_ARG, "opencl: tensor '%s' is not stored in a buffer of %s", t->name,
                                 dev->name);
        else if ((char *)t->data < b->base || (size_t)((char *)t->data - b->base) + qg_nbytes(t) > b->size)
            a->st = qg_set_error(QG_ERR_INVALID_ARG, "opencl: tensor '%s' (%zu bytes) lies outside its %zu-byte buffer",
                                 t->name, qg_nbytes(t), b->size);
    }
    if (a->st != QG_OK) {
        a->i += 2;
        return;
    }
    arg_mem(a, b->mem);
    arg_u64(a, (uint64_t)((char *)t->data - b->base));
}

void arg_tensor(ocl_args *a, qg_plugin_device *dev, const qg_tensor *t) {
    int64_t nb[4];
    for (int i = 0; i < 4; i++) nb[i] = (int64_t)t->nb[i];
    arg_tensor_base(a, dev, t);
    arg_long4(a, t->ne);
    arg_long4(a, nb);
}

qg_status args_done(ocl_args *a, const char *kernel) {
    if (a->st != QG_OK) return a->st;
    if (a->err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clSetKernelArg(%s, %u)", kernel, a->i - 1);
        return ocl_fail(a->err, what);
    }
    return QG_OK;
}

qg_status ocl_launch(qg_plugin_device *dev, cl_kernel k, int dims, const size_t *global, const size_t *local,
                     const char *what) {
    size_t g[3];
    for (int i = 0; i < dims; i++) {
        size_t l = local ? local[i] : 1;
        if (global[i] == 0) return QG_OK; /* nothing to do */
        g[i] = (global[i] + l - 1) / l * l;
    }
    cl_int err = clEnqueueNDRangeKernel(dev->queue, k, (cl_uint)dims, NULL, g, local, 0, NULL, NULL);
    return err == CL_SUCCESS ? QG_OK : ocl_fail(err, what);
}

qg_status ocl_scratch(qg_plugin_device *dev, size_t size) {
    if (size <= dev->scratch_size) return QG_OK;
    if (dev->scratch) clReleaseMemObject(dev->scratch); /* freed once queued users finish */
    dev->scratch = NULL;
    dev->scratch_size = 0;
    cl_int err;
    dev->scratch = clCreateBuffer(dev->ctx, CL_MEM_READ_WRITE, size, NULL, &err);
    if (!dev->scratch) return ocl_fail(err, "clCreateBuffer (mul_mat scratch)");
    dev->scratch_size = size;
    return QG_OK;
}

static bool needs_work(const qg_tensor *node) { return node->op != QG_OP_NONE && !qg_op_is_view(node->op); }

static qg_status run_node(qg_plugin_device *dev, qg_tensor *node) {
    switch (node->op) {
    case QG_OP_ADD:
    case QG_OP_MUL:
    case QG_OP_SCALE:
    case QG_OP_SILU:
    case QG_OP_GELU:
        return ocl_op_elementwise(dev, node);
    case QG_OP_RMS_NORM:
    case QG_OP_NORM:
    case QG_OP_SOFT_MAX:
        return ocl_op_norm(dev, node);
    case QG_OP_ROPE:
        return ocl_op_rope(dev, node);
    case QG_OP_GET_ROWS:
    case QG_OP_SET_ROWS:
    case QG_OP_CPY:
        return ocl_op_rows(dev, node);
    case QG_OP_MUL_MAT:
        return ocl_op_mul_mat(dev, node);
    default:
        return qg_set_error(QG_ERR_UNSUPPORTED, "opencl: no kernel for %s", qg_op_name(node->op));
    }
}

qg_status ocl_compute(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes) {
    if (n_nodes < 0 || (n_nodes > 0 && !nodes))
        return qg_set_error(QG_ERR_INVALID_ARG, "opencl: compute given %d nodes and a NULL list", n_nodes);
    for (int i = 0; i < n_nodes; i++) {
        const qg_tensor *node = nodes[i];
        if (!node) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: NULL node passed to compute");
        if ((unsigned)node->op >= QG_OP_COUNT)
            return qg_set_error(QG_ERR_UNSUPPORTED, "opencl: node '%s' has unknown op %d", node->name, (int)node->op);
        if (needs_work(node) && !ocl_supports_op(dev, node))
            return qg_set_error(QG_ERR_UNSUPPORTED, "opencl: %s cannot run %s node '%s' (types/shapes/strides)",
                                dev->name, qg_op_name(node->op), node->name);
    }
    const cl_int zero[2] = {0, 0};
    cl_int err = clEnqueueWriteBuffer(dev->queue, dev->err, CL_FALSE, 0, sizeof zero, zero, 0, NULL, NULL);
    if (err != CL_SUCCESS) return ocl_fail(err, "clEnqueueWriteBuffer (error flag)");
    int first_rows = -1;
    for (int i = 0; i < n_nodes; i++) {
        qg_tensor *node = nodes[i];
        if (!needs_work(node)) continue;
        if (first_rows < 0 && (node->op == QG_OP_GET_ROWS || node->op == QG_OP_SET_ROWS)) first_rows = i;
        qg_status st = run_node(dev, node);
        if (st != QG_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", qg_last_error());
            clFinish(dev->queue);
            return qg_set_error(st, "opencl: %s node '%s': %s", qg_op_name(node->op), node->name, msg);
        }
    }
    cl_int flag[2] = {0, 0};
    err = clEnqueueReadBuffer(dev->queue, dev->err, CL_TRUE, 0, sizeof flag, flag, 0, NULL, NULL);
    if (err != CL_SUCCESS) return ocl_fail(err, "waiting for compute (clEnqueueReadBuffer)");
    if (flag[0]) {
        const qg_tensor *node = nodes[first_rows >= 0 ? first_rows : 0];
        return qg_set_error(QG_ERR_INVALID_ARG,
                            "opencl: %s node '%s' (or a later row node of this split): row id %d of '%s' is out of range",
                            qg_op_name(node->op), node->name, (int)flag[1], node->src[1] ? node->src[1]->name : "?");
    }
    return QG_OK;
}
