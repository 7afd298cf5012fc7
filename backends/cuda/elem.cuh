/* Device element access shared by the op kernels: read element (i0, i1, i2, i3) of a
 * tensor of any readable type as float (plain types through their element stride,
 * block types through cudamm's decoders in dequant.cuh), and write a float into an
 * element of a plain type with the exact rounding of core/quant's from_float (F16 and
 * the FP8 types round to nearest even with the same saturation rules, BF16 as
 * qg_fp32_to_bf16, integers round half to even and saturate, NaN gives 0).
 * (encode.cuh has the encoders). Also the row-id error flag and the row unravelling
 * helpers.
 */
#ifndef QG_CUDA_ELEM_CUH
#define QG_CUDA_ELEM_CUH

#include "cu.h"
#include "dequant.cuh"
#include "encode.cuh"

#define CU_DEV static __device__ __forceinline__

CU_DEV const char *cu_row(const cu_tensor &t, int64_t i1, int64_t i2, int64_t i3) {
    return t.data + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
}

CU_DEV float cu_load_plain(int type, const char *p) {
    switch (type) {
    case QG_TYPE_F32: return *(const float *)p;
    case QG_TYPE_F16: return qgcu_half_to_float(*(const uint16_t *)p);
    case QG_TYPE_BF16: return qgcu_bf16_to_float(*(const uint16_t *)p);
    case QG_TYPE_F8_E4M3: return qgcu_e4m3_to_float(*(const uint8_t *)p);
    case QG_TYPE_F8_E5M2: return qgcu_e5m2_to_float(*(const uint8_t *)p);
    case QG_TYPE_F64: return (float)*(const double *)p;
    case QG_TYPE_I8: return (float)*(const int8_t *)p;
    case QG_TYPE_I16: return (float)*(const int16_t *)p;
    case QG_TYPE_I32: return (float)*(const int32_t *)p;
    case QG_TYPE_I64: return (float)*(const int64_t *)p;
    default: return 0.0f;
    }
}

/* Element i0 of a row starting at row (blocks packed for block types). */
CU_DEV float cu_load_in_row(const cu_tensor &t, const char *row, int64_t i0) {
    if (qgcu_type_block(t.type) > 1) return qgcu_dequant_elem(t.type, (const uint8_t *)row, i0);
    return cu_load_plain(t.type, row + i0 * t.nb[0]);
}

CU_DEV float cu_load(const cu_tensor &t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return cu_load_in_row(t, cu_row(t, i1, i2, i3), i0);
}

/* A row id (I32 or I64) at (i0, i1, i2). */
CU_DEV int64_t cu_load_id(const cu_tensor &t, int64_t i0, int64_t i1, int64_t i2) {
    const char *p = t.data + i0 * t.nb[0] + i1 * t.nb[1] + i2 * t.nb[2];
    return t.type == QG_TYPE_I64 ? *(const int64_t *)p : (int64_t) * (const int32_t *)p;
}

/* Raise the error flag with the first bad id seen. */
CU_DEV void cu_flag_bad_id(int *err, int64_t id) {
    if (atomicCAS(&err[0], 0, 1) == 0) err[1] = (int)id;
}

CU_DEV void cu_store_plain(int type, char *p, float v) {
    switch (type) {
    case QG_TYPE_F32: *(float *)p = v; break;
    case QG_TYPE_F16: *(uint16_t *)p = cu_f32_to_f16(v); break;
    case QG_TYPE_BF16: *(uint16_t *)p = cu_f32_to_bf16(v); break;
    case QG_TYPE_F8_E4M3: *(uint8_t *)p = cu_f32_to_e4m3(v); break;
    case QG_TYPE_F8_E5M2: *(uint8_t *)p = cu_f32_to_e5m2(v); break;
    case QG_TYPE_F64: *(double *)p = (double)v; break;
    case QG_TYPE_I8: *(int8_t *)p = (int8_t)cu_f32_to_int(v, 8); break;
    case QG_TYPE_I16: *(int16_t *)p = (int16_t)cu_f32_to_int(v, 16); break;
    case QG_TYPE_I32: *(int32_t *)p = (int32_t)cu_f32_to_int(v, 32); break;
    case QG_TYPE_I64: *(int64_t *)p = cu_f32_to_int(v, 64); break;
    default: break;
    }
}

/* Store into element (i0, i1, i2, i3) of a plain-typed tensor (an op's cu_out). */
CU_DEV void cu_store(const cu_tensor &t, int64_t i0, int64_t i1, int64_t i2, int64_t i3, float v) {
    cu_store_plain(t.type, t.data + i0 * t.nb[0] + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3], v);
}

/* Row r of a tensor's row space as (i1, i2, i3). */
CU_DEV void cu_unravel_row(const int64_t ne[4], int64_t r, int64_t *i1, int64_t *i2, int64_t *i3) {
    *i1 = r % ne[1];
    *i2 = (r / ne[1]) % ne[2];
    *i3 = r / (ne[1] * ne[2]);
}

/* Grid of one block per row (capped; kernels loop over rows with the grid stride). */
static inline unsigned cu_row_grid(int64_t n_rows) {
    return (unsigned)(n_rows < 65535 * 16 ? (n_rows > 0 ? n_rows : 1) : 65535 * 16);
}

/* qg_status of the last launch on this thread. */
static inline qg_status cu_launched(const char *what) {
    cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? QG_OK : cu_fail(err, what);
}

#endif
