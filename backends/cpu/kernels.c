/* The CPU backend's kernel tables, one per device: "cpu-ref" always uses the scalar
 * reference table; "cpu" uses the best table for this processor. The SIMD table differs
 * from the reference in MUL_MAT (the same loop, ops_mul_mat.c, with the SIMD dot products
 * and activation quantizers of simd.h per weight type, falling back to the scalar ones
 * for types without a SIMD version) and in SILU, GELU, RMS_NORM, SOFT_MAX, NORM, ADD,
 * MUL, SCALE, ROPE and GET_ROWS (SIMD row math, ops_fast.c).
 */
#include "cpu.h"
#include "ops_fast.h"
#include "simd.h"

/* The ops every table takes from the reference kernels. */
#define COMMON_OPS                               \
    [QG_OP_CPY] = cpu_ref_cpy,                   \
    [QG_OP_SET_ROWS] = cpu_ref_set_rows
/* Row ops whose SIMD versions a table may lack. */
#define REF_ROW_OPS                              \
    [QG_OP_ADD] = cpu_ref_add,                   \
    [QG_OP_MUL] = cpu_ref_mul,                   \
    [QG_OP_SCALE] = cpu_ref_scale,               \
    [QG_OP_GET_ROWS] = cpu_ref_get_rows,         \
    [QG_OP_NORM] = cpu_ref_norm,                 \
    [QG_OP_ROPE] = cpu_ref_rope

const cpu_kernels cpu_kernels_ref = {
    .name = "scalar",
    .op = {
        COMMON_OPS,
        REF_ROW_OPS,
        [QG_OP_MUL_MAT] = cpu_ref_mul_mat,
        [QG_OP_RMS_NORM] = cpu_ref_rms_norm,
        [QG_OP_SOFT_MAX] = cpu_ref_soft_max,
        [QG_OP_SILU] = cpu_ref_silu,
        [QG_OP_GELU] = cpu_ref_gelu,
    },
};

static qg_status simd_mul_mat(const cpu_params *p, qg_tensor *node) {
    const qg_type_traits *tw = qg_type_get(node->src[0]->type);
    const cpu_simd_fns *s = cpu_simd_best();
    qg_vec_dot_fn dot = s ? s->vec_dot(tw->type) : NULL;
    cpu_dot4_fn dot4 = s && dot && s->vec_dot4 ? s->vec_dot4(tw->type) : NULL;
    qg_from_float_fn quant = s ? s->from_float(tw->vec_dot_type) : NULL;
    return cpu_mul_mat_run(p, node, dot ? dot : tw->vec_dot, dot4,
                           quant ? quant : qg_type_get(tw->vec_dot_type)->from_float);
}

static const cpu_kernels cpu_kernels_simd = {
    .name = "simd",
    .op = {
        COMMON_OPS,
        [QG_OP_ADD] = cpu_fast_add,
        [QG_OP_MUL] = cpu_fast_mul,
        [QG_OP_SCALE] = cpu_fast_scale,
        [QG_OP_GET_ROWS] = cpu_fast_get_rows,
        [QG_OP_NORM] = cpu_fast_norm,
        [QG_OP_ROPE] = cpu_fast_rope,
        [QG_OP_MUL_MAT] = simd_mul_mat,
        [QG_OP_RMS_NORM] = cpu_fast_rms_norm,
        [QG_OP_SOFT_MAX] = cpu_fast_soft_max,
        [QG_OP_SILU] = cpu_fast_silu,
        [QG_OP_GELU] = cpu_fast_gelu,
    },
};

/* For a SIMD table that has only the MUL_MAT pieces (none in tree today: AVX2 and NEON
 * have every row function). */
static const cpu_kernels cpu_kernels_simd_mm = {
    .name = "simd-mul-mat",
    .op = {
        COMMON_OPS,
        REF_ROW_OPS,
        [QG_OP_MUL_MAT] = simd_mul_mat,
        [QG_OP_RMS_NORM] = cpu_ref_rms_norm,
        [QG_OP_SOFT_MAX] = cpu_ref_soft_max,
        [QG_OP_SILU] = cpu_ref_silu,
        [QG_OP_GELU] = cpu_ref_gelu,
    },
};

const cpu_kernels *cpu_kernels_best(void) {
    const cpu_simd_fns *s = cpu_simd_best();
    if (!s) return &cpu_kernels_ref;
    const bool rows = s->silu_row && s->gelu_row && s->soft_max_row && s->rms_norm_row && s->norm_row &&
                      s->add_row && s->mul_row && s->scale_row && s->rope_row;
    return rows ? &cpu_kernels_simd : &cpu_kernels_simd_mm;
}
