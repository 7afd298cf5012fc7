/* Internal declarations of the CPU backend plugin: the device and buffer objects, the
 * per-thread kernel parameters, the per-device kernel table, and the row helpers all
 * kernels share.
 *
 * A kernel is called once per thread for one node with (ith, nth); it writes only its
 * own share of the output (whole rows, or chunks of 16 floats) so threads never write
 * the same cache line of a contiguous F32 output. Kernels with several phases separate
 * them with cpu_barrier_wait(p->barrier); such kernels must reach every barrier even
 * when they fail. Data-dependent failures (row ids) are reported with cpu_fail().
 */
#ifndef QG_CPU_H
#define QG_CPU_H

#include "qg/plugin.h"
#include "simd.h"
#include "threadpool.h"

#define CPU_ALIGN 64
#define CPU_MAX_THREADS 512

typedef struct cpu_errslot cpu_errslot;

typedef struct cpu_params {
    int ith, nth;
    cpu_barrier *barrier;
    void *wshared;        /* scratch shared by all threads of this node */
    size_t wshared_size;
    void *wthread;        /* this thread's private scratch (CPU_ALIGN-aligned) */
    size_t wthread_size;
    cpu_errslot *err;
} cpu_params;

typedef qg_status (*cpu_kernel_fn)(const cpu_params *p, qg_tensor *node);

/* The kernels of one device, indexed by op; NULL for view ops and unsupported ops.
 * Faster variants (SIMD) get their own table; "cpu-ref" always uses cpu_kernels_ref. */
typedef struct cpu_kernels {
    const char *name;
    cpu_kernel_fn op[QG_OP_COUNT];
} cpu_kernels;

extern const cpu_kernels cpu_kernels_ref;
/* The best table for the running processor. */
const cpu_kernels *cpu_kernels_best(void);

struct qg_plugin_device {
    int index;
    const char *name;
    int n_threads;
    cpu_pool *pool;
    const cpu_kernels *kernels;
    unsigned char *scratch;   /* grow-on-demand work area for compute() */
    size_t scratch_size;
};

struct qg_plugin_buffer {
    qg_plugin_device *dev;
    unsigned char *data;
    size_t size;
};

/* Record a kernel failure (the first one of a compute wins) and return st. */
qg_status cpu_fail(const cpu_params *p, qg_status st, const char *fmt, ...) QG_PRINTF(3, 4);

/* Run nodes[0..n) on the device's pool (compute.c). */
qg_status cpu_compute(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes);
/* Whether the reference kernels handle this node (supports.c). */
bool cpu_supports_op(const qg_tensor *node);

/* Scratch a node needs: shared bytes, and bytes per thread. */
size_t cpu_mul_mat_shared_size(const qg_tensor *node);

/* Split n items over nth threads: thread ith gets [*lo, *hi). */
static inline void cpu_split(int64_t n, int ith, int nth, int64_t *lo, int64_t *hi) {
    *lo = n * ith / nth;
    *hi = n * (ith + 1) / nth;
}

static inline char *cpu_row_ptr(const qg_tensor *t, int64_t i1, int64_t i2, int64_t i3) {
    return (char *)t->data + (size_t)i1 * t->nb[1] + (size_t)i2 * t->nb[2] + (size_t)i3 * t->nb[3];
}

/* Row (i1, i2, i3) of t as ne[0] floats: a pointer into t when it is an F32 row with
 * unit stride, otherwise converted into buf (ne[0] floats). */
const float *cpu_load_row(const qg_tensor *t, int64_t i1, int64_t i2, int64_t i3, float *buf);
/* Where to compute row (i1, i2, i3) of t in float: the row itself when t is F32 with unit
 * stride, otherwise buf; cpu_store_row() then converts buf into the row (no-op when the
 * pointer is the row itself). */
float *cpu_out_row(qg_tensor *t, int64_t i1, int64_t i2, int64_t i3, float *buf);
void cpu_store_row(qg_tensor *t, int64_t i1, int64_t i2, int64_t i3, const float *src);

/* Read id i of an I32 or I64 ids tensor at (i0, i1, i2). */
static inline int64_t cpu_read_id(const qg_tensor *ids, int64_t i0, int64_t i1, int64_t i2) {
    const char *p = (const char *)ids->data + (size_t)i0 * ids->nb[0] + (size_t)i1 * ids->nb[1] +
                    (size_t)i2 * ids->nb[2];
    if (ids->type == QG_TYPE_I64) return *(const int64_t *)p;
    return *(const int32_t *)p;
}

/* Kernels (reference, scalar). */
/* ADD/MUL walker shared by the reference and SIMD kernels: row(x, y, out, n) is called
 * for each piece of a row against src1's (broadcast) row. */
typedef void (*cpu_binary_row_fn)(const float *x, const float *y, float *out, int64_t n);
qg_status cpu_binary_rows(const cpu_params *p, qg_tensor *node, cpu_binary_row_fn row);
qg_status cpu_ref_add(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_mul(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_scale(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_silu(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_gelu(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_rms_norm(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_norm(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_soft_max(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_rope(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_get_rows(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_set_rows(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_cpy(const cpu_params *p, qg_tensor *node);
qg_status cpu_ref_mul_mat(const cpu_params *p, qg_tensor *node);

/* Kernels of the fast device with SIMD row math (ops_fast.c); need cpu_simd_best(). */
qg_status cpu_fast_silu(const cpu_params *p, qg_tensor *node);
qg_status cpu_fast_gelu(const cpu_params *p, qg_tensor *node);
qg_status cpu_fast_rms_norm(const cpu_params *p, qg_tensor *node);
qg_status cpu_fast_soft_max(const cpu_params *p, qg_tensor *node);

/* MUL_MAT with the given dot product (weight type against its partner type) and partner
 * quantizer: the reference passes the type table's, the fast table SIMD ones. */
qg_status cpu_mul_mat_run(const cpu_params *p, qg_tensor *node, qg_vec_dot_fn vec_dot, cpu_dot4_fn vec_dot4,
                          qg_from_float_fn from_float);

#endif
