/* The data block that tests/avx512_int_check.c (host) hands to tests/avx512_int_guest.c
 * (the freestanding guest run under tools/emu/qg_emu.py): a header, a table of calls of
 * the AVX-512 VNNI dot products (simd_avx512_int.h), and the operand bytes they point
 * into by offsets from the start of the block. The guest writes each call's floats at its
 * out offset and a status per call.
 */
#ifndef QG_TEST_AVX512_INT_GUEST_H
#define QG_TEST_AVX512_INT_GUEST_H

#include <stdint.h>

#define AVX512_INT_MAGIC 0x31494e4e56515147ull /* "GQQVNNI1" */

enum { AVX512_INT_DOT = 0, AVX512_INT_DOT4 = 1, AVX512_INT_ROWS = 2 };
enum { AVX512_INT_PENDING = 0, AVX512_INT_DONE = 1, AVX512_INT_NO_FUNCTION = 2 };

typedef struct avx512_int_call {
    uint32_t type;    /* qg_type of the weights */
    uint32_t kind;    /* AVX512_INT_DOT, _DOT4 or _ROWS */
    int64_t n;        /* elements per row */
    uint64_t x_off;   /* weight row(s) */
    uint64_t y_off;   /* activation row(s) */
    uint64_t out_off; /* results: 1 float (DOT), 4 (DOT4), nrows (ROWS) */
    uint64_t xs;      /* ROWS: bytes between weight rows */
    uint64_t ys;      /* DOT4: bytes between activation rows */
    int32_t nrows;    /* ROWS */
    uint32_t status;  /* written by the guest */
} avx512_int_call;

typedef struct avx512_int_header {
    uint64_t magic;
    uint32_t ncalls;  /* the calls follow the header */
    uint32_t done;    /* written by the guest: calls run */
} avx512_int_header;

#endif
