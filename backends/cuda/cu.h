/* Internal declarations of the CUDA backend plugin (libqg-cuda.so), shared by its C host
 * files and the .cu kernel files: the device and buffer objects, error helpers, the
 * grow-only scratch memory and the per-op launchers. Devices are "cuda0", "cuda1"... in
 * CUDA ordinal order; each has one non-blocking stream on which every copy and kernel of
 * that device is queued, so work is ordered without further synchronisation.
 *
 * Buffers come from cudaMalloc and their base is the real device pointer, so a tensor's
 * data is a device address kernels use directly (see mm.h).
 */
#ifndef QG_CU_H
#define QG_CU_H

#include <cuda_runtime_api.h>

#include "qg/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CU_ALIGN 256
#define CU_STAGE_CHUNK ((size_t)8 << 20) /* bytes per pinned staging half */

/* Grow-only device scratch; growing waits for the stream so no queued kernel still
 * uses the old block when it is freed. */
typedef struct cu_scratch {
    void *ptr;
    size_t size;
} cu_scratch;

struct qg_plugin_device {
    int index;            /* CUDA ordinal */
    char name[16];        /* "cuda0" */
    char dev_name[256];   /* "NVIDIA H100 80GB HBM3" */
    int cc;               /* major * 10 + minor */
    int sm_count;
    cudaStream_t stream;
    cu_scratch op_scratch;   /* for the op kernels of this file set */
    cu_scratch mm_scratch;   /* lent to the mul_mat kernels through qgcu_mm_env */
    void *stage[2];          /* pinned host staging for buffer_set/get */
    cudaEvent_t stage_done[2];
    int *err_dev;            /* device: [0] = bad row id seen, [1] = the id */
    int *err_host;           /* pinned copy read after a split with row ops */
};

struct qg_plugin_buffer {
    qg_plugin_device *dev;
    void *ptr;
    size_t size;
};

/* Record "cuda: <what>: <error name>: <error text>" and return a status fitting the
 * error (QG_ERR_NO_MEMORY for allocation failures, QG_ERR_BACKEND otherwise). Clears
 * CUDA's last-error state. */
qg_status cu_fail(cudaError_t err, const char *what);
/* cu_fail with a printf-style "what". */
qg_status cu_failf(cudaError_t err, const char *fmt, ...) QG_PRINTF(2, 3);
/* Make dev's device current on this thread. */
qg_status cu_set_device(const qg_plugin_device *dev);
/* Scratch of at least size bytes (NULL with an error set on failure). */
void *cu_scratch_get(qg_plugin_device *dev, cu_scratch *s, size_t size);
void cu_scratch_free(cu_scratch *s);

/* buffer.c */
qg_status cu_buffer_alloc(qg_plugin_device *dev, size_t size, qg_plugin_buffer **buf, void **base);
void cu_buffer_free(qg_plugin_buffer *buf);
qg_status cu_buffer_set(qg_plugin_buffer *buf, size_t offset, const void *src, size_t size);
qg_status cu_buffer_get(qg_plugin_buffer *buf, size_t offset, void *dst, size_t size);
qg_status cu_buffer_copy(qg_plugin_buffer *src, size_t src_offset, qg_plugin_buffer *dst, size_t dst_offset,
                         size_t size);
qg_status cu_buffer_clear(qg_plugin_buffer *buf, uint8_t value);

/* supports.c */
bool cu_supports_op(const qg_plugin_device *dev, const qg_tensor *node);
/* Types the kernels read/write element by element (F32, F16, BF16, F8, F64, I8..I64). */
bool cu_plain_type(qg_type t);
/* Block types with a device quantizer (quantize.cuh); other block types with a
 * from_float are written through the host (rows_host.c). */
bool cu_device_quantizer(qg_type t);

/* compute.c */
qg_status cu_compute(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes);

/* A tensor as the kernels see it: type, shape, byte strides, device address. */
typedef struct cu_tensor {
    int type;
    int64_t ne[4];
    int64_t nb[4];
    char *data;
} cu_tensor;

void cu_tensor_of(const qg_tensor *t, cu_tensor *out);

/* Op launchers (ops_*.cu): queue the node's kernels on dev->stream; launch errors are
 * returned, execution errors surface at the next synchronisation. */
qg_status cu_op_binary(qg_plugin_device *dev, qg_tensor *node);      /* ADD, MUL */
qg_status cu_op_unary(qg_plugin_device *dev, qg_tensor *node);       /* SCALE, SILU, GELU */
qg_status cu_op_norm(qg_plugin_device *dev, qg_tensor *node);        /* RMS_NORM, NORM */
qg_status cu_op_soft_max(qg_plugin_device *dev, qg_tensor *node);
qg_status cu_op_rope(qg_plugin_device *dev, qg_tensor *node);
qg_status cu_op_get_rows(qg_plugin_device *dev, qg_tensor *node);
qg_status cu_op_set_rows(qg_plugin_device *dev, qg_tensor *node);
qg_status cu_op_cpy(qg_plugin_device *dev, qg_tensor *node);

/* Block-typed output rows are produced in float first and quantized afterwards. A stage
 * holds, in one scratch allocation: n_rows contiguous float rows of ne0 values, the byte
 * offset of each row's destination (< 0: skip the row) and room for the quantized rows. */
typedef struct cu_stage {
    float *rows;
    int64_t *off;
    void *qbytes;
    void *extra;      /* extra_bytes more for the caller (SET_ROWS: its row winners) */
    int64_t ne0, n_rows;
} cu_stage;
qg_status cu_stage_begin(qg_plugin_device *dev, qg_type type, int64_t ne0, int64_t n_rows, size_t extra_bytes,
                         cu_stage *s);
/* Quantize the staged rows into base + off[r]: on the device when the type has a device
 * quantizer, else through the host's from_float (rows_host.c). */
qg_status cu_stage_store(qg_plugin_device *dev, qg_type type, char *base, const cu_stage *s);
/* rows_host.c */
qg_status cu_stage_store_host(qg_plugin_device *dev, qg_type type, char *base, const cu_stage *s);
/* Launchers used by the stage code (ops_store.cu). */
qg_status cu_launch_quantize(qg_plugin_device *dev, qg_type type, char *base, const cu_stage *s);
qg_status cu_launch_scatter(qg_plugin_device *dev, char *base, const cu_stage *s, size_t row_bytes);

/* Where an op writes its float results: straight into a plain-typed node, or into the
 * rows of a stage (an F32 contiguous tensor of the node's shape) for block types. */
typedef struct cu_out {
    cu_tensor t;
    bool staged;
    cu_stage stage;
} cu_out;
qg_status cu_out_begin(qg_plugin_device *dev, const qg_tensor *node, cu_out *out);
/* For a staged output: the node's row offsets, then cu_stage_store. No-op otherwise. */
qg_status cu_out_end(qg_plugin_device *dev, const qg_tensor *node, cu_out *out);
/* Queue off[r] = byte offset of row r (r over (i1, i2, i3) of ne) with strides nb. */
qg_status cu_launch_row_offsets(qg_plugin_device *dev, const int64_t ne[4], const int64_t nb[4], int64_t *off);

#ifdef __cplusplus
}
#endif
#endif
