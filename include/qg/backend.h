/* qgraph backends: loading plugins, opening devices, buffers and the scheduler.
 *
 * Plugins are found in QG_PLUGIN_PATH (a colon list of directories or files), in
 * ../lib/qgraph next to the running executable, and in the install libdir; each is a
 * libqg-<name>.so. qg_plugins_load_default() loads them all (once); a plugin that fails
 * is recorded with its reason and the others still load. A device is opened by name
 * ("cpu", "cpu-ref", "vulkan0") as a qg_backend.
 *
 * Typical use:
 *     qg_backend *cpu; qg_backend_open("cpu", &cpu);
 *     qg_buffer *wbuf; qg_backend_alloc_ctx_tensors(cpu, weights_ctx, &wbuf);
 *     qg_tensor_set(w, host_data, 0, qg_nbytes(w));
 *     qg_sched *s; qg_sched_new(&cpu, 1, &s);
 *     qg_sched_alloc(s, graph);  then set inputs, then  qg_sched_compute(s, graph);
 *     qg_tensor_get(out, result, 0, qg_nbytes(out));
 */
#ifndef QG_BACKEND_H
#define QG_BACKEND_H

#include "qg/graph.h"
#include "qg/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qg_plugin qg_plugin;
typedef struct qg_backend qg_backend;
typedef struct qg_sched qg_sched;

/* Load one plugin file. Fails with QG_ERR_PLUGIN naming the file and the root cause
 * (dlerror text, missing entry symbol, ABI versions seen, init failure). A plugin with
 * the same name as one already loaded is refused. */
QG_API qg_status qg_plugin_load(const char *path, qg_plugin **out);

/* Discover and load every plugin (idempotent). Returns QG_OK if at least one plugin is
 * loaded; otherwise QG_ERR_PLUGIN with a message listing every place searched. */
QG_API qg_status qg_plugins_load_default(void);

/* What the loader tried: loaded plugins and failures, in order. */
typedef struct qg_plugin_report {
    char path[512];
    char name[64];      /* plugin name; "" if it never got that far */
    char version[64];
    bool loaded;
    qg_status status;   /* why not, when !loaded */
    char error[512];
    int n_devices;
} qg_plugin_report;

QG_API int qg_plugin_report_count(void);
QG_API qg_status qg_plugin_report_get(int i, qg_plugin_report *out);
/* The directories searched by qg_plugins_load_default, ':'-separated, for messages. */
QG_API const char *qg_plugin_search_path(void);

/* Devices of all loaded plugins, in load order. */
QG_API int qg_device_count(void);
QG_API qg_status qg_device_get(int i, qg_device_props *props, const char **plugin_name);

/* Threads: plugin loading and the device list are guarded by one lock. A qg_backend may
 * be shared by threads: the library makes one call into its device at a time (compute,
 * synchronize, buffer alloc/free/set/get, options; a mutex in the object), while each
 * thread uses its own context, graph, scheduler and buffers. Two qg_backend_open() of one device give independent plugin devices (their
 * own thread pool and scratch) that compute in parallel. A qg_sched, qg_graph or
 * qg_context must not be used by two threads at once. */

/* Open a device by name; loads the default plugins first if none are loaded. */
QG_API qg_status qg_backend_open(const char *device_name, qg_backend **out);
QG_API void qg_backend_free(qg_backend *be);
QG_API const qg_device_props *qg_backend_props(const qg_backend *be);
QG_API const char *qg_backend_name(const qg_backend *be);
QG_API qg_status qg_backend_set_option(qg_backend *be, const char *key, const char *value);
QG_API qg_status qg_backend_get_option(qg_backend *be, const char *key, char *value, size_t size);
QG_API bool qg_backend_supports_op(qg_backend *be, const qg_tensor *node);
QG_API qg_status qg_backend_synchronize(qg_backend *be);

/* Buffers on a device. */
QG_API qg_status qg_backend_alloc_buffer(qg_backend *be, size_t size, qg_buffer **out);
/* Wrap existing host memory (a file mapping, say) as a buffer of a host-memory backend,
 * without copying; ptr must stay valid until the buffer is freed. Tensors may be placed
 * at any offset in it, so host-memory backends must accept unaligned tensor data. */
QG_API qg_status qg_buffer_from_host(qg_backend *be, void *ptr, size_t size, qg_buffer **out);
QG_API void qg_buffer_free(qg_buffer *buf);
QG_API size_t qg_buffer_size(const qg_buffer *buf);
QG_API qg_backend *qg_buffer_backend(const qg_buffer *buf);
/* Place t at offset in buf (offset aligned to the device's alignment); views follow. */
QG_API qg_status qg_buffer_place(qg_buffer *buf, qg_tensor *t, size_t offset);
/* Allocate one buffer holding every not-yet-allocated leaf tensor of ctx (weights, caches,
 * inputs), laid out in creation order. *out is NULL if there was nothing to allocate. */
QG_API qg_status qg_backend_alloc_ctx_tensors(qg_backend *be, qg_context *ctx, qg_buffer **out);

/* Copy bytes into / out of an allocated tensor's storage (offset, size in bytes). */
QG_API qg_status qg_tensor_set(qg_tensor *t, const void *data, size_t offset, size_t size);
QG_API qg_status qg_tensor_get(const qg_tensor *t, void *data, size_t offset, size_t size);
/* Convenience: the whole tensor as floats (any type; dequantized on the host). t must be
 * contiguous; dst holds qg_nelements(t) floats. */
QG_API qg_status qg_tensor_get_f32(const qg_tensor *t, float *dst);
QG_API qg_status qg_tensor_set_f32(qg_tensor *t, const float *src);

/* The scheduler. backends are tried in order for each node: the first whose supports_op
 * accepts the node runs it (put the CPU last as the fallback). Sources living on another
 * backend are copied; consecutive nodes on one backend form one split. */
#define QG_SCHED_MAX_BACKENDS 8

QG_API qg_status qg_sched_new(qg_backend *const *backends, int n_backends, qg_sched **out);
/* Frees the scheduler and its compute buffers: tensors it gave storage to (intermediates,
 * inputs it allocated) must not be read afterwards. */
QG_API void qg_sched_free(qg_sched *s);
/* Assign nodes, plan and allocate intermediate storage. Afterwards inputs (leafs without
 * storage) are allocated and can be set with qg_tensor_set. */
QG_API qg_status qg_sched_alloc(qg_sched *s, qg_graph *g);
/* Run the graph (calls qg_sched_alloc first if g was not the last graph allocated). */
QG_API qg_status qg_sched_compute(qg_sched *s, qg_graph *g);
/* Weight affinity (off by default): a node that reads storage the user allocated on one of
 * the scheduler's backends (weights, a KV cache) runs on that backend when it supports the
 * node, and the nodes fed by it stay there while they can. This is how a model split
 * across devices (layers 0..N-1 on one, the rest on another) keeps each layer where its
 * weights live instead of copying them to the first backend of the list. */
QG_API qg_status qg_sched_set_weight_affinity(qg_sched *s, bool on);
/* The backend a node was assigned to in the last allocation, or NULL. */
QG_API qg_backend *qg_sched_node_backend(const qg_sched *s, const qg_tensor *node);

typedef struct qg_sched_stats {
    int n_splits;          /* runs of consecutive nodes on one backend */
    int n_copies;          /* tensors copied between backends per compute */
    size_t copy_bytes;     /* bytes those copies move per compute */
    int n_backends;
    size_t planned_bytes[QG_SCHED_MAX_BACKENDS]; /* compute buffer per backend (peak plan) */
    size_t naive_bytes[QG_SCHED_MAX_BACKENDS];   /* the same without reuse */
} qg_sched_stats;

QG_API qg_status qg_sched_get_stats(const qg_sched *s, qg_sched_stats *out);

#ifdef __cplusplus
}
#endif
#endif
