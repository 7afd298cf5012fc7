/* Shared by the deliberately broken test plugins: a vtable whose functions all fail
 * politely, so each broken plugin differs from a valid one in exactly one way.
 * STUB_VTABLE_FIELDS leaves out init and compute; each plugin sets those itself. */
#ifndef QG_BAD_PLUGIN_STUBS_H
#define QG_BAD_PLUGIN_STUBS_H

#include "qg/plugin.h"

static const qg_host_api *stub_host;

static inline qg_status stub_init(const qg_host_api *h) {
    stub_host = h;
    return QG_OK;
}
static inline qg_status stub_device_count(int *n) {
    *n = 0;
    return QG_OK;
}
static inline qg_status stub_device_props(int i, qg_device_props *p) {
    (void)i, (void)p;
    return QG_ERR_NOT_FOUND;
}
static inline qg_status stub_device_open(int i, qg_plugin_device **d) {
    (void)i, (void)d;
    return QG_ERR_NOT_FOUND;
}
static inline void stub_device_close(qg_plugin_device *d) { (void)d; }
static inline qg_status stub_buffer_alloc(qg_plugin_device *d, size_t s, qg_plugin_buffer **b, void **base) {
    (void)d, (void)s, (void)b, (void)base;
    return QG_ERR_NO_MEMORY;
}
static inline void stub_buffer_free(qg_plugin_buffer *b) { (void)b; }
static inline qg_status stub_buffer_set(qg_plugin_buffer *b, size_t o, const void *src, size_t s) {
    (void)b, (void)o, (void)src, (void)s;
    return QG_ERR_INVALID_ARG;
}
static inline qg_status stub_buffer_get(qg_plugin_buffer *b, size_t o, void *dst, size_t s) {
    (void)b, (void)o, (void)dst, (void)s;
    return QG_ERR_INVALID_ARG;
}
static inline qg_status stub_buffer_copy(qg_plugin_buffer *s, size_t so, qg_plugin_buffer *d, size_t dof,
                                  size_t n) {
    (void)s, (void)so, (void)d, (void)dof, (void)n;
    return QG_ERR_INVALID_ARG;
}
static inline qg_status stub_buffer_clear(qg_plugin_buffer *b, uint8_t v) {
    (void)b, (void)v;
    return QG_ERR_INVALID_ARG;
}
static inline bool stub_supports_op(qg_plugin_device *d, const qg_tensor *n) {
    (void)d, (void)n;
    return false;
}
static inline qg_status stub_compute(qg_plugin_device *d, qg_tensor *const *n, int k) {
    (void)d, (void)n, (void)k;
    return QG_ERR_UNSUPPORTED;
}
static inline qg_status stub_synchronize(qg_plugin_device *d) {
    (void)d;
    return QG_OK;
}

#define STUB_VTABLE_FIELDS                                                                  \
    .version = "0", .device_count = stub_device_count,                   \
    .device_props = stub_device_props, .device_open = stub_device_open,                     \
    .device_close = stub_device_close, .buffer_alloc = stub_buffer_alloc,                   \
    .buffer_free = stub_buffer_free, .buffer_set = stub_buffer_set,                         \
    .buffer_get = stub_buffer_get, .buffer_copy = stub_buffer_copy,                         \
    .buffer_clear = stub_buffer_clear, .supports_op = stub_supports_op,                     \
    .synchronize = stub_synchronize

#endif
