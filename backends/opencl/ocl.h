/* Internal declarations of the OpenCL backend plugin (libqg-opencl.so): the device and
 * buffer objects, the program cache, kernel-argument helpers and the per-op enqueue
 * functions. One device per OpenCL device of every platform ("opencl0", "opencl1"...).
 *
 * Buffers are cl_mem objects; their base address is a fake, aligned, never dereferenced
 * token, so a tensor's data pointer maps back to (cl_mem, byte offset) through its pbuf:
 * offset = data - base. Kernels take every tensor as (buffer, offset, ne, nb).
 */
#ifndef QG_OCL_H
#define QG_OCL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "qg/plugin.h"

#define OCL_ALIGN 128
#define OCL_MAX_PROGRAMS 256

/* Kernel source families (one .cl file each, plus the shared headers). */
typedef enum ocl_family {
    OCL_FAM_ELEMENTWISE = 0,
    OCL_FAM_NORM,
    OCL_FAM_ROPE,
    OCL_FAM_TYPED,    /* rows.cl + mul_mat.cl for (source/weight type, destination type) */
    OCL_FAM_COUNT
} ocl_family;

typedef struct ocl_program {
    ocl_family fam;
    int stype, dtype;
    cl_program prog;
} ocl_program;

struct qg_plugin_device {
    int index;
    char name[64];
    cl_device_id id;
    cl_context ctx;
    cl_command_queue queue;
    char dev_name[128];
    char driver[128];
    bool fp64, correct_div;
    bool specialize;     /* one program per type (GPUs) or one generic program (CPU devices) */
    ocl_program progs[OCL_MAX_PROGRAMS];
    int n_progs;
    cl_mem scratch;      /* mul_mat x staging, grown on demand */
    size_t scratch_size;
    cl_mem err;          /* two ints: a kernel sets err[0] on a bad row id */
};

struct qg_plugin_buffer {
    qg_plugin_device *dev;
    cl_mem mem;
    size_t size;
    char *base;
};

/* The host services given to init (for log lines). */
extern const qg_host_api *ocl_host;

/* "CL_OUT_OF_RESOURCES" for an error code. */
const char *ocl_err_name(cl_int err);
/* Record "opencl: <what>: <error name> (<code>)" and return a status fitting the error. */
qg_status ocl_fail(cl_int err, const char *what);

/* Platform/device discovery (plugin.c). */
int ocl_n_devices(void);
cl_device_id ocl_device_id(int index);

/* Embedded kernel sources (generated from shaders/opencl/ at build time). */
extern const char ocl_src_common[], ocl_src_dequant[], ocl_src_kquantize[], ocl_src_quantize[], ocl_src_elementwise[],
    ocl_src_norm[], ocl_src_rope[], ocl_src_rows[], ocl_src_mul_mat[];

/* The type id a typed program is built for: -1 (the generic program) when the device
 * does not specialise; else plain float types share one program (0) and pass their type
 * at run time, and block types get their own. */
int ocl_program_type(const qg_plugin_device *dev, qg_type t);
/* Built program of a family for the given types (-1 when untyped), from the device's
 * list, the on-disk binary cache, or source, in that order (program.c). */
qg_status ocl_program_get(qg_plugin_device *dev, ocl_family fam, int stype, int dtype, cl_program *out);
/* A new kernel object of that program; the caller releases it. */
qg_status ocl_kernel(qg_plugin_device *dev, ocl_family fam, int stype, int dtype, const char *name,
                     cl_kernel *out);
void ocl_programs_release(qg_plugin_device *dev);

/* Kernel arguments, appended in order; the first failure is kept. */
typedef struct ocl_args {
    cl_kernel k;
    cl_uint i;
    cl_int err;
    qg_status st;
} ocl_args;

void arg_mem(ocl_args *a, cl_mem m);
void arg_u64(ocl_args *a, uint64_t v);
void arg_i64(ocl_args *a, int64_t v);
void arg_int(ocl_args *a, int v);
void arg_f32(ocl_args *a, float v);
/* (cl_mem, offset, ne as long4, nb as long4) of an allocated tensor of this device. */
/* (cl_mem, offset) only. */
void arg_tensor_base(ocl_args *a, qg_plugin_device *dev, const qg_tensor *t);
void arg_tensor(ocl_args *a, qg_plugin_device *dev, const qg_tensor *t);
qg_status args_done(ocl_args *a, const char *kernel);

/* Enqueue a 1-3 dimensional range (global sizes rounded up to the local size). */
qg_status ocl_launch(qg_plugin_device *dev, cl_kernel k, int dims, const size_t *global, const size_t *local,
                     const char *what);
/* Make the device's scratch buffer at least size bytes. */
qg_status ocl_scratch(qg_plugin_device *dev, size_t size);

/* buffer.c */
qg_status ocl_buffer_alloc(qg_plugin_device *dev, size_t size, qg_plugin_buffer **buf, void **base);
void ocl_buffer_free(qg_plugin_buffer *buf);
qg_status ocl_buffer_set(qg_plugin_buffer *buf, size_t offset, const void *src, size_t size);
qg_status ocl_buffer_get(qg_plugin_buffer *buf, size_t offset, void *dst, size_t size);
qg_status ocl_buffer_copy(qg_plugin_buffer *src, size_t src_offset, qg_plugin_buffer *dst, size_t dst_offset,
                          size_t size);
qg_status ocl_buffer_clear(qg_plugin_buffer *buf, uint8_t value);

/* supports.c */
bool ocl_supports_op(const qg_plugin_device *dev, const qg_tensor *node);
bool ocl_plain_float(qg_type t); /* F32, F16, BF16, F8_E4M3, F8_E5M2, F64 */
bool ocl_has_quantizer(qg_type t);

/* Ops (ops_*.c). */
qg_status ocl_op_elementwise(qg_plugin_device *dev, qg_tensor *node);
qg_status ocl_op_norm(qg_plugin_device *dev, qg_tensor *node);
qg_status ocl_op_rope(qg_plugin_device *dev, qg_tensor *node);
qg_status ocl_op_rows(qg_plugin_device *dev, qg_tensor *node);
qg_status ocl_op_mul_mat(qg_plugin_device *dev, qg_tensor *node);

/* compute.c */
qg_status ocl_compute(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes);

#endif
