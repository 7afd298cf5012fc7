/* The guest program of test_cpu_avx512: a freestanding x86-64 ELF (no libc) that
 * tools/emu/qg_emu.py runs under the Bochs CPU emulator. Its entry point takes the data
 * block of tests/avx512_job.h, records what CPUID says, then runs every job through the
 * AVX-512 lookups of backends/cpu/simd_table_avx512.c (the functions the "avx512" table
 * hands out where it does not fall back to AVX2), writing results into the block. Jobs
 * of the FAULT kinds fail on purpose, to check that the runner reports it. */
#include <cpuid.h>
#include <stddef.h>
#include <stdint.h>

#include "avx512_job.h"
#include "backends/cpu/simd_avx512.h"

uint64_t qg_guest_main(unsigned char *base, uint64_t size);

/* A GEMM job the way ops_mul_mat.c runs the tiled path: every column packed once, the
 * weight rows packed into panels of CPU_GEMM_ROWS, then run (per panel) or run_panels
 * (all panels at once). Returns the job status. */
static int32_t run_gemm(const avx512_job *j, unsigned char *base) {
    const cpu_gemm_fns *gf = cpu_avx512_gemm(j->feats);
    const cpu_gemm *g = gf ? gf->find((qg_type)j->type) : NULL;
    if (!g || (j->kind == AVX512_GEMM_PANELS && !gf->run_panels)) return -1;
    const int64_t k = j->n;
    const int np = (j->nrows + CPU_GEMM_ROWS - 1) / CPU_GEMM_ROWS;
    const size_t xsz = gf->x_size(k), psz = gf->panel_size(k);
    unsigned char *scratch = base + ((j->scratch + 63) & ~(uint64_t)63);
    if ((size_t)j->ncols * xsz + (size_t)np * psz + 64 > j->scratch_size) return -2;
    unsigned char *xpack = scratch, *panels = scratch + (size_t)j->ncols * xsz;
    for (int c = 0; c < j->ncols; c++) gf->pack_x(g, base + j->y + (size_t)c * j->ys, k, xpack + (size_t)c * xsz);
    for (int p = 0; p < np; p++) {
        const int rows = j->nrows - p * CPU_GEMM_ROWS < CPU_GEMM_ROWS ? j->nrows - p * CPU_GEMM_ROWS : CPU_GEMM_ROWS;
        gf->pack_w(g, base + j->x + (size_t)p * CPU_GEMM_ROWS * j->xs, (size_t)j->xs, rows, k, panels + (size_t)p * psz);
    }
    char *out = (char *)(base + j->out);
    const size_t ldo = (size_t)j->nrows * sizeof(float);
    if (j->kind == AVX512_GEMM_PANELS) {
        gf->run_panels(g, panels, psz, j->nrows, k, xpack, xsz, j->ncols, out, ldo);
    } else {
        for (int p = 0; p < np; p++) {
            const int rows = j->nrows - p * CPU_GEMM_ROWS < CPU_GEMM_ROWS ? j->nrows - p * CPU_GEMM_ROWS : CPU_GEMM_ROWS;
            gf->run(g, panels + (size_t)p * psz, rows, k, xpack, xsz, j->ncols, out + (size_t)p * CPU_GEMM_ROWS * sizeof(float),
                    ldo);
        }
    }
    return 1;
}

uint64_t qg_guest_main(unsigned char *base, uint64_t size) {
    avx512_header *h = (avx512_header *)base;
    if (size < sizeof *h || h->magic != AVX512_JOB_MAGIC) return 1;
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    h->cpuid7_ebx = b;
    h->cpuid7_ecx = c;
    __cpuid_count(7, 1, a, b, c, d);
    h->cpuid7_1_eax = a;
    avx512_job *jobs = (avx512_job *)(base + h->jobs);
    for (uint32_t i = 0; i < h->njobs; i++) {
        avx512_job *j = &jobs[i];
        h->current = i;
        const void *x = base + j->x, *y = base + j->y;
        float *out = (float *)(base + j->out);
        j->status = -1;
        switch (j->kind) {
        case AVX512_VEC_DOT: {
            qg_vec_dot_fn f = cpu_avx512_vec_dot((qg_type)j->type, j->feats);
            if (f) {
                out[0] = f(j->n, x, y);
                j->status = 1;
            }
            break;
        }
        case AVX512_VEC_DOT4: {
            cpu_dot4_fn f = cpu_avx512_vec_dot4((qg_type)j->type, j->feats);
            if (f) {
                f(j->n, x, y, (size_t)j->ys, out);
                j->status = 1;
            }
            break;
        }
        case AVX512_DOT_ROWS: {
            cpu_dot_rows_fn f = cpu_avx512_vec_dot_rows((qg_type)j->type, j->feats);
            if (f) {
                f(j->n, x, (size_t)j->xs, y, out, j->nrows);
                j->status = 1;
            }
            break;
        }
        case AVX512_FROM_FLOAT: {
            qg_from_float_fn f = cpu_avx512_from_float((qg_type)j->type);
            if (f) {
                f((const float *)x, out, j->n);
                j->status = 1;
            }
            break;
        }
        case AVX512_GEMM:
        case AVX512_GEMM_PANELS: j->status = run_gemm(j, base); break;
        case AVX512_FAULT_UD: __builtin_trap();
        case AVX512_FAULT_PF: out[0] = *(volatile float *)(uintptr_t)0x40000000u; break;
        case AVX512_FAULT_LOOP:
            for (;;) __asm__ volatile("");
        default: break;
        }
    }
    h->current = h->njobs;
    return 0;
}
