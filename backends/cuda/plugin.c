/* libqg-cuda.so: the CUDA backend plugin. init() asks the CUDA runtime (linked
 * statically) for devices; with no driver or no device it fails with "CUDA: no
 * driver/device: <reason>", which the host records while it carries on with the other
 * plugins. Devices are cuda0, cuda1... in CUDA ordinal order; opening one creates its
 * stream, pinned staging buffers and the row-id error flag.
 */
#include "cu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 16

static const qg_host_api *host;
static int n_devices;

qg_status cu_fail(cudaError_t err, const char *what) {
    cudaGetLastError(); /* clear the non-sticky error state */
    qg_status st = err == cudaErrorMemoryAllocation ? QG_ERR_NO_MEMORY : QG_ERR_BACKEND;
    return qg_set_error(st, "cuda: %s: %s: %s", what, cudaGetErrorName(err), cudaGetErrorString(err));
}

qg_status cu_failf(cudaError_t err, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cu_fail(err, what);
}

qg_status cu_set_device(const qg_plugin_device *dev) {
    int cur = -1;
    if (cudaGetDevice(&cur) == cudaSuccess && cur == dev->index) return QG_OK;
    cudaError_t err = cudaSetDevice(dev->index);
    return err == cudaSuccess ? QG_OK : cu_failf(err, "cudaSetDevice(%d)", dev->index);
}

static qg_status cu_init(const qg_host_api *h) {
    if (!h) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: init given no host services");
    if (h->abi_version != QG_PLUGIN_ABI_VERSION)
        return qg_set_error(QG_ERR_PLUGIN, "cuda: host ABI version %u, plugin built for %d", h->abi_version,
                            QG_PLUGIN_ABI_VERSION);
    host = h;
    n_devices = 0;
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        cudaGetLastError();
        return qg_set_error(QG_ERR_PLUGIN, "CUDA: no driver/device: %s (%s)", cudaGetErrorString(err),
                            cudaGetErrorName(err));
    }
    if (count <= 0) return qg_set_error(QG_ERR_PLUGIN, "CUDA: no driver/device: the driver reports 0 devices");
    n_devices = count > MAX_DEVICES ? MAX_DEVICES : count;
    return QG_OK;
}

static void cu_shutdown(void) { n_devices = 0; }

static qg_status cu_device_count(int *count) {
    if (!count) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: device_count given NULL");
    *count = n_devices;
    return QG_OK;
}

static qg_status check_index(int index) {
    if (index < 0 || index >= n_devices)
        return qg_set_error(QG_ERR_NOT_FOUND, "cuda: no device %d (the plugin has %d)", index, n_devices);
    return QG_OK;
}

static void append(char *buf, size_t size, size_t *len, const char *word) {
    if (*len >= size) return;
    int n = snprintf(buf + *len, size - *len, "%s%s", *len ? " " : "", word);
    if (n > 0) *len += (size_t)n;
}

static qg_status cu_device_props(int index, qg_device_props *p) {
    qg_status st = check_index(index);
    if (st != QG_OK) return st;
    if (!p) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: device_props given NULL");
    struct cudaDeviceProp prop;
    cudaError_t err = cudaGetDeviceProperties(&prop, index);
    if (err != cudaSuccess) return cu_failf(err, "cudaGetDeviceProperties(%d)", index);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "cuda%d", index);
    snprintf(p->description, sizeof p->description, "%.80s (sm_%d%d, %d SMs)", prop.name, prop.major, prop.minor,
             prop.multiProcessorCount);
    size_t len = 0;
    char w[32];
    snprintf(w, sizeof w, "sm_%d%d", prop.major, prop.minor);
    append(p->features, sizeof p->features, &len, w);
    const int cc = prop.major * 10 + prop.minor;
    append(p->features, sizeof p->features, &len, "dp4a fp16 fp64");
    if (cc >= 80) append(p->features, sizeof p->features, &len, "tensor-cores int8-mma bf16");
    if (cc >= 89) append(p->features, sizeof p->features, &len, "fp8");
    p->memory_total = prop.totalGlobalMem;
    size_t free_b = 0, total_b = 0;
    int cur = -1;
    cudaGetDevice(&cur);
    if (cudaSetDevice(index) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
        p->memory_free = free_b;
    cudaGetLastError();
    if (cur >= 0) cudaSetDevice(cur);
    p->alignment = CU_ALIGN;
    p->max_alloc = 0;
    p->kind = prop.integrated ? QG_DEVICE_IGPU : QG_DEVICE_GPU;
    p->host_memory = false;
    p->is_software = false;
    return QG_OK;
}

static void device_release(qg_plugin_device *dev) {
    if (dev->stream) cudaStreamSynchronize(dev->stream);
    cu_scratch_free(&dev->op_scratch);
    cu_scratch_free(&dev->mm_scratch);
    for (int i = 0; i < 2; i++) {
        if (dev->stage_done[i]) cudaEventDestroy(dev->stage_done[i]);
        if (dev->stage[i]) cudaFreeHost(dev->stage[i]);
    }
    if (dev->err_dev) cudaFree(dev->err_dev);
    if (dev->err_host) cudaFreeHost(dev->err_host);
    if (dev->stream) cudaStreamDestroy(dev->stream);
    cudaGetLastError();
    free(dev);
}

static qg_status cu_device_open(int index, qg_plugin_device **out) {
    qg_status st = check_index(index);
    if (st != QG_OK) return st;
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: device_open given NULL");
    *out = NULL;
    qg_plugin_device *dev = calloc(1, sizeof *dev);
    if (!dev) return qg_set_error(QG_ERR_NO_MEMORY, "cuda: out of memory opening device %d", index);
    dev->index = index;
    snprintf(dev->name, sizeof dev->name, "cuda%d", index);
    struct cudaDeviceProp prop;
    cudaError_t err = cudaGetDeviceProperties(&prop, index);
    if (err == cudaSuccess) err = cudaSetDevice(index);
    const char *what = "cudaGetDeviceProperties/cudaSetDevice";
    if (err == cudaSuccess) {
        snprintf(dev->dev_name, sizeof dev->dev_name, "%s", prop.name);
        dev->cc = prop.major * 10 + prop.minor;
        dev->sm_count = prop.multiProcessorCount;
        what = "cudaStreamCreateWithFlags";
        err = cudaStreamCreateWithFlags(&dev->stream, cudaStreamNonBlocking);
    }
    for (int i = 0; i < 2 && err == cudaSuccess; i++) {
        what = "cudaHostAlloc (staging)";
        err = cudaHostAlloc(&dev->stage[i], CU_STAGE_CHUNK, cudaHostAllocDefault);
        if (err == cudaSuccess) {
            what = "cudaEventCreateWithFlags";
            err = cudaEventCreateWithFlags(&dev->stage_done[i], cudaEventDisableTiming);
        }
    }
    if (err == cudaSuccess) {
        what = "cudaMalloc (error flag)";
        err = cudaMalloc((void **)&dev->err_dev, 2 * sizeof(int));
    }
    if (err == cudaSuccess) {
        what = "cudaHostAlloc (error flag)";
        err = cudaHostAlloc((void **)&dev->err_host, 2 * sizeof(int), cudaHostAllocDefault);
    }
    if (err == cudaSuccess) {
        what = "cudaMemsetAsync (error flag)";
        err = cudaMemsetAsync(dev->err_dev, 0, 2 * sizeof(int), dev->stream);
    }
    if (err != cudaSuccess) {
        st = cu_failf(err, "opening cuda%d: %s", index, what);
        device_release(dev);
        return st;
    }
    *out = dev;
    return QG_OK;
}

static void cu_device_close(qg_plugin_device *dev) {
    if (!dev) return;
    cu_set_device(dev);
    device_release(dev);
}

static qg_status cu_set_option(qg_plugin_device *dev, const char *key, const char *value) {
    if (!dev || !key || !value) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: set_option given NULL");
    if (strcmp(key, "device") == 0 || strcmp(key, "cc") == 0 || strcmp(key, "sm_count") == 0)
        return qg_set_error(QG_ERR_INVALID_ARG, "cuda: option \"%s\" is read-only", key);
    return qg_set_error(QG_ERR_NOT_FOUND, "cuda: unknown option \"%s\"", key);
}

/* Read-only options: "device" (the GPU's name), "cc" (compute capability, "90"),
 * "sm_count", "ordinal" (CUDA device number), "runtime" (CUDA runtime version). */
static qg_status cu_get_option(qg_plugin_device *dev, const char *key, char *value, size_t size) {
    if (!dev || !key || !value) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: get_option given NULL");
    char num[32];
    const char *v = num;
    if (strcmp(key, "device") == 0) v = dev->dev_name;
    else if (strcmp(key, "cc") == 0) snprintf(num, sizeof num, "%d", dev->cc);
    else if (strcmp(key, "sm_count") == 0) snprintf(num, sizeof num, "%d", dev->sm_count);
    else if (strcmp(key, "ordinal") == 0) snprintf(num, sizeof num, "%d", dev->index);
    else if (strcmp(key, "runtime") == 0) {
        int rv = 0;
        cudaRuntimeGetVersion(&rv);
        snprintf(num, sizeof num, "%d.%d", rv / 1000, (rv % 1000) / 10);
    } else
        return qg_set_error(QG_ERR_NOT_FOUND, "cuda: unknown option \"%s\"", key);
    int n = snprintf(value, size, "%s", v);
    if (n < 0 || (size_t)n >= size)
        return qg_set_error(QG_ERR_INVALID_ARG, "cuda: option %s needs %d bytes, buffer has %zu", key, n + 1, size);
    return QG_OK;
}

static bool cu_supports(qg_plugin_device *dev, const qg_tensor *node) {
    if (!dev || !node) return false;
    return cu_supports_op(dev, node);
}

static qg_status cu_compute_entry(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes) {
    if (!dev) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: compute on a NULL device");
    qg_status st = cu_set_device(dev);
    if (st != QG_OK) return st;
    return cu_compute(dev, nodes, n_nodes);
}

static qg_status cu_synchronize(qg_plugin_device *dev) {
    if (!dev) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: synchronize on a NULL device");
    qg_status st = cu_set_device(dev);
    if (st != QG_OK) return st;
    cudaError_t err = cudaStreamSynchronize(dev->stream);
    /* Kernels run asynchronously: an execution error surfaces here, after compute() of
     * the split that queued it has returned. */
    return err == cudaSuccess ? QG_OK
                              : cu_failf(err, "%s: a queued kernel or copy failed (cudaStreamSynchronize)", dev->name);
}

struct qg_plugin_event {
    qg_plugin_device *dev;
    cudaEvent_t ev;
};

static qg_status cu_event_new(qg_plugin_device *dev, qg_plugin_event **out) {
    if (!dev || !out) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: event_new given NULL");
    *out = NULL;
    qg_plugin_event *e = calloc(1, sizeof *e);
    if (!e) return qg_set_error(QG_ERR_NO_MEMORY, "cuda: out of memory for an event");
    e->dev = dev;
    qg_status st = cu_set_device(dev);
    cudaError_t err = st == QG_OK ? cudaEventCreateWithFlags(&e->ev, cudaEventDisableTiming) : cudaSuccess;
    if (st == QG_OK && err != cudaSuccess) st = cu_fail(err, "cudaEventCreateWithFlags");
    if (st != QG_OK) {
        free(e);
        return st;
    }
    *out = e;
    return QG_OK;
}

static void cu_event_free(qg_plugin_event *e) {
    if (!e) return;
    cudaEventDestroy(e->ev);
    free(e);
}

static qg_status cu_event_record(qg_plugin_event *e) {
    if (!e) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: event_record given NULL");
    cudaError_t err = cudaEventRecord(e->ev, e->dev->stream);
    return err == cudaSuccess ? QG_OK : cu_fail(err, "cudaEventRecord");
}

/* Host-side wait: the event may be waited on by another plugin's thread. */
static qg_status cu_event_wait(qg_plugin_event *e) {
    if (!e) return qg_set_error(QG_ERR_INVALID_ARG, "cuda: event_wait given NULL");
    cudaError_t err = cudaEventSynchronize(e->ev);
    return err == cudaSuccess ? QG_OK : cu_fail(err, "cudaEventSynchronize");
}

static const qg_plugin_vtable vtable = {
    .abi_version = QG_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(qg_plugin_vtable),
    .name = "cuda",
    .version = "0.1.0",
    .init = cu_init,
    .shutdown = cu_shutdown,
    .device_count = cu_device_count,
    .device_props = cu_device_props,
    .device_open = cu_device_open,
    .device_close = cu_device_close,
    .set_option = cu_set_option,
    .get_option = cu_get_option,
    .buffer_alloc = cu_buffer_alloc,
    .buffer_free = cu_buffer_free,
    .buffer_set = cu_buffer_set,
    .buffer_get = cu_buffer_get,
    .buffer_copy = cu_buffer_copy,
    .buffer_clear = cu_buffer_clear,
    .supports_op = cu_supports,
    .compute = cu_compute_entry,
    .synchronize = cu_synchronize,
    .event_new = cu_event_new,
    .event_free = cu_event_free,
    .event_record = cu_event_record,
    .event_wait = cu_event_wait,
};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void);

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &vtable; }
