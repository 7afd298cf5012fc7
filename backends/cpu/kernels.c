/* The CPU backend's kernel tables, one per device: "cpu-ref" always uses the scalar
 * reference table; "cpu" uses the best table for this processor, which today is the
 * same scalar table (SIMD tables will be chosen here from the detected features).
 */
#include "cpu.h"

const cpu_kernels cpu_kernels_ref = {
    .name = "scalar",
    .op = {
        [QG_OP_ADD] = cpu_ref_add,
        [QG_OP_MUL] = cpu_ref_mul,
        [QG_OP_SCALE] = cpu_ref_scale,
        [QG_OP_MUL_MAT] = cpu_ref_mul_mat,
        [QG_OP_GET_ROWS] = cpu_ref_get_rows,
        [QG_OP_RMS_NORM] = cpu_ref_rms_norm,
        [QG_OP_NORM] = cpu_ref_norm,
        [QG_OP_SOFT_MAX] = cpu_ref_soft_max,
        [QG_OP_ROPE] = cpu_ref_rope,
        [QG_OP_SILU] = cpu_ref_silu,
        [QG_OP_GELU] = cpu_ref_gelu,
        [QG_OP_CPY] = cpu_ref_cpy,
        [QG_OP_SET_ROWS] = cpu_ref_set_rows,
    },
};

const cpu_kernels *cpu_kernels_best(void) { return &cpu_kernels_ref; }
