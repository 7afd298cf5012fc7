/* qgraph template backend: the smallest complete plugin, meant to be copied.
 *
 * One device, "template0", running on the host with one thread. It computes ADD (with
 * broadcasting) and MUL_MAT for F32 tensors of any strides (it walks nb[], so views,
 * transposes and permutes of the sources work), and accepts the view ops, which need no
 * work. Buffers are plain malloc'd host memory, so base addresses are real pointers and
 * a tensor's data is base + offset. It uses nothing from libqgraph but its headers: all
 * host services arrive through the qg_host_api passed to init().
 *
 * Options: "verbose" ("0"/"1") logs every compute() call through the host's log.
 */
#include <stdlib.h>
#include <string.h>

#include "qg/plugin.h"

#define TEMPLATE_ALIGNMENT 64

static const qg_host_api *host;

struct qg_plugin_device {
    int verbose;
};

struct qg_plugin_buffer {
    unsigned char *data;
    size_t size;
};

static qg_status tpl_init(const qg_host_api *h) {
    if (!h || h->abi_version != QG_PLUGIN_ABI_VERSION) return QG_ERR_PLUGIN;
    host = h;
    return QG_OK;
}

static void tpl_shutdown(void) { host = NULL; }

static qg_status tpl_device_count(int *count) {
    *count = 1;
    return QG_OK;
}

static qg_status tpl_device_props(int index, qg_device_props *props) {
    if (index != 0) return host->set_error(QG_ERR_NOT_FOUND, "template: no device %d", index);
    memset(props, 0, sizeof *props);
    strcpy(props->name, "template0");
    strcpy(props->description, "qgraph template backend (F32 ADD and MUL_MAT, 1 thread)");
    strcpy(props->features, "f32");
    props->alignment = TEMPLATE_ALIGNMENT;
    props->kind = QG_DEVICE_CPU;
    props->host_memory = true;
    return QG_OK;
}

static qg_status tpl_device_open(int index, qg_plugin_device **dev) {
    if (index != 0) return host->set_error(QG_ERR_NOT_FOUND, "template: no device %d", index);
    *dev = calloc(1, sizeof **dev);
    if (!*dev) return host->set_error(QG_ERR_NO_MEMORY, "template: out of memory");
    return QG_OK;
}

static void tpl_device_close(qg_plugin_device *dev) { free(dev); }

static qg_status tpl_set_option(qg_plugin_device *dev, const char *key, const char *value) {
    if (strcmp(key, "verbose") == 0) {
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
            return host->set_error(QG_ERR_INVALID_ARG, "template: verbose must be 0 or 1, not '%s'",
                                   value);
        dev->verbose = value[0] == '1';
        return QG_OK;
    }
    return host->set_error(QG_ERR_NOT_FOUND, "template: unknown option '%s'", key);
}

static qg_status tpl_get_option(qg_plugin_device *dev, const char *key, char *value, size_t size) {
    if (strcmp(key, "verbose") == 0) {
        if (size < 2) return host->set_error(QG_ERR_INVALID_ARG, "template: value buffer too small");
        value[0] = dev->verbose ? '1' : '0';
        value[1] = '\0';
        return QG_OK;
    }
    return host->set_error(QG_ERR_NOT_FOUND, "template: unknown option '%s'", key);
}

static qg_status tpl_buffer_alloc(qg_plugin_device *dev, size_t size, qg_plugin_buffer **buf,
                                  void **base) {
    (void)dev;
    /* round up so aligned_alloc's size rule holds; never hand out a NULL base */
    size_t bytes = (size + TEMPLATE_ALIGNMENT - 1) / TEMPLATE_ALIGNMENT * TEMPLATE_ALIGNMENT;
    if (bytes < size) return host->set_error(QG_ERR_NO_MEMORY, "template: size %zu overflows", size);
    if (bytes == 0) bytes = TEMPLATE_ALIGNMENT;
    qg_plugin_buffer *b = calloc(1, sizeof *b);
    if (b) b->data = aligned_alloc(TEMPLATE_ALIGNMENT, bytes);
    if (!b || !b->data) {
        free(b);
        return host->set_error(QG_ERR_NO_MEMORY, "template: cannot allocate %zu bytes", size);
    }
    b->size = size;
    *buf = b;
    *base = b->data;
    return QG_OK;
}

static void tpl_buffer_free(qg_plugin_buffer *buf) {
    if (!buf) return;
    free(buf->data);
    free(buf);
}

static qg_status check_range(const qg_plugin_buffer *buf, size_t offset, size_t size) {
    if (offset > buf->size || size > buf->size - offset)
        return host->set_error(QG_ERR_INVALID_ARG,
                               "template: range [%zu, +%zu) outside a buffer of %zu bytes", offset,
                               size, buf->size);
    return QG_OK;
}

static qg_status tpl_buffer_set(qg_plugin_buffer *buf, size_t offset, const void *src, size_t size) {
    qg_status st = check_range(buf, offset, size);
    if (st == QG_OK && size) memcpy(buf->data + offset, src, size);
    return st;
}

static qg_status tpl_buffer_get(qg_plugin_buffer *buf, size_t offset, void *dst, size_t size) {
    qg_status st = check_range(buf, offset, size);
    if (st == QG_OK && size) memcpy(dst, buf->data + offset, size);
    return st;
}

static qg_status tpl_buffer_copy(qg_plugin_buffer *src, size_t src_offset, qg_plugin_buffer *dst,
                                 size_t dst_offset, size_t size) {
    qg_status st = check_range(src, src_offset, size);
    if (st == QG_OK) st = check_range(dst, dst_offset, size);
    if (st == QG_OK && size) memmove(dst->data + dst_offset, src->data + src_offset, size);
    return st;
}

static qg_status tpl_buffer_clear(qg_plugin_buffer *buf, uint8_t value) {
    memset(buf->data, value, buf->size);
    return QG_OK;
}

static bool is_view(qg_op op) {
    return op == QG_OP_VIEW || op == QG_OP_RESHAPE || op == QG_OP_PERMUTE || op == QG_OP_TRANSPOSE;
}

static bool all_f32(const qg_tensor *node, int n_src) {
    if (node->type != QG_TYPE_F32) return false;
    for (int i = 0; i < n_src; i++)
        if (!node->src[i] || node->src[i]->type != QG_TYPE_F32) return false;
    return true;
}

static bool tpl_supports_op(qg_plugin_device *dev, const qg_tensor *node) {
    (void)dev;
    if (is_view(node->op)) return true;
    switch (node->op) {
    case QG_OP_ADD: {
        if (!all_f32(node, 2)) return false;
        for (int d = 0; d < QG_MAX_DIMS; d++)
            if (node->src[1]->ne[d] <= 0 || node->src[0]->ne[d] % node->src[1]->ne[d] != 0)
                return false;
        return true;
    }
    case QG_OP_MUL_MAT: {
        if (!all_f32(node, 2)) return false;
        const qg_tensor *w = node->src[0], *x = node->src[1];
        return w->ne[0] == x->ne[0] && w->ne[2] > 0 && w->ne[3] > 0 && x->ne[2] % w->ne[2] == 0 &&
               x->ne[3] % w->ne[3] == 0;
    }
    default:
        return false;
    }
}

/* Address of element (i0, i1, i2, i3) of an F32 tensor, through its byte strides. */
static inline float *at(const qg_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return (float *)((char *)t->data + i0 * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2] +
                     i3 * t->nb[3]);
}

static void compute_add(qg_tensor *dst) {
    const qg_tensor *a = dst->src[0], *b = dst->src[1];
    for (int64_t i3 = 0; i3 < dst->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < dst->ne[2]; i2++)
            for (int64_t i1 = 0; i1 < dst->ne[1]; i1++)
                for (int64_t i0 = 0; i0 < dst->ne[0]; i0++)
                    *at(dst, i0, i1, i2, i3) =
                        *at(a, i0, i1, i2, i3) + *at(b, i0 % b->ne[0], i1 % b->ne[1],
                                                     i2 % b->ne[2], i3 % b->ne[3]);
}

/* dst[i, j] = sum_k w[k, i] * x[k, j]; w's dims 2 and 3 are broadcast over x's. */
static void compute_mul_mat(qg_tensor *dst) {
    const qg_tensor *w = dst->src[0], *x = dst->src[1];
    const int64_t k = w->ne[0], r2 = x->ne[2] / w->ne[2], r3 = x->ne[3] / w->ne[3];
    for (int64_t i3 = 0; i3 < dst->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < dst->ne[2]; i2++)
            for (int64_t j = 0; j < dst->ne[1]; j++)
                for (int64_t i = 0; i < dst->ne[0]; i++) {
                    double sum = 0.0;
                    for (int64_t kk = 0; kk < k; kk++)
                        sum += (double)*at(w, kk, i, i2 / r2, i3 / r3) * *at(x, kk, j, i2, i3);
                    *at(dst, i, j, i2, i3) = (float)sum;
                }
}

static qg_status tpl_compute(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes) {
    if (dev->verbose) host->log(QG_LOG_INFO, "template0: computing %d nodes", n_nodes);
    for (int i = 0; i < n_nodes; i++) {
        qg_tensor *node = nodes[i];
        if (is_view(node->op)) continue;
        if (!tpl_supports_op(dev, node))
            return host->set_error(QG_ERR_UNSUPPORTED, "template0: cannot compute node '%s' (op %d)",
                                   node->name, (int)node->op);
        if (!node->data || !node->src[0]->data || !node->src[1]->data)
            return host->set_error(QG_ERR_BACKEND, "template0: node '%s' has unallocated tensors",
                                   node->name);
        if (node->op == QG_OP_ADD) compute_add(node);
        else compute_mul_mat(node);
    }
    return QG_OK;
}

/* compute() finishes its work before returning, so there is nothing to wait for. */
static qg_status tpl_synchronize(qg_plugin_device *dev) {
    (void)dev;
    return QG_OK;
}

static const qg_plugin_vtable template_vtable = {
    .abi_version = QG_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(qg_plugin_vtable),
    .name = "template",
    .version = "1.0",
    .init = tpl_init,
    .shutdown = tpl_shutdown,
    .device_count = tpl_device_count,
    .device_props = tpl_device_props,
    .device_open = tpl_device_open,
    .device_close = tpl_device_close,
    .set_option = tpl_set_option,
    .get_option = tpl_get_option,
    .buffer_alloc = tpl_buffer_alloc,
    .buffer_free = tpl_buffer_free,
    .buffer_set = tpl_buffer_set,
    .buffer_get = tpl_buffer_get,
    .buffer_copy = tpl_buffer_copy,
    .buffer_clear = tpl_buffer_clear,
    .supports_op = tpl_supports_op,
    .compute = tpl_compute,
    .synchronize = tpl_synchronize,
    /* no events: compute() is synchronous */
};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &template_vtable; }
