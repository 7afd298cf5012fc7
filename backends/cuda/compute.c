/* compute() of the CUDA backend: checks every node, queues each node's kernels on the
 * device stream in order, and returns without waiting, except after a split with
 * GET_ROWS/SET_ROWS: row ids are data, so the kernels raise a device flag on a bad id and
 * the call waits for the stream and reports the first such node. Also the grow-only
 * scratch memory and the environment lent to the mul_mat kernels (mm.h).
 */
#include "cu.h"
#include "mm.h"

#include <stdio.h>
#include <string.h>

void *cu_scratch_get(qg_plugin_device *dev, cu_scratch *s, size_t size) {
    if (size <= s->size && s->ptr) return s->ptr;
    /* Grow by at least 1.5x so a slowly growing sequence does not reallocate each time. */
    size_t want = s->size + s->size / 2;
    if (want < size) want = size;
    want = (want + CU_ALIGN - 1) / CU_ALIGN * CU_ALIGN;
    if (s->ptr) {
        cudaError_t err = cudaStreamSynchronize(dev->stream); /* queued kernels may use it */
        if (err != cudaSuccess) {
            cu_failf(err, "%s: waiting for the stream before growing scratch", dev->name);
            return NULL;
        }
        cudaFree(s->ptr);
        s->ptr = NULL;
        s->size = 0;
    }
    cudaError_t err = cudaMalloc(&s->ptr, want);
    if (err != cudaSuccess) {
        s->ptr = NULL;
        cu_failf(err, "%s: cudaMalloc of %zu bytes of scratch", dev->name, want);
        return NULL;
    }
    s->size = want;
    return s->ptr;
}

void cu_scratch_free(cu_scratch *s) {
    if (s->ptr) cudaFree(s->ptr);
    s->ptr = NULL;
    s->size = 0;
}

void cu_tensor_of(const qg_tensor *t, cu_tensor *out) {
    out->type = (int)t->type;
    for (int i = 0; i < 4; i++) {
        out->ne[i] = t->ne[i];
        out->nb[i] = (int64_t)t->nb[i];
    }
    out->data = (char *)t->data;
}

static void *mm_scratch(void *user, size_t bytes) {
    qg_plugin_device *dev = user;
    return cu_scratch_get(dev, &dev->mm_scratch, bytes);
}

static bool needs_work(const qg_tensor *node) { return node->op != QG_OP_NONE && !qg_op_is_view(node->op); }

static qg_status run_node(qg_plugin_device *dev, qg_tensor *node) {
    switch (node->op) {
    case QG_OP_ADD:
    case QG_OP_MUL:
        return cu_op_binary(dev, node);
    case QG_OP_SCALE:
    case QG_OP_SILU:
    case QG_OP_GELU:
        return cu_op_unary(dev, node);
    case QG_OP_RMS_NORM:
    case QG_OP_NORM:
        return cu_op_norm(dev, node);
    case QG_OP_SOFT_MAX:
        return cu_op_soft_max(dev, node);
    case QG_OP_ROPE:
        return cu_op_rope(dev, node);
    case QG_OP_GET_ROWS:
        return cu_op_get_rows(dev, node);
    case QG_OP_SET_ROWS:
        return cu_op_set_rows(dev, node);
    case QG_OP_CPY:
        return cu_op_cpy(dev, node);
    case QG_OP_MUL_MAT: {
        qgcu_mm_env env = {.stream = dev->stream, .device = dev->index, .cc = dev->cc, .sm_count = dev->sm_count,
                           .scratch = mm_scratch, .user = dev};
        return qgcu_mul_mat(&env, node);
    }
    default:
        return qg_set_error(QG_ERR_UNSUPPORTED, "cuda: no kernel for %s", qg_op_name(node->op));
    }
}

/* Whether every tensor the node touches lies in a buffer of this device. */
static bool on_device(const qg_plugin_device *dev, const qg_tensor *t) {
    return t->data && t->pbuf && t->pbuf->dev == dev && (const char *)t->data >= (const char *)t->pbuf->ptr &&
           (size_t)((const char *)t->data - (const char *)t->pbuf->ptr) + qg_nbytes(t) <= t->pbuf->size;
}

static qg_status check_node(const qg_plugin_device *dev, const qg_tensor *node) {
    if (!node) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: NULL node passed to compute");
    if ((unsigned)node->op >= QG_OP_COUNT)
        return qg_set_error(QG_ERR_UNSUPPORTED, "cuda: node '%s' has unknown op %d", node->name, (int)node->op);
    if (!needs_work(node)) return QG_OK;
    if (!cu_supports_op(dev, node))
        return qg_set_error(QG_ERR_UNSUPPORTED, "cuda: %s cannot run %s node '%s' (types/shapes/strides)", dev->name,
                            qg_op_name(node->op), node->name);
    if (!on_device(dev, node))
        return qg_set_error(QG_ERR_INVALID_ARG, "cuda: %s node '%s': result is not stored in a buffer of %s",
                            qg_op_name(node->op), node->name, dev->name);
    for (int s = 0; s < QG_MAX_SRC; s++)
        if (node->src[s] && !on_device(dev, node->src[s]))
            return qg_set_error(QG_ERR_INVALID_ARG, "cuda: %s node '%s': source '%s' is not stored in a buffer of %s",
                                qg_op_name(node->op), node->name, node->src[s]->name, dev->name);
    return QG_OK;
}

qg_status cu_compute(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes) {
    if (n_nodes < 0 || (n_nodes > 0 && !nodes))
        return qg_set_error(QG_ERR_INVALID_ARG, "cuda: compute given %d nodes and a NULL list", n_nodes);
    for (int i = 0; i < n_nodes; i++) {
        qg_status st = check_node(dev, nodes[i]);
        if (st != QG_OK) return st;
    }
    int first_rows = -1;
    for (int i = 0; i < n_nodes; i++) {
        qg_tensor *node = nodes[i];
        if (!needs_work(node)) continue;
        if (first_rows < 0 && (node->op == QG_OP_GET_ROWS || node->op == QG_OP_SET_ROWS)) first_rows = i;
        qg_status st = run_node(dev, node);
        if (st == QG_OK) {
            cudaError_t err = cudaPeekAtLastError();
            if (err != cudaSuccess) st = cu_fail(err, "kernel launch");
        }
        if (st != QG_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", qg_last_error());
            cudaStreamSynchronize(dev->stream);
            cudaGetLastError();
            return qg_set_error(st, "cuda: %s node '%s': %s", qg_op_name(node->op), node->name, msg);
        }
    }
    if (first_rows < 0) return QG_OK;
    cudaError_t err = cudaMemcpyAsync(dev->err_host, dev->err_dev, 2 * sizeof(int), cudaMemcpyDeviceToHost,
                                      dev->stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize(dev->stream);
    if (err != cudaSuccess) return cu_failf(err, "%s: waiting for a split with row ops", dev->name);
    if (dev->err_host[0]) {
        const int bad = dev->err_host[1];
        err = cudaMemsetAsync(dev->err_dev, 0, 2 * sizeof(int), dev->stream);
        if (err != cudaSuccess) return cu_fail(err, "cudaMemsetAsync (error flag)");
        const qg_tensor *node = nodes[first_rows];
        return qg_set_error(QG_ERR_INVALID_ARG,
                            "cuda: %s node '%s' (or a later row node of this split): row id %d of '%s' is out of range",
                            qg_op_name(node->op), node->name, bad, node->src[1] ? node->src[1]->name : "?");
    }
    return QG_OK;
}
