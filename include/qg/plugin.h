/* qgraph plugin ABI: the one header a backend plugin needs.
 *
 * A plugin is a shared object exporting one symbol, QG_PLUGIN_ENTRY ("qg_plugin_entry"),
 * a function that returns a pointer to a static qg_plugin_vtable. The host reads
 * abi_version and struct_size first and calls nothing else unless they match what it was
 * built with. Then it calls init() once with a table of host services, enumerates the
 * plugin's devices and opens the ones it needs.
 *
 * Memory model: a device allocates buffers; each buffer has a base address (a real
 * pointer for host-memory devices, any aligned non-NULL token otherwise) and tensors in
 * it have data = base + offset. compute() runs a "split": a list of nodes, in order, whose
 * sources and results all live in buffers of that device. View ops (VIEW, RESHAPE,
 * PERMUTE, TRANSPOSE) may appear in the list and need no work.
 *
 * Every function returns qg_status and reports details through host->set_error().
 * Settings (threads, device index, memory limits) go through set_option() with string
 * keys, so a host never links against a backend-specific symbol.
 */
#ifndef QG_PLUGIN_H
#define QG_PLUGIN_H

#include "qg/core.h"
#include "qg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QG_PLUGIN_ABI_VERSION 1
#define QG_PLUGIN_ENTRY "qg_plugin_entry"

typedef struct qg_plugin_device qg_plugin_device; /* defined by each plugin */
typedef struct qg_plugin_event qg_plugin_event;   /* defined by each plugin */

enum qg_device_kind {
    QG_DEVICE_CPU = 0,
    QG_DEVICE_GPU = 1,
    QG_DEVICE_IGPU = 2,   /* integrated GPU, shares host memory */
    QG_DEVICE_ACCEL = 3,
};

typedef struct qg_device_props {
    char name[64];          /* unique device name: "cpu", "cpu-ref", "vulkan0" */
    char description[128];  /* what it is: "AMD EPYC (AVX2, 2 threads)", "llvmpipe" */
    char features[256];     /* space-separated capability words: "avx2 f16c fma" */
    uint64_t memory_total;  /* bytes; 0 if unknown */
    uint64_t memory_free;   /* bytes; 0 if unknown */
    size_t alignment;       /* required alignment of tensor offsets in a buffer */
    size_t max_alloc;       /* largest single buffer; 0 = no limit known */
    int kind;               /* enum qg_device_kind */
    bool host_memory;       /* buffer base addresses are real host pointers */
    bool is_software;       /* a CPU implementation of a GPU API (lavapipe, PoCL) */
} qg_device_props;

enum qg_log_level { QG_LOG_DEBUG = 0, QG_LOG_INFO = 1, QG_LOG_WARN = 2, QG_LOG_ERROR = 3 };

/* Services the host lends a plugin. */
typedef struct qg_host_api {
    uint32_t abi_version;
    /* Record an error for qg_last_error() and return st. */
    qg_status (*set_error)(qg_status st, const char *fmt, ...) QG_PRINTF(2, 3);
    void (*log)(int level, const char *fmt, ...) QG_PRINTF(2, 3);
    /* The host's type table (same as qg_type_get). */
    const qg_type_traits *(*type_get)(qg_type type);
} qg_host_api;

typedef struct qg_plugin_vtable {
    uint32_t abi_version;   /* QG_PLUGIN_ABI_VERSION the plugin was built with */
    uint32_t struct_size;   /* sizeof(qg_plugin_vtable) the plugin was built with */
    const char *name;       /* short plugin name: "cpu", "vulkan" */
    const char *version;    /* free text */

    qg_status (*init)(const qg_host_api *host);
    void (*shutdown)(void);

    qg_status (*device_count)(int *count);
    qg_status (*device_props)(int index, qg_device_props *props);
    qg_status (*device_open)(int index, qg_plugin_device **dev);
    void (*device_close)(qg_plugin_device *dev);
    /* Keys are backend-defined ("threads", ...); unknown keys give QG_ERR_NOT_FOUND. */
    qg_status (*set_option)(qg_plugin_device *dev, const char *key, const char *value);
    qg_status (*get_option)(qg_plugin_device *dev, const char *key, char *value, size_t size);

    qg_status (*buffer_alloc)(qg_plugin_device *dev, size_t size, qg_plugin_buffer **buf,
                              void **base);
    void (*buffer_free)(qg_plugin_buffer *buf);
    qg_status (*buffer_set)(qg_plugin_buffer *buf, size_t offset, const void *src, size_t size);
    qg_status (*buffer_get)(qg_plugin_buffer *buf, size_t offset, void *dst, size_t size);
    /* Copy between two buffers of the same device. */
    qg_status (*buffer_copy)(qg_plugin_buffer *src, size_t src_offset, qg_plugin_buffer *dst,
                             size_t dst_offset, size_t size);
    qg_status (*buffer_clear)(qg_plugin_buffer *buf, uint8_t value);

    /* Whether compute() can run this node (types, shapes, strides of node and its srcs). */
    bool (*supports_op)(qg_plugin_device *dev, const qg_tensor *node);
    /* Run nodes[0..n) in order; may return before the work ends (see synchronize). */
    qg_status (*compute)(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes);
    /* Wait for all queued work of the device. */
    qg_status (*synchronize)(qg_plugin_device *dev);

    /* Optional (NULL when absent): events for overlapping work across devices. */
    qg_status (*event_new)(qg_plugin_device *dev, qg_plugin_event **ev);
    void (*event_free)(qg_plugin_event *ev);
    qg_status (*event_record)(qg_plugin_event *ev);
    qg_status (*event_wait)(qg_plugin_event *ev);
} qg_plugin_vtable;

/* The symbol every plugin exports. */
typedef const qg_plugin_vtable *(*qg_plugin_entry_fn)(void);

#if defined(__GNUC__)
#define QG_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define QG_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
}
#endif
#endif
