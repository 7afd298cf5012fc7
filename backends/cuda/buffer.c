/* Buffers of the CUDA backend: one cudaMalloc block each (never managed memory); the
 * base handed to the host is the device pointer itself. Transfers go through the
 * device's stream, so they are ordered after all compute queued before them:
 * buffer_set/get copy through two pinned staging halves (while one half is on the
 * bus, the host fills or drains the other) and wait for the stream before returning.
 */
#include "cu.h"

#include <stdlib.h>
#include <string.h>

qg_status cu_buffer_alloc(qg_plugin_device *dev, size_t size, qg_plugin_buffer **buf, void **base) {
    if (!dev || !buf || !base) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: buffer_alloc given NULL");
    *buf = NULL;
    *base = NULL;
    qg_status st = cu_set_device(dev);
    if (st != QG_OK) return st;
    qg_plugin_buffer *b = calloc(1, sizeof *b);
    if (!b) return qg_set_error(QG_ERR_NO_MEMORY, "cuda: out of host memory for a buffer object");
    cudaError_t err = cudaMalloc(&b->ptr, size ? size : CU_ALIGN);
    if (err != cudaSuccess) {
        free(b);
        return cu_failf(err, "cudaMalloc of %zu bytes on %s", size, dev->name);
    }
    b->dev = dev;
    b->size = size;
    *buf = b;
    *base = b->ptr;
    return QG_OK;
}

void cu_buffer_free(qg_plugin_buffer *buf) {
    if (!buf) return;
    if (cu_set_device(buf->dev) == QG_OK) {
        cudaStreamSynchronize(buf->dev->stream); /* queued kernels may still use it */
        cudaFree(buf->ptr);
    }
    cudaGetLastError();
    free(buf);
}

static qg_status check_range(const qg_plugin_buffer *b, size_t offset, size_t size, const char *what) {
    if (!b) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: %s on a NULL buffer", what);
    if (offset > b->size || size > b->size - offset)
        return qg_set_error(QG_ERR_INVALID_ARG, "cuda: %s of %zu bytes at offset %zu is outside the %zu-byte buffer",
                            what, size, offset, b->size);
    return QG_OK;
}

qg_status cu_buffer_set(qg_plugin_buffer *buf, size_t offset, const void *src, size_t size) {
    qg_status st = check_range(buf, offset, size, "buffer_set");
    if (st != QG_OK || size == 0) return st;
    if (!src) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: buffer_set given NULL data");
    qg_plugin_device *dev = buf->dev;
    if ((st = cu_set_device(dev)) != QG_OK) return st;
    cudaError_t err = cudaSuccess;
    const char *what = "";
    for (size_t done = 0, k = 0; done < size && err == cudaSuccess; done += CU_STAGE_CHUNK, k ^= 1) {
        const size_t n = size - done < CU_STAGE_CHUNK ? size - done : CU_STAGE_CHUNK;
        what = "cudaEventSynchronize (staging)";
        err = cudaEventSynchronize(dev->stage_done[k]); /* the half's previous copy is done */
        if (err != cudaSuccess) break;
        memcpy(dev->stage[k], (const char *)src + done, n);
        what = "cudaMemcpyAsync (host to device)";
        err = cudaMemcpyAsync((char *)buf->ptr + offset + done, dev->stage[k], n, cudaMemcpyHostToDevice,
                              dev->stream);
        if (err == cudaSuccess) {
            what = "cudaEventRecord (staging)";
            err = cudaEventRecord(dev->stage_done[k], dev->stream);
        }
    }
    if (err == cudaSuccess) {
        what = "cudaStreamSynchronize";
        err = cudaStreamSynchronize(dev->stream);
    }
    return err == cudaSuccess ? QG_OK : cu_failf(err, "buffer_set of %zu bytes on %s: %s", size, dev->name, what);
}

qg_status cu_buffer_get(qg_plugin_buffer *buf, size_t offset, void *dst, size_t size) {
    qg_status st = check_range(buf, offset, size, "buffer_get");
    if (st != QG_OK || size == 0) return st;
    if (!dst) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: buffer_get given NULL destination");
    qg_plugin_device *dev = buf->dev;
    if ((st = cu_set_device(dev)) != QG_OK) return st;
    const size_t n_chunks = (size + CU_STAGE_CHUNK - 1) / CU_STAGE_CHUNK;
    cudaError_t err = cudaSuccess;
    const char *what = "";
    /* Chunk c goes to half c % 2; chunk c + 1 is queued before chunk c is drained. */
    for (size_t c = 0; c <= n_chunks && err == cudaSuccess; c++) {
        if (c < n_chunks) {
            const size_t done = c * CU_STAGE_CHUNK, n = size - done < CU_STAGE_CHUNK ? size - done : CU_STAGE_CHUNK;
            what = "cudaMemcpyAsync (device to host)";
            err = cudaMemcpyAsync(dev->stage[c & 1], (const char *)buf->ptr + offset + done, n,
                                  cudaMemcpyDeviceToHost, dev->stream);
            if (err == cudaSuccess) {
                what = "cudaEventRecord (staging)";
                err = cudaEventRecord(dev->stage_done[c & 1], dev->stream);
            }
        }
        if (err == cudaSuccess && c > 0) {
            const size_t p = c - 1, done = p * CU_STAGE_CHUNK;
            const size_t n = size - done < CU_STAGE_CHUNK ? size - done : CU_STAGE_CHUNK;
            what = "cudaEventSynchronize (device to host)";
            err = cudaEventSynchronize(dev->stage_done[p & 1]);
            if (err == cudaSuccess) memcpy((char *)dst + done, dev->stage[p & 1], n);
        }
    }
    return err == cudaSuccess ? QG_OK : cu_failf(err, "buffer_get of %zu bytes on %s: %s", size, dev->name, what);
}

qg_status cu_buffer_copy(qg_plugin_buffer *src, size_t src_offset, qg_plugin_buffer *dst, size_t dst_offset,
                         size_t size) {
    qg_status st = check_range(src, src_offset, size, "buffer_copy source");
    if (st == QG_OK) st = check_range(dst, dst_offset, size, "buffer_copy destination");
    if (st != QG_OK || size == 0) return st;
    if (src->dev != dst->dev)
        return qg_set_error(QG_ERR_INVALID_ARG, "cuda: buffer_copy between devices %s and %s", src->dev->name,
                            dst->dev->name);
    qg_plugin_device *dev = src->dev;
    if ((st = cu_set_device(dev)) != QG_OK) return st;
    const char *s = (const char *)src->ptr + src_offset;
    char *d = (char *)dst->ptr + dst_offset;
    cudaError_t err;
    if (s < d + size && d < s + size && s != d) {
        /* Overlapping ranges: cudaMemcpy's result is undefined there; go through scratch. */
        void *tmp = cu_scratch_get(dev, &dev->op_scratch, size);
        if (!tmp) return QG_ERR_NO_MEMORY;
        err = cudaMemcpyAsync(tmp, s, size, cudaMemcpyDeviceToDevice, dev->stream);
        if (err == cudaSuccess) err = cudaMemcpyAsync(d, tmp, size, cudaMemcpyDeviceToDevice, dev->stream);
    } else {
        err = s == d ? cudaSuccess : cudaMemcpyAsync(d, s, size, cudaMemcpyDeviceToDevice, dev->stream);
    }
    /* Queued on the stream: later compute and transfers see the copy; no host wait. */
    return err == cudaSuccess ? QG_OK : cu_failf(err, "buffer_copy of %zu bytes on %s", size, dev->name);
}

qg_status cu_buffer_clear(qg_plugin_buffer *buf, uint8_t value) {
    if (!buf) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: buffer_clear on a NULL buffer");
    if (buf->size == 0) return QG_OK;
    qg_status st = cu_set_device(buf->dev);
    if (st != QG_OK) return st;
    cudaError_t err = cudaMemsetAsync(buf->ptr, value, buf->size, buf->dev->stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize(buf->dev->stream);
    return err == cudaSuccess ? QG_OK : cu_failf(err, "buffer_clear of %zu bytes on %s", buf->size, buf->dev->name);
}
