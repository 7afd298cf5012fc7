/* Buffers of the OpenCL backend: one cl_mem each. The base address handed to the host
 * is a token from a private address range (never dereferenced), distinct per buffer so
 * address ranges of different buffers never overlap. Transfers are blocking and go
 * through the device's in-order queue, so they see all compute queued before them.
 */
#include "ocl.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_BASE ((uintptr_t)1 << 44)
#define TOKEN_SPAN ((uintptr_t)1 << 40) /* address space reserved per buffer */

static atomic_uintptr_t next_token;

qg_status ocl_buffer_alloc(qg_plugin_device *dev, size_t size, qg_plugin_buffer **buf, void **base) {
    if (!dev || !buf || !base) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: buffer_alloc given NULL");
    *buf = NULL;
    *base = NULL;
    if (size >= TOKEN_SPAN)
        return qg_set_error(QG_ERR_NO_MEMORY, "opencl: buffer of %zu bytes is too large for %s", size, dev->name);
    qg_plugin_buffer *b = calloc(1, sizeof *b);
    if (!b) return qg_set_error(QG_ERR_NO_MEMORY, "opencl: out of host memory for a buffer object");
    cl_int err;
    b->mem = clCreateBuffer(dev->ctx, CL_MEM_READ_WRITE, size ? size : 1, NULL, &err);
    if (!b->mem) {
        free(b);
        char what[128];
        snprintf(what, sizeof what, "clCreateBuffer of %zu bytes on %s", size, dev->name);
        return ocl_fail(err, what);
    }
    uintptr_t n = atomic_fetch_add(&next_token, 1) % ((UINTPTR_MAX - TOKEN_BASE) / TOKEN_SPAN);
    b->dev = dev;
    b->size = size;
    b->base = (char *)(TOKEN_BASE + n * TOKEN_SPAN);
    *buf = b;
    *base = b->base;
    return QG_OK;
}

void ocl_buffer_free(qg_plugin_buffer *buf) {
    if (!buf) return;
    clFinish(buf->dev->queue);
    clReleaseMemObject(buf->mem);
    free(buf);
}

static qg_status check_range(const qg_plugin_buffer *b, size_t offset, size_t size, const char *what) {
    if (!b) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: %s on a NULL buffer", what);
    if (offset > b->size || size > b->size - offset)
        return qg_set_error(QG_ERR_INVALID_ARG,
                            "opencl: %s of %zu bytes at offset %zu is outside the %zu-byte buffer", what, size,
                            offset, b->size);
    return QG_OK;
}

qg_status ocl_buffer_set(qg_plugin_buffer *buf, size_t offset, const void *src, size_t size) {
    qg_status st = check_range(buf, offset, size, "buffer_set");
    if (st != QG_OK || size == 0) return st;
    if (!src) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: buffer_set given NULL data");
    cl_int err = clEnqueueWriteBuffer(buf->dev->queue, buf->mem, CL_TRUE, offset, size, src, 0, NULL, NULL);
    return err == CL_SUCCESS ? QG_OK : ocl_fail(err, "clEnqueueWriteBuffer");
}

qg_status ocl_buffer_get(qg_plugin_buffer *buf, size_t offset, void *dst, size_t size) {
    qg_status st = check_range(buf, offset, size, "buffer_get");
    if (st != QG_OK || size == 0) return st;
    if (!dst) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: buffer_get given NULL destination");
    cl_int err = clEnqueueReadBuffer(buf->dev->queue, buf->mem, CL_TRUE, offset, size, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? QG_OK : ocl_fail(err, "clEnqueueReadBuffer");
}

qg_status ocl_buffer_copy(qg_plugin_buffer *src, size_t src_offset, qg_plugin_buffer *dst, size_t dst_offset,
                          size_t size) {
    qg_status st = check_range(src, src_offset, size, "buffer_copy source");
    if (st == QG_OK) st = check_range(dst, dst_offset, size, "buffer_copy destination");
    if (st != QG_OK || size == 0) return st;
    if (src->dev != dst->dev)
        return qg_set_error(QG_ERR_INVALID_ARG, "opencl: buffer_copy between devices %s and %s", src->dev->name,
                            dst->dev->name);
    const bool overlap = src->mem == dst->mem && src_offset < dst_offset + size && dst_offset < src_offset + size;
    if (overlap) { /* OpenCL refuses overlapping copies: stage through the host */
        void *tmp = malloc(size);
        if (!tmp) return qg_set_error(QG_ERR_NO_MEMORY, "opencl: no host memory to stage a %zu-byte copy", size);
        st = ocl_buffer_get(src, src_offset, tmp, size);
        if (st == QG_OK) st = ocl_buffer_set(dst, dst_offset, tmp, size);
        free(tmp);
        return st;
    }
    cl_int err = clEnqueueCopyBuffer(src->dev->queue, src->mem, dst->mem, src_offset, dst_offset, size, 0, NULL,
                                     NULL);
    return err == CL_SUCCESS ? QG_OK : ocl_fail(err, "clEnqueueCopyBuffer");
}

qg_status ocl_buffer_clear(qg_plugin_buffer *buf, uint8_t value) {
    if (!buf) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: buffer_clear on a NULL buffer");
    if (buf->size == 0) return QG_OK;
    cl_int err = clEnqueueFillBuffer(buf->dev->queue, buf->mem, &value, 1, 0, buf->size, 0, NULL, NULL);
    if (err == CL_SUCCESS) err = clFinish(buf->dev->queue);
    return err == CL_SUCCESS ? QG_OK : ocl_fail(err, "clEnqueueFillBuffer");
}
