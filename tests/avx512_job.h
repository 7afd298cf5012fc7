/* The data block that tests/test_cpu_avx512.c (host) hands to tests/avx512_guest.c
 * (guest, run under tools/emu/qg_emu.py): a header, an array of jobs, and the jobs'
 * buffers, all addressed by byte offsets from the start of the block so that it means
 * the same at the host's and the guest's address. Plain C, shared by both. */
#ifndef QG_TEST_AVX512_JOB_H
#define QG_TEST_AVX512_JOB_H

#include <stdint.h>

#define AVX512_JOB_MAGIC 0x35315841u /* "AX51" */

enum avx512_job_kind {
    AVX512_VEC_DOT = 1,    /* out[0] = vec_dot(n, x, y) */
    AVX512_VEC_DOT4 = 2,   /* vec_dot4(n, x, y, ys, out) */
    AVX512_DOT_ROWS = 3,   /* vec_dot_rows(n, x, xs, y, out, nrows) */
    AVX512_FROM_FLOAT = 4, /* from_float((float *)x, out, n) */
    /* the tiled mat-mat (cpu_avx512_gemm): nrows weight rows xs bytes apart against ncols
     * activation columns ys bytes apart, out[c * nrows + r]; scratch for the packing.
     * GEMM: pack_w + run per panel of up to 16 rows; GEMM_PANELS: run_panels. */
    AVX512_GEMM = 5,
    AVX512_GEMM_PANELS = 6,
    /* the runner must report these as failures: */
    AVX512_FAULT_UD = 100,   /* an invalid instruction (ud2) */
    AVX512_FAULT_PF = 101,   /* a read of unmapped memory */
    AVX512_FAULT_LOOP = 102, /* a loop that never ends */
};

typedef struct avx512_job {
    uint32_t kind;   /* avx512_job_kind */
    uint32_t type;   /* qg_type: the weight type (the partner type for FROM_FLOAT) */
    int64_t n;       /* elements per row */
    uint64_t x, y, out; /* offsets of the buffers */
    uint64_t xs, ys; /* row strides in bytes (DOT_ROWS: xs; VEC_DOT4: ys) */
    int32_t nrows;   /* DOT_ROWS */
    uint32_t feats;  /* the lookups' CPU_AVX512_* bits (backends/cpu/simd.h) */
    int32_t status;  /* written by the guest: 1 ran, -1 no AVX-512 function for it,
                        -2 scratch too small */
    int32_t ncols;   /* GEMM */
    uint64_t scratch, scratch_size; /* GEMM: a buffer for the packed data */
} avx512_job;

typedef struct avx512_header {
    uint32_t magic;
    uint32_t njobs;
    uint64_t jobs;       /* offset of the avx512_job array */
    uint32_t cpuid7_ebx; /* written by the guest: CPUID leaf 7 subleaf 0 EBX, ECX */
    uint32_t cpuid7_ecx;
    uint32_t cpuid7_1_eax; /* leaf 7 subleaf 1 EAX (bit 5: AVX512_BF16) */
    uint32_t current;    /* written by the guest before each job: its index */
} avx512_header;

#endif
