/* The type table: one row per storage type with its block geometry, its scalar reference
 * conversions and dot product, and its partner (vec_dot) type. Everything type-specific
 * elsewhere goes through qg_type_get(). Lookups by id use an index from GGUF ids (0..63)
 * to rows, built once on first use; the few FP8 ids (1000+) are found by a short scan. */
#include "qg/core.h"

#include "core/quant/kquants.h"
#include "core/quant/quant.h"

#include <ctype.h>
#include <pthread.h>

_Static_assert(sizeof(qg_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(qg_block_q4_1) == 20, "q4_1 block");
_Static_assert(sizeof(qg_block_q5_0) == 22, "q5_0 block");
_Static_assert(sizeof(qg_block_q5_1) == 24, "q5_1 block");
_Static_assert(sizeof(qg_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(qg_block_q8_1) == 36, "q8_1 block");
_Static_assert(sizeof(qg_block_mxfp4) == 17, "mxfp4 block");
_Static_assert(sizeof(qg_block_nvfp4) == 36, "nvfp4 block");
_Static_assert(sizeof(qg_block_mxfp8) == 33, "mxfp8 block");
_Static_assert(sizeof(qg_block_tq1_0) == 54, "tq1_0 block");
_Static_assert(sizeof(qg_block_tq2_0) == 66, "tq2_0 block");
_Static_assert(sizeof(qg_block_q8_K) == 292, "q8_K block");

/* Row builders: PLAIN for one-element types, BLOCK for quantized blocks. */
#define PLAIN(T, nm, ctype, partner, dot)                                             \
    { QG_TYPE_##T, #nm, 1, sizeof(ctype), false, false, qg_to_float_##nm,              \
      qg_from_float_##nm, QG_TYPE_##partner, dot }
#define INTEGER(T, nm, ctype)                                                         \
    { QG_TYPE_##T, #nm, 1, sizeof(ctype), false, true, qg_to_float_##nm,               \
      qg_from_float_##nm, QG_TYPE_##T, NULL }
#define BLOCK(T, nm, qk, size, partner, dot)                                          \
    { QG_TYPE_##T, #nm, qk, size, true, false, qg_to_float_##nm, qg_from_float_##nm,  \
      QG_TYPE_##partner, dot }

static const qg_type_traits rows[] = {
    PLAIN(F32, f32, float, F32, qg_vec_dot_f32),
    PLAIN(F16, f16, uint16_t, F16, qg_vec_dot_f16),
    BLOCK(Q4_0, q4_0, 32, 18, Q8_0, qg_vec_dot_q4_0),
    BLOCK(Q4_1, q4_1, 32, 20, Q8_1, qg_vec_dot_q4_1),
    BLOCK(Q5_0, q5_0, 32, 22, Q8_0, qg_vec_dot_q5_0),
    BLOCK(Q5_1, q5_1, 32, 24, Q8_1, qg_vec_dot_q5_1),
    BLOCK(Q8_0, q8_0, 32, 34, Q8_0, qg_vec_dot_q8_0),
    BLOCK(Q8_1, q8_1, 32, 36, Q8_1, NULL),
    BLOCK(Q2_K, q2_K, 256, 84, Q8_K, qg_vec_dot_q2_K),
    BLOCK(Q3_K, q3_K, 256, 110, Q8_K, qg_vec_dot_q3_K),
    BLOCK(Q4_K, q4_K, 256, 144, Q8_K, qg_vec_dot_q4_K),
    BLOCK(Q5_K, q5_K, 256, 176, Q8_K, qg_vec_dot_q5_K),
    BLOCK(Q6_K, q6_K, 256, 210, Q8_K, qg_vec_dot_q6_K),
    BLOCK(Q8_K, q8_K, 256, 292, Q8_K, NULL),
    BLOCK(IQ4_NL, iq4_nl, 32, 18, Q8_0, qg_vec_dot_iq4_nl),
    BLOCK(IQ4_XS, iq4_xs, 256, 136, Q8_K, qg_vec_dot_iq4_xs),
    INTEGER(I8, i8, int8_t),
    INTEGER(I16, i16, int16_t),
    INTEGER(I32, i32, int32_t),
    INTEGER(I64, i64, int64_t),
    PLAIN(F64, f64, double, F64, NULL),
    PLAIN(BF16, bf16, uint16_t, BF16, qg_vec_dot_bf16),
    BLOCK(TQ1_0, tq1_0, 256, 54, Q8_K, qg_vec_dot_tq1_0),
    BLOCK(TQ2_0, tq2_0, 256, 66, Q8_K, qg_vec_dot_tq2_0),
    BLOCK(MXFP4, mxfp4, 32, 17, Q8_0, qg_vec_dot_mxfp4),
    BLOCK(NVFP4, nvfp4, 64, 36, Q8_0, qg_vec_dot_nvfp4),
    PLAIN(F8_E4M3, f8_e4m3, uint8_t, F32, qg_vec_dot_f8_e4m3),
    PLAIN(F8_E5M2, f8_e5m2, uint8_t, F32, qg_vec_dot_f8_e5m2),
    BLOCK(MXFP8_E4M3, mxfp8_e4m3, 32, 33, F32, qg_vec_dot_mxfp8_e4m3),
    BLOCK(MXFP8_E5M2, mxfp8_e5m2, 32, 33, F32, qg_vec_dot_mxfp8_e5m2),
};

#define N_ROWS ((int)(sizeof rows / sizeof rows[0]))
#define N_GGUF_IDS 64

static const qg_type_traits *by_id[N_GGUF_IDS];
static pthread_once_t by_id_once = PTHREAD_ONCE_INIT;

static void build_index(void) {
    for (int i = 0; i < N_ROWS; i++)
        if ((unsigned)rows[i].type < N_GGUF_IDS) by_id[rows[i].type] = &rows[i];
}

const qg_type_traits *qg_type_get(qg_type type) {
    if ((unsigned)type < N_GGUF_IDS) {
        pthread_once(&by_id_once, build_index);
        return by_id[type];
    }
    for (int i = 0; i < N_ROWS; i++)
        if (rows[i].type == type) return &rows[i];
    return NULL;
}

const qg_type_traits *qg_type_by_name(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < N_ROWS; i++) {
        const char *a = rows[i].name, *b = name;
        while (*a && *b && tolower((unsigned char)*a) == tolower((unsigned char)*b)) a++, b++;
        if (*a == '\0' && *b == '\0') return &rows[i];
    }
    return NULL;
}

const qg_type_traits *qg_type_table(int *count) {
    if (count) *count = N_ROWS;
    return rows;
}

const char *qg_type_name(qg_type type) {
    const qg_type_traits *t = qg_type_get(type);
    return t ? t->name : "?";
}

size_t qg_row_size(qg_type type, int64_t n) {
    const qg_type_traits *t = qg_type_get(type);
    if (!t || n < 0 || n % t->block_size != 0) return 0;
    return (size_t)(n / t->block_size) * t->type_size;
}
