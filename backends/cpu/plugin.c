/* libqg-cpu.so: the CPU backend plugin. Two devices: "cpu" (the best kernels for this
 * processor) and "cpu-ref" (always the scalar reference kernels, the oracle other
 * backends are tested against). Buffers are 64-byte aligned host memory; compute runs
 * on a persistent per-device thread pool sized by the "threads" option.
 */
#include "cpu.h"
#include "simd.h"
#include "cpuinfo.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_DEVICES 2

static const char *const device_names[N_DEVICES] = {"cpu", "cpu-ref"};

static qg_status cpu_init(const qg_host_api *host) {
    if (!host) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: init given no host services");
    if (host->abi_version != QG_PLUGIN_ABI_VERSION)
        return qg_set_error(QG_ERR_PLUGIN, "cpu: host ABI version %u, plugin built for %d", host->abi_version,
                            QG_PLUGIN_ABI_VERSION);
    return QG_OK;
}

static void cpu_shutdown(void) {}

static qg_status cpu_device_count(int *count) {
    if (!count) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: device_count given NULL");
    *count = N_DEVICES;
    return QG_OK;
}

static qg_status check_index(int index) {
    if (index < 0 || index >= N_DEVICES)
        return qg_set_error(QG_ERR_NOT_FOUND, "cpu: no device %d (the plugin has %d)", index, N_DEVICES);
    return QG_OK;
}

static void fill_props(int index, int n_threads, qg_device_props *p) {
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", device_names[index]);
    char model[96];
    cpu_model_name(model, sizeof model);
    const cpu_simd_fns *simd = index == 0 ? cpu_simd_best() : NULL;
    snprintf(p->description, sizeof p->description, "%s (%s kernels, %d threads)", model,
             simd ? simd->name : cpu_kernels_ref.name, n_threads);
    cpu_features(p->features, sizeof p->features);
    cpu_memory(&p->memory_total, &p->memory_free);
    p->alignment = CPU_ALIGN;
    p->max_alloc = 0;
    p->kind = QG_DEVICE_CPU;
    p->host_memory = true;
    p->is_software = false;
}

static qg_status cpu_device_props(int index, qg_device_props *props) {
    qg_status st = check_index(index);
    if (st != QG_OK) return st;
    if (!props) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: device_props given NULL");
    fill_props(index, cpu_online_cores(), props);
    return QG_OK;
}

static qg_status cpu_device_open(int index, qg_plugin_device **out) {
    qg_status st = check_index(index);
    if (st != QG_OK) return st;
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: device_open given NULL");
    *out = NULL;
    qg_plugin_device *dev = calloc(1, sizeof *dev);
    if (!dev) return qg_set_error(QG_ERR_NO_MEMORY, "cpu: out of memory opening %s", device_names[index]);
    dev->index = index;
    dev->name = device_names[index];
    dev->n_threads = cpu_online_cores();
    dev->kernels = index == 0 ? cpu_kernels_best() : &cpu_kernels_ref;
    st = cpu_pool_new(dev->n_threads, &dev->pool);
    if (st != QG_OK) {
        free(dev);
        return st;
    }
    *out = dev;
    return QG_OK;
}

static void cpu_device_close(qg_plugin_device *dev) {
    if (!dev) return;
    cpu_pool_free(dev->pool);
    free(dev->scratch);
    free(dev);
}

static qg_status parse_threads(const char *value, int *out) {
    errno = 0;
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (end == value || *end != '\0' || errno != 0 || v < 1 || v > CPU_MAX_THREADS)
        return qg_set_error(QG_ERR_INVALID_ARG, "cpu: option threads=\"%s\": expected an integer in 1..%d", value,
                            CPU_MAX_THREADS);
    *out = (int)v;
    return QG_OK;
}

static qg_status cpu_set_option(qg_plugin_device *dev, const char *key, const char *value) {
    if (!dev || !key || !value) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: set_option given NULL");
    if (strcmp(key, "threads") != 0) return qg_set_error(QG_ERR_NOT_FOUND, "cpu: unknown option \"%s\"", key);
    int n = 0;
    qg_status st = parse_threads(value, &n);
    if (st != QG_OK) return st;
    if (n == dev->n_threads) return QG_OK;
    cpu_pool *pool;
    st = cpu_pool_new(n, &pool);
    if (st != QG_OK) return st;
    cpu_pool_free(dev->pool);
    dev->pool = pool;
    dev->n_threads = n;
    return QG_OK;
}

static qg_status cpu_get_option(qg_plugin_device *dev, const char *key, char *value, size_t size) {
    if (!dev || !key || !value) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: get_option given NULL");
    if (strcmp(key, "threads") != 0) return qg_set_error(QG_ERR_NOT_FOUND, "cpu: unknown option \"%s\"", key);
    int n = snprintf(value, size, "%d", dev->n_threads);
    if (n < 0 || (size_t)n >= size)
        return qg_set_error(QG_ERR_INVALID_ARG, "cpu: option threads needs %d bytes, buffer has %zu", n + 1, size);
    return QG_OK;
}

static qg_status cpu_buffer_alloc(qg_plugin_device *dev, size_t size, qg_plugin_buffer **buf, void **base) {
    if (!dev || !buf || !base) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: buffer_alloc given NULL");
    *buf = NULL;
    *base = NULL;
    if (size > SIZE_MAX - CPU_ALIGN)
        return qg_set_error(QG_ERR_NO_MEMORY, "cpu: buffer of %zu bytes is too large", size);
    size_t padded = (size + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN;
    if (padded == 0) padded = CPU_ALIGN; /* a non-NULL base even for an empty buffer */
    qg_plugin_buffer *b = calloc(1, sizeof *b);
    unsigned char *data = b ? aligned_alloc(CPU_ALIGN, padded) : NULL;
    if (!data) {
        free(b);
        return qg_set_error(QG_ERR_NO_MEMORY, "cpu: cannot allocate a buffer of %zu bytes on %s", size, dev->name);
    }
    b->dev = dev;
    b->data = data;
    b->size = size;
    *buf = b;
    *base = data;
    return QG_OK;
}

static void cpu_buffer_free(qg_plugin_buffer *buf) {
    if (!buf) return;
    free(buf->data);
    free(buf);
}

static qg_status check_range(const qg_plugin_buffer *b, size_t offset, size_t size, const char *what) {
    if (!b) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: %s on a NULL buffer", what);
    if (offset > b->size || size > b->size - offset)
        return qg_set_error(QG_ERR_INVALID_ARG, "cpu: %s of %zu bytes at offset %zu is outside the %zu-byte buffer",
                            what, size, offset, b->size);
    return QG_OK;
}

static qg_status cpu_buffer_set(qg_plugin_buffer *buf, size_t offset, const void *src, size_t size) {
    qg_status st = check_range(buf, offset, size, "buffer_set");
    if (st != QG_OK) return st;
    if (size == 0) return QG_OK;
    if (!src) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: buffer_set given NULL data");
    memcpy(buf->data + offset, src, size);
    return QG_OK;
}

static qg_status cpu_buffer_get(qg_plugin_buffer *buf, size_t offset, void *dst, size_t size) {
    qg_status st = check_range(buf, offset, size, "buffer_get");
    if (st != QG_OK) return st;
    if (size == 0) return QG_OK;
    if (!dst) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: buffer_get given NULL destination");
    memcpy(dst, buf->data + offset, size);
    return QG_OK;
}

static qg_status cpu_buffer_copy(qg_plugin_buffer *src, size_t src_offset, qg_plugin_buffer *dst, size_t dst_offset,
                                 size_t size) {
    qg_status st = check_range(src, src_offset, size, "buffer_copy source");
    if (st == QG_OK) st = check_range(dst, dst_offset, size, "buffer_copy destination");
    if (st != QG_OK) return st;
    if (size) memmove(dst->data + dst_offset, src->data + src_offset, size);
    return QG_OK;
}

static qg_status cpu_buffer_clear(qg_plugin_buffer *buf, uint8_t value) {
    if (!buf) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: buffer_clear on a NULL buffer");
    memset(buf->data, value, buf->size);
    return QG_OK;
}

static bool cpu_supports(qg_plugin_device *dev, const qg_tensor *node) {
    if (!dev || !node || (unsigned)node->op >= QG_OP_COUNT) return false;
    if (node->op != QG_OP_NONE && !qg_op_is_view(node->op) && !dev->kernels->op[node->op]) return false;
    return cpu_supports_op(node);
}

static qg_status cpu_compute_entry(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes) {
    if (!dev) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: compute on a NULL device");
    return cpu_compute(dev, nodes, n_nodes);
}

static qg_status cpu_synchronize(qg_plugin_device *dev) {
    (void)dev; /* compute() returns only when the work is done */
    return QG_OK;
}

static const qg_plugin_vtable vtable = {
    .abi_version = QG_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(qg_plugin_vtable),
    .name = "cpu",
    .version = "0.1.0",
    .init = cpu_init,
    .shutdown = cpu_shutdown,
    .device_count = cpu_device_count,
    .device_props = cpu_device_props,
    .device_open = cpu_device_open,
    .device_close = cpu_device_close,
    .set_option = cpu_set_option,
    .get_option = cpu_get_option,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .buffer_set = cpu_buffer_set,
    .buffer_get = cpu_buffer_get,
    .buffer_copy = cpu_buffer_copy,
    .buffer_clear = cpu_buffer_clear,
    .supports_op = cpu_supports,
    .compute = cpu_compute_entry,
    .synchronize = cpu_synchronize,
    .event_new = NULL,
    .event_free = NULL,
    .event_record = NULL,
    .event_wait = NULL,
};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void);

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &vtable; }
