/* Host side of the AVX-512 VNNI dot-product test (ctest test_cpu_avx512_int): builds
 * weight and activation rows for every type the lookups of simd_avx512_int.h cover,
 * runs the kernels in tools/emu/qg_emu.py (Bochs, Sapphire Rapids model) through the
 * guest tests/avx512_int_guest.c, and checks what comes back against the scalar
 * references of the type table:
 *  - vec_dot of every (weight row, activation row) pair: K-quants and IQ4_XS bitwise
 *    equal to the reference (both evaluate the same exact integer sums in the same
 *    double expression); the block-32 types within 2 * (blocks + 16) * FLT_EPSILON * M,
 *    M = sum |w| |y| (plus |block min| |y| for Q4_1/Q5_1), the bound of test_cpu_simd.c;
 *  - vec_dot4 and vec_dot_rows bitwise equal to the vec_dot of the same pairs.
 * Rows: random raw blocks with random finite scales, rows quantized from random floats,
 * saturated rows (every byte 0xFF or 0x80, the extreme codes and K-quant sub-block
 * scales) against activations all +127 or all -127, and rows whose scales are extreme
 * (f16 65504 and subnormals, E8M0 near both ends) against extreme activation scales;
 * lengths of one block up to many, with every remainder of blocks modulo four.
 *
 * Usage: avx512_int_check GUEST.elf QG_EMU_PY. The emulator runs as `$QG_EMU_PYTHON
 * QG_EMU_PY` (python3 when unset; QG_EMU_SHIM, when set, is preloaded for it). Exits 77 with "SKIPPED: ..." when
 * bochscpu cannot be imported.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "avx512_int_guest.h"
#include "qg/qg.h"
#include "testrand.h"

static qgt_rng rng_s = {0x9E3779B97F4A7C15ull};
static uint64_t rnd(void) { return qgt_next(&rng_s); }
static float unif(float lo, float hi) { return qgt_uniform(&rng_s, lo, hi); }
static float gauss(void) { return qgt_normal(&rng_s); }

/* Per weight type: where its scale fields are (f16 offsets; E8M0 byte; -1 none), the
 * f16 block minimum for the bound, and whether results must be bitwise the reference. */
typedef struct {
    qg_type type;
    int f16_off[2], n_f16, e8m0_off, min_off, exact;
} wtype;
static const wtype types[] = {
    {QG_TYPE_Q4_0, {0}, 1, -1, -1, 0},       {QG_TYPE_Q4_1, {0, 2}, 2, -1, 2, 0},
    {QG_TYPE_Q5_0, {0}, 1, -1, -1, 0},       {QG_TYPE_Q5_1, {0, 2}, 2, -1, 2, 0},
    {QG_TYPE_Q8_0, {0}, 1, -1, -1, 0},       {QG_TYPE_IQ4_NL, {0}, 1, -1, -1, 0},
    {QG_TYPE_MXFP4, {0}, 0, 0, -1, 0},       {QG_TYPE_Q2_K, {80, 82}, 2, -1, -1, 1},
    {QG_TYPE_Q3_K, {108}, 1, -1, -1, 1},     {QG_TYPE_Q4_K, {0, 2}, 2, -1, -1, 1},
    {QG_TYPE_Q5_K, {0, 2}, 2, -1, -1, 1},    {QG_TYPE_Q6_K, {208}, 1, -1, -1, 1},
    {QG_TYPE_IQ4_XS, {0}, 1, -1, -1, 1},
};
#define NTYPES (int)(sizeof types / sizeof types[0])
#define NROWS 7 /* weight rows per case (vec_dot_rows runs 4 + 3) */
#define NCOLS 4 /* activation rows per case */

static const float f16_extremes[] = {65504.0f, -65504.0f, 0x1p-24f, -0x1p-24f, 0x1p-14f, 1e-3f, -3.5f, 0.0f};

static uint16_t rand_scale(int extreme) {
    if (extreme) return qg_fp32_to_fp16(f16_extremes[rnd() % 8]);
    return qg_fp32_to_fp16(unif(-2.0f, 2.0f));
}

/* mode 0 random raw bytes, 1 quantized from random floats, 2 saturated, 3 extreme scales */
static void make_weights(const wtype *c, int64_t k, int mode, unsigned char *w) {
    const qg_type_traits *t = qg_type_get(c->type);
    const size_t bytes = qg_row_size(c->type, k);
    if (mode == 1) {
        float *f = malloc((size_t)k * sizeof(float));
        for (int64_t i = 0; i < k; i++) f[i] = gauss() * (i % 7 == 0 ? 3.0f : 0.5f);
        t->from_float(f, w, k);
        free(f);
        return;
    }
    for (size_t i = 0; i < bytes; i++) w[i] = (unsigned char)rnd();
    if (mode == 2) memset(w, (rnd() & 1) ? 0xFF : 0x80, bytes);
    for (int64_t b = 0; b < k / t->block_size; b++) {
        unsigned char *blk = w + (size_t)b * t->type_size;
        for (int j = 0; j < c->n_f16; j++) {
            const uint16_t h = rand_scale(mode == 3);
            memcpy(blk + c->f16_off[j], &h, 2);
        }
        if (c->e8m0_off >= 0) {
            static const unsigned char e_ext[] = {0, 1, 2, 60, 127, 180, 200, 3};
            blk[c->e8m0_off] = mode == 3 ? e_ext[rnd() % 8] : (unsigned char)(110 + rnd() % 30);
        }
    }
}

/* Activation row of the partner type: random quants (never -128, as the quantizers
 * write them) with consistent Q8_1 s / Q8_K bsums, or every quant at sat (+-127). */
static void make_act(qg_type vdt, int64_t k, int sat, int extreme, unsigned char *y) {
    if (vdt == QG_TYPE_Q8_0 || vdt == QG_TYPE_Q8_1) {
        const size_t bs = vdt == QG_TYPE_Q8_0 ? 34 : 36;
        for (int64_t b = 0; b < k / 32; b++) {
            unsigned char *blk = y + (size_t)b * bs;
            int8_t *qs = (int8_t *)(blk + bs - 32);
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                qs[j] = (int8_t)(sat ? sat : (int)(rnd() % 255) - 127);
                sum += qs[j];
            }
            const uint16_t d = extreme ? qg_fp32_to_fp16((rnd() & 1) ? 60000.0f : 0x1p-24f)
                                       : qg_fp32_to_fp16(unif(0.001f, 0.5f));
            memcpy(blk, &d, 2);
            if (vdt == QG_TYPE_Q8_1) {
                const uint16_t s = qg_fp32_to_fp16((float)sum * qg_fp16_to_fp32(d));
                memcpy(blk + 2, &s, 2);
            }
        }
    } else {
        for (int64_t b = 0; b < k / 256; b++) {
            unsigned char *blk = y + (size_t)b * 292;
            const float d = extreme ? ((rnd() & 1) ? 3e25f : 1e-35f) : unif(0.001f, 0.5f);
            int8_t qs[256];
            int16_t bsums[16];
            for (int j = 0; j < 256; j++) qs[j] = (int8_t)(sat ? sat : (int)(rnd() % 255) - 127);
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int l = 0; l < 16; l++) s += qs[16 * g + l];
                bsums[g] = (int16_t)s;
            }
            memcpy(blk, &d, 4);
            memcpy(blk + 4, qs, 256);
            memcpy(blk + 260, bsums, 32);
        }
    }
}

/* One case: NROWS weight rows, NCOLS activation rows, their offsets in the block, and
 * where the calls start. */
typedef struct {
    const wtype *c;
    int64_t k;
    int mode, sat, nrows_call;
    size_t w_off, y_off, wrow, yrow;
    int first_call;
    float ref[NROWS][NCOLS];
    double tol[NROWS][NCOLS];
} tcase;

static unsigned char *blk;
static size_t blk_len, blk_cap;
static size_t blk_alloc(size_t n) {
    const size_t off = (blk_len + 63) & ~(size_t)63;
    if (off + n > blk_cap) {
        blk_cap = 2 * (off + n);
        blk = realloc(blk, blk_cap);
        if (!blk) exit(2);
    }
    memset(blk + blk_len, 0, off + n - blk_len);
    blk_len = off + n;
    return off;
}

/* Run `[LD_PRELOAD=shim] python runner args` and return its exit status (255: killed). */
static int run_emu(const char *runner, const char *args) {
    char cmd[8192];
    const char *shim = getenv("QG_EMU_SHIM"), *py = getenv("QG_EMU_PYTHON");
    snprintf(cmd, sizeof cmd, "%s%s%s'%s' '%s' %s", shim && *shim ? "LD_PRELOAD='" : "", shim && *shim ? shim : "",
             shim && *shim ? "' " : "", py && *py ? py : "python3", runner, args);
    const int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s GUEST.elf QG_EMU_PY\n", argv[0]);
        return 2;
    }
    if (run_emu(argv[2], "--probe") != 0) {
        printf("SKIPPED: needs the Python package bochscpu-python (pip install bochscpu-python)\n");
        return 77;
    }
    static const int64_t b32_lengths[] = {32, 64, 96, 128, 160, 224, 288, 1120};
    static const int64_t kq_lengths[] = {256, 512, 1024, 1280, 1792};
    static tcase cases[NTYPES * 8 * 4];
    int ncases = 0;
    for (int ti = 0; ti < NTYPES; ti++) {
        const wtype *c = &types[ti];
        const qg_type_traits *t = qg_type_get(c->type);
        const int kq = t->block_size == 256;
        const int nlen = kq ? 5 : 8;
        for (int li = 0; li < nlen; li++)
            for (int mode = 0; mode < 4; mode++) {
                tcase *tc = &cases[ncases++];
                tc->c = c;
                tc->k = kq ? kq_lengths[li] : b32_lengths[li];
                tc->mode = mode;
                tc->sat = mode == 2 ? ((rnd() & 1) ? 127 : -127) : 0;
                tc->nrows_call = 5 + (li + mode) % 3;
                tc->wrow = qg_row_size(c->type, tc->k);
                tc->yrow = qg_row_size(t->vec_dot_type, tc->k);
            }
    }
    int ncalls_total = 0;
    for (int i = 0; i < ncases; i++) ncalls_total += NROWS * NCOLS + NROWS + NCOLS;
    blk_alloc(sizeof(avx512_int_header) + (size_t)ncalls_total * sizeof(avx512_int_call));
    for (int i = 0; i < ncases; i++) {
        tcase *tc = &cases[i];
        const qg_type_traits *t = qg_type_get(tc->c->type);
        tc->w_off = blk_alloc(NROWS * tc->wrow);
        tc->y_off = blk_alloc(NCOLS * tc->yrow);
        for (int r = 0; r < NROWS; r++) make_weights(tc->c, tc->k, tc->mode, blk + tc->w_off + r * tc->wrow);
        for (int col = 0; col < NCOLS; col++)
            make_act(t->vec_dot_type, tc->k, tc->sat, tc->mode == 3, blk + tc->y_off + col * tc->yrow);
    }
    /* the calls (out offsets allocated after the operands) */
    int nc = 0;
    for (int i = 0; i < ncases; i++) {
        tcase *tc = &cases[i];
        tc->first_call = nc;
        avx512_int_call *calls = (avx512_int_call *)(blk + sizeof(avx512_int_header));
        for (int r = 0; r < NROWS; r++)
            for (int col = 0; col < NCOLS; col++) {
                const size_t o = blk_alloc(4);
                calls = (avx512_int_call *)(blk + sizeof(avx512_int_header));
                calls[nc++] = (avx512_int_call){tc->c->type, AVX512_INT_DOT, tc->k, tc->w_off + r * tc->wrow,
                                                tc->y_off + col * tc->yrow, o, 0, 0, 0, 0};
            }
        for (int r = 0; r < NROWS; r++) {
            const size_t o = blk_alloc(4 * NCOLS);
            calls = (avx512_int_call *)(blk + sizeof(avx512_int_header));
            calls[nc++] = (avx512_int_call){tc->c->type, AVX512_INT_DOT4, tc->k, tc->w_off + r * tc->wrow,
                                            tc->y_off, o, 0, tc->yrow, 0, 0};
        }
        for (int col = 0; col < NCOLS; col++) {
            const size_t o = blk_alloc(4 * NROWS);
            calls = (avx512_int_call *)(blk + sizeof(avx512_int_header));
            calls[nc++] = (avx512_int_call){tc->c->type, AVX512_INT_ROWS, tc->k, tc->w_off,
                                            tc->y_off + col * tc->yrow, o, tc->wrow, 0, tc->nrows_call, 0};
        }
    }
    avx512_int_header *hdr = (avx512_int_header *)blk;
    hdr->magic = AVX512_INT_MAGIC;
    hdr->ncalls = (uint32_t)nc;
    /* references */
    for (int i = 0; i < ncases; i++) {
        tcase *tc = &cases[i];
        const qg_type_traits *t = qg_type_get(tc->c->type);
        for (int r = 0; r < NROWS; r++)
            for (int col = 0; col < NCOLS; col++) {
                const unsigned char *w = blk + tc->w_off + r * tc->wrow, *y = blk + tc->y_off + col * tc->yrow;
                tc->ref[r][col] = t->vec_dot(tc->k, w, y);
                tc->tol[r][col] = tc->c->exact ? 0.0
                                               : 2.0 * (double)(tc->k / 32 + 16) * FLT_EPSILON *
                                                     qgt_dot_magnitude(t, tc->c->min_off, w, y, tc->k);
            }
    }
    char in[] = "/tmp/qg-avx512-int-XXXXXX";
    const int fd = mkstemp(in);
    if (fd < 0 || write(fd, blk, blk_len) != (ssize_t)blk_len) {
        fprintf(stderr, "cannot write %s\n", in);
        return 2;
    }
    close(fd);
    char out[sizeof in + 4];
    snprintf(out, sizeof out, "%s.out", in);
    char args[4096];
    snprintf(args, sizeof args, "'%s' '%s' '%s'", argv[1], in, out);
    const int rc = run_emu(argv[2], args);
    unlink(in);
    if (rc == 77) {
        printf("SKIPPED: needs the Python package bochscpu-python (pip install bochscpu-python)\n");
        return 77;
    }
    if (rc != 0) {
        fprintf(stderr, "FAIL: the emulator run ended with status %d\n", rc);
        unlink(out);
        return 1;
    }
    FILE *f = fopen(out, "rb");
    if (!f || fread(blk, 1, blk_len, f) != blk_len) {
        fprintf(stderr, "FAIL: cannot read the guest's output %s\n", out);
        return 1;
    }
    fclose(f);
    unlink(out);
    hdr = (avx512_int_header *)blk;
    const avx512_int_call *calls = (const avx512_int_call *)(blk + sizeof(avx512_int_header));
    int fails = 0, checked = 0;
    if (hdr->done != (uint32_t)nc) {
        fprintf(stderr, "FAIL: the guest ran %u of %d calls\n", hdr->done, nc);
        return 1;
    }
#define FAILF(...)                                   \
    do {                                             \
        if (fails++ < 40) fprintf(stderr, __VA_ARGS__); \
    } while (0)
    for (int i = 0; i < ncases; i++) {
        const tcase *tc = &cases[i];
        const char *name = qg_type_name(tc->c->type);
        const avx512_int_call *cl = calls + tc->first_call;
        float dot[NROWS][NCOLS];
        for (int r = 0; r < NROWS; r++)
            for (int col = 0; col < NCOLS; col++, cl++) {
                if (cl->status != AVX512_INT_DONE) {
                    FAILF("FAIL %s: no vec_dot\n", name);
                    continue;
                }
                memcpy(&dot[r][col], blk + cl->out_off, 4);
                const float got = dot[r][col], ref = tc->ref[r][col];
                checked++;
                if (tc->c->exact || isnan(ref)) {
                    if (!(memcmp(&got, &ref, 4) == 0 || (isnan(got) && isnan(ref))))
                        FAILF("FAIL %s k=%lld mode=%d row %d col %d: vec_dot %.9g, scalar %.9g (must be equal)\n", name,
                              (long long)tc->k, tc->mode, r, col, got, ref);
                } else if (!(fabs((double)got - (double)ref) <= tc->tol[r][col]) && !(isinf(ref) && got == ref)) {
                    FAILF("FAIL %s k=%lld mode=%d row %d col %d: vec_dot %.9g, scalar %.9g, diff %.3g > tol %.3g\n",
                          name, (long long)tc->k, tc->mode, r, col, got, ref, fabs((double)got - (double)ref),
                          tc->tol[r][col]);
                }
            }
        for (int r = 0; r < NROWS; r++, cl++) {
            if (cl->status != AVX512_INT_DONE) {
                FAILF("FAIL %s: no vec_dot4\n", name);
                continue;
            }
            for (int col = 0; col < NCOLS; col++) {
                float got;
                memcpy(&got, blk + cl->out_off + 4 * col, 4);
                checked++;
                if (memcmp(&got, &dot[r][col], 4) != 0 && !(isnan(got) && isnan(dot[r][col])))
                    FAILF("FAIL %s k=%lld mode=%d row %d col %d: vec_dot4 %.9g, vec_dot %.9g (must be equal)\n", name,
                          (long long)tc->k, tc->mode, r, col, got, dot[r][col]);
            }
        }
        for (int col = 0; col < NCOLS; col++, cl++) {
            if (cl->status != AVX512_INT_DONE) {
                FAILF("FAIL %s: no vec_dot_rows\n", name);
                continue;
            }
            for (int r = 0; r < tc->nrows_call; r++) {
                float got;
                memcpy(&got, blk + cl->out_off + 4 * r, 4);
                checked++;
                if (memcmp(&got, &dot[r][col], 4) != 0 && !(isnan(got) && isnan(dot[r][col])))
                    FAILF("FAIL %s k=%lld mode=%d row %d col %d: vec_dot_rows (%d rows) %.9g, vec_dot %.9g\n", name,
                          (long long)tc->k, tc->mode, r, col, tc->nrows_call, got, dot[r][col]);
            }
            /* rows past nrows_call must stay untouched (zero) */
            for (int r = tc->nrows_call; r < NROWS; r++) {
                float got;
                memcpy(&got, blk + cl->out_off + 4 * r, 4);
                if (got != 0.0f) FAILF("FAIL %s: vec_dot_rows wrote past its %d rows\n", name, tc->nrows_call);
            }
        }
    }
    printf("%d cases, %d calls, %d results checked, %d failures\n", ncases, nc, checked, fails);
    free(blk);
    return fails ? 1 : 0;
}
