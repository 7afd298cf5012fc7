/* The fast CPU device's kernels that use SIMD row functions (ops_fast.c) beyond those
 * declared in cpu.h, and the per-thread scratch the fast ROPE kernel needs. They require
 * cpu_simd_best() to be non-NULL with the matching row functions (kernels.c checks).
 */
#ifndef QG_CPU_OPS_FAST_H
#define QG_CPU_OPS_FAST_H

#include "cpu.h"

qg_status cpu_fast_norm(const cpu_params *p, qg_tensor *node);
qg_status cpu_fast_scale(const cpu_params *p, qg_tensor *node);
qg_status cpu_fast_add(const cpu_params *p, qg_tensor *node);
qg_status cpu_fast_mul(const cpu_params *p, qg_tensor *node);
qg_status cpu_fast_rope(const cpu_params *p, qg_tensor *node);
qg_status cpu_fast_get_rows(const cpu_params *p, qg_tensor *node);

/* Bytes of per-thread scratch cpu_fast_rope uses for rows of ne0 values. */
size_t cpu_fast_rope_thread_bytes(int64_t ne0);

#endif
