/* qgraph core: status codes, error reporting and the element type table.
 *
 * Every function that can fail returns a qg_status; the human-readable reason is kept
 * per thread and read with qg_last_error(). The type table describes each storage type
 * (F32, F16, the GGUF quantized blocks, FP8): its block size, its bytes per block, its
 * scalar reference conversions to and from float, and the "partner" type that
 * activations are quantized to for dot products against it. Look a row up with
 * qg_type_get(); everything type-specific in the code base goes through that row.
 */
#ifndef QG_CORE_H
#define QG_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define QG_API __attribute__((visibility("default")))
#define QG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define QG_API
#define QG_PRINTF(fmt, args)
#endif

#define QG_VERSION_MAJOR 0
#define QG_VERSION_MINOR 1
#define QG_VERSION_PATCH 0

typedef enum qg_status {
    QG_OK = 0,
    QG_ERR_INVALID_ARG = 1,  /* caller passed something that cannot be right */
    QG_ERR_NO_MEMORY = 2,    /* an allocation (host or device) failed */
    QG_ERR_IO = 3,           /* open/read/write/mmap failed */
    QG_ERR_FORMAT = 4,       /* a file or buffer is malformed */
    QG_ERR_UNSUPPORTED = 5,  /* valid request the implementation does not handle */
    QG_ERR_SHAPE = 6,        /* tensor shapes/types do not fit the op */
    QG_ERR_PLUGIN = 7,       /* a plugin could not be loaded or initialised */
    QG_ERR_BACKEND = 8,      /* a backend failed while running */
    QG_ERR_NOT_FOUND = 9,    /* a named thing (device, tensor, key) does not exist */
} qg_status;

/* Name of a status ("QG_ERR_FORMAT"). */
QG_API const char *qg_status_name(qg_status st);

/* Message of the last failure on this thread ("" when none). */
QG_API const char *qg_last_error(void);

/* Record a failure message for this thread and return st (so `return qg_set_error(...)`). */
QG_API qg_status qg_set_error(qg_status st, const char *fmt, ...) QG_PRINTF(2, 3);

/* Clear this thread's error message. */
QG_API void qg_clear_error(void);

/* Storage types. Values are the GGUF type ids; FP8 ids (1000+) are this project's. */
typedef enum qg_type {
    QG_TYPE_F32 = 0,
    QG_TYPE_F16 = 1,
    QG_TYPE_Q4_0 = 2,
    QG_TYPE_Q4_1 = 3,
    QG_TYPE_Q5_0 = 6,
    QG_TYPE_Q5_1 = 7,
    QG_TYPE_Q8_0 = 8,
    QG_TYPE_Q8_1 = 9,
    QG_TYPE_Q2_K = 10,
    QG_TYPE_Q3_K = 11,
    QG_TYPE_Q4_K = 12,
    QG_TYPE_Q5_K = 13,
    QG_TYPE_Q6_K = 14,
    QG_TYPE_Q8_K = 15,
    QG_TYPE_IQ4_NL = 20,
    QG_TYPE_IQ4_XS = 23,
    QG_TYPE_I8 = 24,
    QG_TYPE_I16 = 25,
    QG_TYPE_I32 = 26,
    QG_TYPE_I64 = 27,
    QG_TYPE_F64 = 28,
    QG_TYPE_BF16 = 30,
    QG_TYPE_TQ1_0 = 34,
    QG_TYPE_TQ2_0 = 35,
    QG_TYPE_MXFP4 = 39,
    QG_TYPE_NVFP4 = 40,
    QG_TYPE_F8_E4M3 = 1000,
    QG_TYPE_F8_E5M2 = 1001,
    QG_TYPE_MXFP8_E4M3 = 1002,
    QG_TYPE_MXFP8_E5M2 = 1003,
} qg_type;

/* Convert n elements (n a multiple of the block size) of a type to float. */
typedef void (*qg_to_float_fn)(const void *src, float *dst, int64_t n);
/* Quantize/convert n floats (n a multiple of the block size) into the type. */
typedef void (*qg_from_float_fn)(const float *src, void *dst, int64_t n);
/* Dot product of n elements: x in the row's type, y in its vec_dot_type. */
typedef float (*qg_vec_dot_fn)(int64_t n, const void *x, const void *y);

typedef struct qg_type_traits {
    qg_type type;
    const char *name;          /* lower case, as llama.cpp prints it: "q4_0", "f16" */
    int64_t block_size;        /* elements per block (1 for plain types) */
    size_t type_size;          /* bytes per block */
    bool is_quantized;         /* block type with scales */
    bool is_integer;           /* I8..I64 */
    qg_to_float_fn to_float;   /* scalar reference dequantizer/converter; never NULL */
    qg_from_float_fn from_float; /* scalar reference quantizer; NULL where read-only */
    qg_type vec_dot_type;      /* activations are converted to this type for dot products */
    qg_vec_dot_fn vec_dot;     /* scalar reference dot product; NULL: no mul_mat weight */
} qg_type_traits;

/* The row for a type id, or NULL for unknown and retired ids. */
QG_API const qg_type_traits *qg_type_get(qg_type type);

/* Look a type up by name ("q4_k", case-insensitive); NULL if none. */
QG_API const qg_type_traits *qg_type_by_name(const char *name);

/* All rows, for iteration: *count receives the number of rows. */
QG_API const qg_type_traits *qg_type_table(int *count);

/* Name of a type, or "?" for an unknown id. */
QG_API const char *qg_type_name(qg_type type);

/* Bytes of a row of n elements of a type (n must be a multiple of the block size). */
QG_API size_t qg_row_size(qg_type type, int64_t n);

/* Scalar conversions used across the code base (round to nearest even). */
QG_API float qg_fp16_to_fp32(uint16_t h);
QG_API uint16_t qg_fp32_to_fp16(float f);
QG_API float qg_bf16_to_fp32(uint16_t h);
QG_API uint16_t qg_fp32_to_bf16(float f);
QG_API float qg_e4m3_to_fp32(uint8_t v);
QG_API uint8_t qg_fp32_to_e4m3(float f); /* saturates to +-448, NaN stays NaN */
QG_API float qg_e5m2_to_fp32(uint8_t v);
QG_API uint8_t qg_fp32_to_e5m2(float f); /* saturates finite values to +-57344 */

/* Testing hook (fault injection): make the n-th host allocation made by libqgraph from
 * now on fail (return NULL), once; n <= 0 disarms. The environment variable
 * QG_FAIL_ALLOC=n does the same when the library loads. Safe to call from any thread;
 * the count is process-wide, so allocations on other threads count too. */
QG_API void qg_alloc_fail_after(long n);

/* Number of host allocation attempts libqgraph has made since the process started
 * (QG_ALLOC_STATS=1 prints it at exit); a fault sweep uses it to know how far to go. */
QG_API long qg_alloc_count(void);

#ifdef __cplusplus
}
#endif
#endif
