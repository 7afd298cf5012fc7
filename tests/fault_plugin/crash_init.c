/* Test plugin "crash-init": a well-formed plugin whose init() dereferences a NULL
 * pointer. Loading it in-process kills the process; with QG_PLUGIN_PROBE=1 the loader's
 * probe child takes the signal and the plugin is skipped (tests/test_probe.c). */
#include <stddef.h>

#include "qg/plugin.h"

static qg_status crash_init(const qg_host_api *h) {
    volatile int *p = NULL;
    (void)h;
    *p = 42; /* SIGSEGV */
    return QG_OK;
}

static qg_status crash_device_count(int *count) {
    *count = 0;
    return QG_OK;
}

static qg_status crash_device_props(int index, qg_device_props *props) {
    (void)index;
    (void)props;
    return QG_ERR_NOT_FOUND;
}

static qg_status crash_device_open(int index, qg_plugin_device **dev) {
    (void)index;
    *dev = NULL;
    return QG_ERR_NOT_FOUND;
}

static void crash_device_close(qg_plugin_device *dev) { (void)dev; }
static qg_status crash_buffer_alloc(qg_plugin_device *d, size_t s, qg_plugin_buffer **b, void **base) {
    (void)d; (void)s; (void)b; (void)base;
    return QG_ERR_NO_MEMORY;
}
static void crash_buffer_free(qg_plugin_buffer *b) { (void)b; }
static qg_status crash_buffer_set(qg_plugin_buffer *b, size_t o, const void *src, size_t s) {
    (void)b; (void)o; (void)src; (void)s;
    return QG_ERR_BACKEND;
}
static qg_status crash_buffer_get(qg_plugin_buffer *b, size_t o, void *dst, size_t s) {
    (void)b; (void)o; (void)dst; (void)s;
    return QG_ERR_BACKEND;
}
static qg_status crash_buffer_copy(qg_plugin_buffer *a, size_t ao, qg_plugin_buffer *b, size_t bo, size_t s) {
    (void)a; (void)ao; (void)b; (void)bo; (void)s;
    return QG_ERR_BACKEND;
}
static qg_status crash_buffer_clear(qg_plugin_buffer *b, uint8_t v) {
    (void)b; (void)v;
    return QG_ERR_BACKEND;
}
static bool crash_supports_op(qg_plugin_device *d, const qg_tensor *n) {
    (void)d; (void)n;
    return false;
}
static qg_status crash_compute(qg_plugin_device *d, qg_tensor *const *n, int k) {
    (void)d; (void)n; (void)k;
    return QG_ERR_BACKEND;
}
static qg_status crash_synchronize(qg_plugin_device *d) {
    (void)d;
    return QG_OK;
}

static const qg_plugin_vtable crash_vtable = {
    .abi_version = QG_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(qg_plugin_vtable),
    .name = "crash-init",
    .version = "1.0",
    .init = crash_init,
    .device_count = crash_device_count,
    .device_props = crash_device_props,
    .device_open = crash_device_open,
    .device_close = crash_device_close,
    .buffer_alloc = crash_buffer_alloc,
    .buffer_free = crash_buffer_free,
    .buffer_set = crash_buffer_set,
    .buffer_get = crash_buffer_get,
    .buffer_copy = crash_buffer_copy,
    .buffer_clear = crash_buffer_clear,
    .supports_op = crash_supports_op,
    .compute = crash_compute,
    .synchronize = crash_synchronize,
};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &crash_vtable; }
