/* Internal: the host-side objects behind qg_plugin, qg_backend and qg_buffer, shared by
 * the plugin loader (plugins/), the buffer code (core/buffer.c) and the scheduler. */
#ifndef QG_BACKEND_IMPL_H
#define QG_BACKEND_IMPL_H

#include <pthread.h>

#include "qg/backend.h"

struct qg_plugin {
    char path[512];
    void *handle;                 /* dlopen handle */
    const qg_plugin_vtable *vt;
    int n_devices;
};

struct qg_backend {
    qg_plugin *plugin;
    const qg_plugin_vtable *vt;
    qg_plugin_device *dev;
    int device_index;             /* index inside its plugin */
    qg_device_props props;
    /* Recursive; held around every call into the plugin device (compute, synchronize,
     * buffer alloc/free/set/get): devices keep per-device state (scratch, queues,
     * fences) that one call at a time may use, so threads may share this object. */
    pthread_mutex_t lock;
};

struct qg_buffer {
    qg_backend *backend;
    qg_plugin_buffer *pbuf;
    void *base;
    size_t size;
    size_t alignment;  /* offsets qg_buffer_place accepts: the device's, 1 for wrapped host memory */
};

/* The host services handed to every plugin's init(). */
extern const qg_host_api qg_host_services;

#endif
