/* Test plugin "fault": a host-memory backend (device "fault0") that fails on request.
 *
 * It computes ADD of two contiguous F32 tensors of the same shape and accepts the view
 * ops; everything else is left to other backends. Options, each counted from the moment
 * it is set and cleared by "0":
 *   "fail_compute_at" = N   the N-th compute() call fails with QG_ERR_BACKEND;
 *   "fail_alloc_at"   = N   the N-th buffer_alloc() fails with QG_ERR_NO_MEMORY.
 * get_option "computes" / "live_buffers" report how many compute calls ran and how many
 * buffers are allocated, so a test can check that a failed run freed what it took.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qg/plugin.h"

#define FAULT_ALIGNMENT 64

static const qg_host_api *host;

struct qg_plugin_device {
    long fail_compute_at, n_compute; /* n_compute counts calls since the option was set */
    long fail_alloc_at, n_alloc;
    long computes_total;
    long live_buffers;
};

struct qg_plugin_buffer {
    qg_plugin_device *dev;
    unsigned char *data;
    size_t size;
};

static qg_status f_init(const qg_host_api *h) {
    if (!h || h->abi_version != QG_PLUGIN_ABI_VERSION) return QG_ERR_PLUGIN;
    host = h;
    return QG_OK;
}

static void f_shutdown(void) { host = NULL; }

static qg_status f_device_count(int *count) {
    *count = 1;
    return QG_OK;
}

static qg_status f_device_props(int index, qg_device_props *props) {
    if (index != 0) return host->set_error(QG_ERR_NOT_FOUND, "fault: no device %d", index);
    memset(props, 0, sizeof *props);
    strcpy(props->name, "fault0");
    strcpy(props->description, "qgraph fault-injection test backend (F32 ADD)");
    strcpy(props->features, "f32");
    props->alignment = FAULT_ALIGNMENT;
    props->kind = QG_DEVICE_CPU;
    props->host_memory = true;
    return QG_OK;
}

static qg_status f_device_open(int index, qg_plugin_device **dev) {
    if (index != 0) return host->set_error(QG_ERR_NOT_FOUND, "fault: no device %d", index);
    *dev = calloc(1, sizeof **dev);
    if (!*dev) return host->set_error(QG_ERR_NO_MEMORY, "fault: out of memory");
    return QG_OK;
}

static void f_device_close(qg_plugin_device *dev) { free(dev); }

static qg_status parse_count(const char *key, const char *value, long *out) {
    char *end = NULL;
    long n = strtol(value, &end, 10);
    if (!end || *end || n < 0) return host->set_error(QG_ERR_INVALID_ARG, "fault: %s must be >= 0, not '%s'", key, value);
    *out = n;
    return QG_OK;
}

static qg_status f_set_option(qg_plugin_device *dev, const char *key, const char *value) {
    if (strcmp(key, "fail_compute_at") == 0) {
        dev->n_compute = 0;
        return parse_count(key, value, &dev->fail_compute_at);
    }
    if (strcmp(key, "fail_alloc_at") == 0) {
        dev->n_alloc = 0;
        return parse_count(key, value, &dev->fail_alloc_at);
    }
    return host->set_error(QG_ERR_NOT_FOUND, "fault: unknown option '%s'", key);
}

static qg_status f_get_option(qg_plugin_device *dev, const char *key, char *value, size_t size) {
    long v;
    if (strcmp(key, "computes") == 0) v = dev->computes_total;
    else if (strcmp(key, "live_buffers") == 0) v = dev->live_buffers;
    else return host->set_error(QG_ERR_NOT_FOUND, "fault: unknown option '%s'", key);
    int n = snprintf(value, size, "%ld", v);
    if (n < 0 || (size_t)n >= size) return host->set_error(QG_ERR_INVALID_ARG, "fault: value buffer too small");
    return QG_OK;
}

static qg_status f_buffer_alloc(qg_plugin_device *dev, size_t size, qg_plugin_buffer **buf, void **base) {
    if (dev->fail_alloc_at > 0 && ++dev->n_alloc == dev->fail_alloc_at)
        return host->set_error(QG_ERR_NO_MEMORY, "fault0: injected failure of buffer_alloc call %ld (%zu bytes)",
                               dev->n_alloc, size);
    size_t bytes = (size + FAULT_ALIGNMENT - 1) / FAULT_ALIGNMENT * FAULT_ALIGNMENT;
    if (bytes < size) return host->set_error(QG_ERR_NO_MEMORY, "fault0: size %zu overflows", size);
    if (bytes == 0) bytes = FAULT_ALIGNMENT;
    qg_plugin_buffer *b = calloc(1, sizeof *b);
    if (b) b->data = aligned_alloc(FAULT_ALIGNMENT, bytes);
    if (!b || !b->data) {
        free(b);
        return host->set_error(QG_ERR_NO_MEMORY, "fault0: cannot allocate %zu bytes", size);
    }
    b->dev = dev;
    b->size = size;
    dev->live_buffers++;
    *buf = b;
    *base = b->data;
    return QG_OK;
}

static void f_buffer_free(qg_plugin_buffer *buf) {
    if (!buf) return;
    buf->dev->live_buffers--;
    free(buf->data);
    free(buf);
}

static qg_status check_range(const qg_plugin_buffer *buf, size_t offset, size_t size) {
    if (offset > buf->size || size > buf->size - offset)
        return host->set_error(QG_ERR_INVALID_ARG, "fault0: range [%zu, +%zu) outside a buffer of %zu bytes",
                               offset, size, buf->size);
    return QG_OK;
}

static qg_status f_buffer_set(qg_plugin_buffer *buf, size_t offset, const void *src, size_t size) {
    qg_status st = check_range(buf, offset, size);
    if (st == QG_OK && size) memcpy(buf->data + offset, src, size);
    return st;
}

static qg_status f_buffer_get(qg_plugin_buffer *buf, size_t offset, void *dst, size_t size) {
    qg_status st = check_range(buf, offset, size);
    if (st == QG_OK && size) memcpy(dst, buf->data + offset, size);
    return st;
}

static qg_status f_buffer_copy(qg_plugin_buffer *src, size_t src_offset, qg_plugin_buffer *dst, size_t dst_offset,
                               size_t size) {
    qg_status st = check_range(src, src_offset, size);
    if (st == QG_OK) st = check_range(dst, dst_offset, size);
    if (st == QG_OK && size) memmove(dst->data + dst_offset, src->data + src_offset, size);
    return st;
}

static qg_status f_buffer_clear(qg_plugin_buffer *buf, uint8_t value) {
    memset(buf->data, value, buf->size);
    return QG_OK;
}

static bool is_view(qg_op op) {
    return op == QG_OP_VIEW || op == QG_OP_RESHAPE || op == QG_OP_PERMUTE || op == QG_OP_TRANSPOSE;
}

static bool contiguous_f32(const qg_tensor *t) {
    if (!t || t->type != QG_TYPE_F32 || t->nb[0] != sizeof(float)) return false;
    for (int d = 1; d < QG_MAX_DIMS; d++)
        if (t->nb[d] != t->nb[d - 1] * (size_t)t->ne[d - 1]) return false;
    return true;
}

static bool f_supports_op(qg_plugin_device *dev, const qg_tensor *node) {
    (void)dev;
    if (is_view(node->op)) return true;
    if (node->op != QG_OP_ADD) return false;
    const qg_tensor *a = node->src[0], *b = node->src[1];
    if (!contiguous_f32(node) || !contiguous_f32(a) || !contiguous_f32(b)) return false;
    for (int d = 0; d < QG_MAX_DIMS; d++)
        if (a->ne[d] != node->ne[d] || b->ne[d] != node->ne[d]) return false;
    return true;
}

static qg_status f_compute(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes) {
    dev->computes_total++;
    if (dev->fail_compute_at > 0 && ++dev->n_compute == dev->fail_compute_at)
        return host->set_error(QG_ERR_BACKEND, "fault0: injected failure of compute call %ld (%d nodes)",
                               dev->n_compute, n_nodes);
    for (int i = 0; i < n_nodes; i++) {
        qg_tensor *node = nodes[i];
        if (is_view(node->op)) continue;
        if (!f_supports_op(dev, node))
            return host->set_error(QG_ERR_UNSUPPORTED, "fault0: cannot compute node '%s'", node->name);
        const float *a = node->src[0]->data, *b = node->src[1]->data;
        float *d = node->data;
        int64_t n = node->ne[0] * node->ne[1] * node->ne[2] * node->ne[3];
        for (int64_t j = 0; j < n; j++) d[j] = a[j] + b[j];
    }
    return QG_OK;
}

static qg_status f_synchronize(qg_plugin_device *dev) {
    (void)dev;
    return QG_OK;
}

static const qg_plugin_vtable fault_vtable = {
    .abi_version = QG_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(qg_plugin_vtable),
    .name = "fault",
    .version = "1.0",
    .init = f_init,
    .shutdown = f_shutdown,
    .device_count = f_device_count,
    .device_props = f_device_props,
    .device_open = f_device_open,
    .device_close = f_device_close,
    .set_option = f_set_option,
    .get_option = f_get_option,
    .buffer_alloc = f_buffer_alloc,
    .buffer_free = f_buffer_free,
    .buffer_set = f_buffer_set,
    .buffer_get = f_buffer_get,
    .buffer_copy = f_buffer_copy,
    .buffer_clear = f_buffer_clear,
    .supports_op = f_supports_op,
    .compute = f_compute,
    .synchronize = f_synchronize,
};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &fault_vtable; }
