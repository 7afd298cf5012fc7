/* libqg-opencl.so: the OpenCL backend plugin. init() lists the devices of every OpenCL
 * platform the ICD loader knows; with no platform (or no device) it still succeeds with
 * zero devices and logs why, so `qg devices` shows the plugin. Devices are named
 * opencl0, opencl1, ... in platform order. Opening a device creates its context and
 * in-order queue; programs are built lazily on first use (program.c).
 */
#include "ocl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 16

const qg_host_api *ocl_host;
static cl_device_id devices[MAX_DEVICES];
static int n_devices;

int ocl_n_devices(void) { return n_devices; }
cl_device_id ocl_device_id(int index) { return devices[index]; }

static qg_status ocl_init(const qg_host_api *host) {
    if (!host) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: init given no host services");
    if (host->abi_version != QG_PLUGIN_ABI_VERSION)
        return qg_set_error(QG_ERR_PLUGIN, "opencl: host ABI version %u, plugin built for %d", host->abi_version,
                            QG_PLUGIN_ABI_VERSION);
    ocl_host = host;
    n_devices = 0;
    cl_platform_id plats[8];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(8, plats, &np);
    if (err != CL_SUCCESS || np == 0) {
        if (host->log)
            host->log(QG_LOG_INFO, "opencl: no OpenCL platform found (%s); the plugin offers no devices",
                      err != CL_SUCCESS ? ocl_err_name(err) : "none installed");
        return QG_OK;
    }
    if (np > 8) np = 8;
    for (cl_uint p = 0; p < np && n_devices < MAX_DEVICES; p++) {
        cl_uint nd = 0;
        cl_device_id ids[MAX_DEVICES];
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, ids, &nd) != CL_SUCCESS) continue;
        if (nd > MAX_DEVICES) nd = MAX_DEVICES;
        for (cl_uint d = 0; d < nd && n_devices < MAX_DEVICES; d++) {
            cl_bool avail = CL_FALSE, compiler = CL_FALSE;
            clGetDeviceInfo(ids[d], CL_DEVICE_AVAILABLE, sizeof avail, &avail, NULL);
            clGetDeviceInfo(ids[d], CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL);
            if (avail && compiler) devices[n_devices++] = ids[d];
        }
    }
    if (n_devices == 0 && host->log)
        host->log(QG_LOG_INFO, "opencl: %u platform(s) but no usable device (available, with a compiler)", np);
    return QG_OK;
}

static void ocl_shutdown(void) { n_devices = 0; }

static qg_status ocl_device_count(int *count) {
    if (!count) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: device_count given NULL");
    *count = n_devices;
    return QG_OK;
}

static qg_status check_index(int index) {
    if (index < 0 || index >= n_devices)
        return qg_set_error(QG_ERR_NOT_FOUND, "opencl: no device %d (the plugin has %d)", index, n_devices);
    return QG_OK;
}

static void info_str(cl_device_id id, cl_device_info what, char *buf, size_t size) {
    buf[0] = '\0';
    if (clGetDeviceInfo(id, what, size, buf, NULL) != CL_SUCCESS) snprintf(buf, size, "?");
    buf[size - 1] = '\0';
}

/* Whether the space-separated extension list has ext. */
static bool has_ext(const char *list, const char *ext) {
    size_t n = strlen(ext);
    for (const char *p = strstr(list, ext); p; p = strstr(p + 1, ext))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
    return false;
}

static void fill_props(int index, qg_device_props *p) {
    cl_device_id id = devices[index];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "opencl%d", index);
    char name[96], version[64], cver[48], ext[4096];
    info_str(id, CL_DEVICE_NAME, name, sizeof name);
    info_str(id, CL_DEVICE_VERSION, version, sizeof version);
    info_str(id, CL_DEVICE_OPENCL_C_VERSION, cver, sizeof cver);
    info_str(id, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
    snprintf(p->description, sizeof p->description, "%.80s (%.40s)", name, version);
    /* features: OpenCL C version word, then the extensions the kernels care about */
    int major = 1, minor = 2;
    sscanf(cver, "OpenCL C %d.%d", &major, &minor);
    size_t len = (size_t)snprintf(p->features, sizeof p->features, "opencl-c-%d.%d", major, minor);
    const char *words[] = {"cl_khr_fp64", "cl_khr_fp16", "cl_khr_subgroups", "cl_khr_integer_dot_product",
                           "cl_intel_subgroups"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (has_ext(ext, words[i]) && len < sizeof p->features)
            len += (size_t)snprintf(p->features + len, sizeof p->features - len, " %s", words[i]);
    cl_ulong mem = 0, max_alloc = 0;
    clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    p->memory_total = mem;
    p->memory_free = 0; /* OpenCL cannot tell */
    p->alignment = OCL_ALIGN;
    p->max_alloc = (size_t)max_alloc;
    cl_device_type type = 0;
    clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    cl_bool unified = CL_FALSE;
    clGetDeviceInfo(id, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    if (type & CL_DEVICE_TYPE_CPU) p->kind = QG_DEVICE_CPU;
    else if (type & CL_DEVICE_TYPE_GPU) p->kind = unified ? QG_DEVICE_IGPU : QG_DEVICE_GPU;
    else p->kind = QG_DEVICE_ACCEL;
    p->host_memory = false;
    p->is_software = (type & CL_DEVICE_TYPE_CPU) != 0;
}

static qg_status ocl_device_props(int index, qg_device_props *props) {
    qg_status st = check_index(index);
    if (st != QG_OK) return st;
    if (!props) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: device_props given NULL");
    fill_props(index, props);
    return QG_OK;
}

static qg_status ocl_device_open(int index, qg_plugin_device **out) {
    qg_status st = check_index(index);
    if (st != QG_OK) return st;
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: device_open given NULL");
    *out = NULL;
    qg_plugin_device *dev = calloc(1, sizeof *dev);
    if (!dev) return qg_set_error(QG_ERR_NO_MEMORY, "opencl: out of memory opening device %d", index);
    dev->index = index;
    dev->id = devices[index];
    snprintf(dev->name, sizeof dev->name, "opencl%d", index);
    info_str(dev->id, CL_DEVICE_NAME, dev->dev_name, sizeof dev->dev_name);
    info_str(dev->id, CL_DRIVER_VERSION, dev->driver, sizeof dev->driver);
    char ext[4096];
    info_str(dev->id, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
    dev->fp64 = has_ext(ext, "cl_khr_fp64");
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(dev->id, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
    dev->correct_div = (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
    cl_device_type type = 0;
    clGetDeviceInfo(dev->id, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    dev->specialize = !(type & CL_DEVICE_TYPE_CPU);
    cl_int err;
    dev->ctx = clCreateContext(NULL, 1, &dev->id, NULL, NULL, &err);
    if (!dev->ctx) {
        free(dev);
        return ocl_fail(err, "clCreateContext");
    }
    dev->queue = clCreateCommandQueue(dev->ctx, dev->id, 0, &err);
    if (!dev->queue) {
        clReleaseContext(dev->ctx);
        free(dev);
        return ocl_fail(err, "clCreateCommandQueue");
    }
    dev->err = clCreateBuffer(dev->ctx, CL_MEM_READ_WRITE, 2 * sizeof(cl_int), NULL, &err);
    if (!dev->err) {
        clReleaseCommandQueue(dev->queue);
        clReleaseContext(dev->ctx);
        free(dev);
        return ocl_fail(err, "clCreateBuffer (error flag)");
    }
    *out = dev;
    return QG_OK;
}

static void ocl_device_close(qg_plugin_device *dev) {
    if (!dev) return;
    clFinish(dev->queue);
    ocl_programs_release(dev);
    if (dev->scratch) clReleaseMemObject(dev->scratch);
    clReleaseMemObject(dev->err);
    clReleaseCommandQueue(dev->queue);
    clReleaseContext(dev->ctx);
    free(dev);
}

/* "specialize" = 1: one program per type (-DSTYPE/-DDTYPE, faster kernels, more builds);
 * 0: one generic program choosing types at run time (the default on CPU devices, where
 * building dominates). */
static qg_status ocl_set_option(qg_plugin_device *dev, const char *key, const char *value) {
    if (!dev || !key || !value) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: set_option given NULL");
    if (strcmp(key, "specialize") != 0) return qg_set_error(QG_ERR_NOT_FOUND, "opencl: unknown option \"%s\"", key);
    if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
        return qg_set_error(QG_ERR_INVALID_ARG, "opencl: option specialize=\"%s\": expected 0 or 1", value);
    dev->specialize = value[0] == '1';
    return QG_OK;
}

/* Options: "specialize" (0/1), and read-only "device" (the OpenCL device name), "driver". */
static qg_status ocl_get_option(qg_plugin_device *dev, const char *key, char *value, size_t size) {
    if (!dev || !key || !value) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: get_option given NULL");
    const char *v = NULL;
    if (strcmp(key, "specialize") == 0) v = dev->specialize ? "1" : "0";
    else if (strcmp(key, "device") == 0) v = dev->dev_name;
    else if (strcmp(key, "driver") == 0) v = dev->driver;
    else return qg_set_error(QG_ERR_NOT_FOUND, "opencl: unknown option \"%s\"", key);
    int n = snprintf(value, size, "%s", v);
    if (n < 0 || (size_t)n >= size)
        return qg_set_error(QG_ERR_INVALID_ARG, "opencl: option %s needs %d bytes, buffer has %zu", key, n + 1, size);
    return QG_OK;
}

static bool ocl_supports(qg_plugin_device *dev, const qg_tensor *node) {
    if (!dev || !node) return false;
    return ocl_supports_op(dev, node);
}

static qg_status ocl_compute_entry(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes) {
    if (!dev) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: compute on a NULL device");
    return ocl_compute(dev, nodes, n_nodes);
}

static qg_status ocl_synchronize(qg_plugin_device *dev) {
    if (!dev) return qg_set_error(QG_ERR_INVALID_ARG, "opencl: synchronize on a NULL device");
    cl_int err = clFinish(dev->queue);
    return err == CL_SUCCESS ? QG_OK : ocl_fail(err, "clFinish");
}


static const qg_plugin_vtable vtable = {
    .abi_version = QG_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(qg_plugin_vtable),
    .name = "opencl",
    .version = "0.1.0",
    .init = ocl_init,
    .shutdown = ocl_shutdown,
    .device_count = ocl_device_count,
    .device_props = ocl_device_props,
    .device_open = ocl_device_open,
    .device_close = ocl_device_close,
    .set_option = ocl_set_option,
    .get_option = ocl_get_option,
    .buffer_alloc = ocl_buffer_alloc,
    .buffer_free = ocl_buffer_free,
    .buffer_set = ocl_buffer_set,
    .buffer_get = ocl_buffer_get,
    .buffer_copy = ocl_buffer_copy,
    .buffer_clear = ocl_buffer_clear,
    .supports_op = ocl_supports,
    .compute = ocl_compute_entry,
    .synchronize = ocl_synchronize,
    .event_new = NULL,
    .event_free = NULL,
    .event_record = NULL,
    .event_wait = NULL,
};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void);

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &vtable; }
