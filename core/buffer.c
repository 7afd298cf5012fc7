/* Host-side buffers on a backend: allocation, placing tensors, and moving bytes in and
 * out of tensors through the owning plugin. */
#include <stdlib.h>
#include <string.h>

#include "core/backend_impl.h"
#include "core/alloc.h"

static size_t align_up(size_t x, size_t a) { return a ? (x + a - 1) / a * a : x; }

qg_status qg_backend_alloc_buffer(qg_backend *be, size_t size, qg_buffer **out) {
    if (!be || !out) return qg_set_error(QG_ERR_INVALID_ARG, "qg_backend_alloc_buffer: NULL argument");
    *out = NULL;
    if (be->props.max_alloc && size > be->props.max_alloc)
        return qg_set_error(QG_ERR_NO_MEMORY, "%s: buffer of %zu bytes exceeds the device's limit of %zu",
                            be->props.name, size, be->props.max_alloc);
    qg_buffer *buf = qg_calloc(1, sizeof *buf);
    if (!buf) return qg_set_error(QG_ERR_NO_MEMORY, "qg_backend_alloc_buffer: out of memory");
    pthread_mutex_lock(&be->lock);
    qg_status st = be->vt->buffer_alloc(be->dev, size ? size : 1, &buf->pbuf, &buf->base);
    pthread_mutex_unlock(&be->lock);
    if (st != QG_OK) {
        qg_free(buf);
        return st;
    }
    buf->backend = be;
    buf->size = size;
    buf->alignment = be->props.alignment ? be->props.alignment : 1;
    *out = buf;
    return QG_OK;
}

qg_status qg_buffer_from_host(qg_backend *be, void *ptr, size_t size, qg_buffer **out) {
    if (!be || !ptr || !out) return qg_set_error(QG_ERR_INVALID_ARG, "qg_buffer_from_host: NULL argument");
    *out = NULL;
    if (!be->props.host_memory)
        return qg_set_error(QG_ERR_UNSUPPORTED, "%s cannot use host memory directly", be->props.name);
    qg_buffer *buf = qg_calloc(1, sizeof *buf);
    if (!buf) return qg_set_error(QG_ERR_NO_MEMORY, "qg_buffer_from_host: out of memory");
    buf->backend = be;
    buf->base = ptr;
    buf->size = size;
    buf->alignment = 1; /* a file mapping keeps its own layout (GGUF: 32 bytes) */
    *out = buf; /* pbuf stays NULL: bytes move with memcpy */
    return QG_OK;
}

void qg_buffer_free(qg_buffer *buf) {
    if (!buf) return;
    if (buf->pbuf) {
        pthread_mutex_lock(&buf->backend->lock);
        buf->backend->vt->buffer_free(buf->pbuf);
        pthread_mutex_unlock(&buf->backend->lock);
    }
    qg_free(buf);
}

size_t qg_buffer_size(const qg_buffer *buf) { return buf ? buf->size : 0; }

qg_backend *qg_buffer_backend(const qg_buffer *buf) { return buf ? buf->backend : NULL; }

qg_status qg_buffer_place(qg_buffer *buf, qg_tensor *t, size_t offset) {
    if (!buf || !t) return qg_set_error(QG_ERR_INVALID_ARG, "qg_buffer_place: NULL argument");
    size_t align = buf->alignment;
    size_t n = qg_nbytes(t);
    if (offset % align) return qg_set_error(QG_ERR_INVALID_ARG, "place %s: offset %zu not aligned to %zu", t->name, offset, align);
    if (offset > buf->size || n > buf->size - offset)
        return qg_set_error(QG_ERR_INVALID_ARG, "place %s: %zu bytes at %zu exceed the buffer (%zu bytes)", t->name, n,
                            offset, buf->size);
    t->data = (char *)buf->base + offset;
    t->buffer = buf;
    t->pbuf = buf->pbuf;
    return QG_OK;
}

qg_status qg_backend_alloc_ctx_tensors(qg_backend *be, qg_context *ctx, qg_buffer **out) {
    if (!be || !ctx || !out) return qg_set_error(QG_ERR_INVALID_ARG, "qg_backend_alloc_ctx_tensors: NULL argument");
    *out = NULL;
    size_t align = be->props.alignment ? be->props.alignment : 1;
    size_t total = 0;
    int n = qg_context_n_tensors(ctx);
    for (int i = 0; i < n; i++) {
        qg_tensor *t = qg_context_tensor(ctx, i);
        if (t->op == QG_OP_NONE && !t->view_src && !t->buffer) total = align_up(total, align) + qg_nbytes(t);
    }
    if (total == 0) return QG_OK;
    qg_buffer *buf = NULL;
    qg_status st = qg_backend_alloc_buffer(be, total, &buf);
    if (st != QG_OK) return st;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        qg_tensor *t = qg_context_tensor(ctx, i);
        if (t->op != QG_OP_NONE || t->view_src || t->buffer) continue;
        off = align_up(off, align);
        t->data = (char *)buf->base + off;
        t->buffer = buf;
        t->pbuf = buf->pbuf;
        off += qg_nbytes(t);
    }
    /* Views made before their owner had storage follow it now. */
    for (int i = 0; i < n; i++) {
        qg_tensor *t = qg_context_tensor(ctx, i);
        if (t->view_src && t->view_src->buffer == buf && !t->buffer) {
            t->data = (char *)t->view_src->data + t->view_offs;
            t->buffer = buf;
            t->pbuf = buf->pbuf;
        }
    }
    *out = buf;
    return QG_OK;
}

/* The buffer holding t and t's byte offset in it (views resolve through their owner). */
static qg_status locate(const qg_tensor *t, qg_buffer **buf, size_t *off) {
    const qg_tensor *root = t->view_src ? t->view_src : t;
    if (!root->buffer || !root->data)
        return qg_set_error(QG_ERR_INVALID_ARG, "tensor '%s' has no storage yet (allocate it or run qg_sched_alloc)",
                            t->name);
    *buf = root->buffer;
    *off = (size_t)((const char *)root->data - (const char *)root->buffer->base) + (t->view_src ? t->view_offs : 0);
    return QG_OK;
}

static qg_status check_range(const qg_tensor *t, size_t offset, size_t size) {
    size_t n = qg_nbytes(t);
    if (offset > n || size > n - offset)
        return qg_set_error(QG_ERR_INVALID_ARG, "tensor '%s': bytes %zu..%zu outside its %zu bytes", t->name, offset,
                            offset + size, n);
    return QG_OK;
}

qg_status qg_tensor_set(qg_tensor *t, const void *data, size_t offset, size_t size) {
    if (!t || (!data && size)) return qg_set_error(QG_ERR_INVALID_ARG, "qg_tensor_set: NULL argument");
    qg_buffer *buf = NULL;
    size_t off = 0;
    qg_status st = check_range(t, offset, size);
    if (st == QG_OK) st = locate(t, &buf, &off);
    if (st != QG_OK || size == 0) return st;
    if (!buf->pbuf) {
        memcpy((char *)buf->base + off + offset, data, size);
        return QG_OK;
    }
    pthread_mutex_lock(&buf->backend->lock);
    st = buf->backend->vt->buffer_set(buf->pbuf, off + offset, data, size);
    pthread_mutex_unlock(&buf->backend->lock);
    return st;
}

qg_status qg_tensor_get(const qg_tensor *t, void *data, size_t offset, size_t size) {
    if (!t || (!data && size)) return qg_set_error(QG_ERR_INVALID_ARG, "qg_tensor_get: NULL argument");
    qg_buffer *buf = NULL;
    size_t off = 0;
    qg_status st = check_range(t, offset, size);
    if (st == QG_OK) st = locate(t, &buf, &off);
    if (st != QG_OK || size == 0) return st;
    if (!buf->pbuf) {
        memcpy(data, (const char *)buf->base + off + offset, size);
        return QG_OK;
    }
    pthread_mutex_lock(&buf->backend->lock);
    st = buf->backend->vt->buffer_get(buf->pbuf, off + offset, data, size);
    pthread_mutex_unlock(&buf->backend->lock);
    return st;
}

qg_status qg_tensor_get_f32(const qg_tensor *t, float *dst) {
    if (!t || !dst) return qg_set_error(QG_ERR_INVALID_ARG, "qg_tensor_get_f32: NULL argument");
    if (!qg_is_contiguous(t)) return qg_set_error(QG_ERR_INVALID_ARG, "qg_tensor_get_f32: '%s' is not contiguous", t->name);
    const qg_type_traits *tt = qg_type_get(t->type);
    size_t n = qg_nbytes(t);
    void *tmp = qg_malloc(n ? n : 1);
    if (!tmp) return qg_set_error(QG_ERR_NO_MEMORY, "qg_tensor_get_f32: out of memory");
    qg_status st = qg_tensor_get(t, tmp, 0, n);
    if (st == QG_OK) tt->to_float(tmp, dst, qg_nelements(t));
    qg_free(tmp);
    return st;
}

qg_status qg_tensor_set_f32(qg_tensor *t, const float *src) {
    if (!t || !src) return qg_set_error(QG_ERR_INVALID_ARG, "qg_tensor_set_f32: NULL argument");
    if (!qg_is_contiguous(t)) return qg_set_error(QG_ERR_INVALID_ARG, "qg_tensor_set_f32: '%s' is not contiguous", t->name);
    const qg_type_traits *tt = qg_type_get(t->type);
    if (!tt->from_float)
        return qg_set_error(QG_ERR_UNSUPPORTED, "qg_tensor_set_f32: type %s of '%s' has no quantizer", tt->name, t->name);
    size_t n = qg_nbytes(t);
    void *tmp = qg_malloc(n ? n : 1);
    if (!tmp) return qg_set_error(QG_ERR_NO_MEMORY, "qg_tensor_set_f32: out of memory");
    tt->from_float(src, tmp, qg_nelements(t));
    qg_status st = qg_tensor_set(t, tmp, 0, n);
    qg_free(tmp);
    return st;
}
