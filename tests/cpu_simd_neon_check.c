/* The CPU backend's NEON functions against the scalar references, as a standalone
 * program (no cmocka) that tests/cpu_simd.cmake cross-compiles for aarch64 and runs
 * under qemu-aarch64 when an aarch64 cross compiler and qemu-user are installed. The
 * checks and bounds are those of test_cpu_simd.c and test_cpu_simd_rows2.c (the AVX2
 * tests):
 *  - vec_dot of every weight type in the table, on rows of random raw blocks (every level
 *    code; fp16/E8M0 scale fields replaced by random finite ones), rows quantized from
 *    random floats and saturated rows (every level at its extreme against activations
 *    all +127 or all -127), at one block, a few blocks, many blocks and (plain types)
 *    lengths that are not a multiple of the vector width. K-quants and IQ4_XS must equal
 *    the reference bit for bit; the others must lie within
 *    2 (blocks + 16) FLT_EPSILON sum|w||y| (plus |block min||y| for Q4_1/Q5_1);
 *  - vec_dot4 must give, bit for bit, what vec_dot gives for each of four columns, and
 *    vec_dot_rows what vec_dot gives for each of its weight rows;
 *  - every FP8 code alone must convert exactly; an E4M3 NaN code anywhere makes the FP8
 *    and MXFP8 dots NaN, E5M2 infinities give what the reference gives;
 *  - the partner-type quantizers (Q8_0, Q8_1, Q8_K, F16, BF16) are bit-exact on random
 *    rows, rows of rounding ties and rows of special values (NaN, infinities,
 *    subnormals, huge values), the plain types also with tails;
 *  - the row functions and GET_ROWS dequantizers (cpu_simd_neon_check_rows.c).
 * Exit 0 on success, 1 on a mismatch, 77 when the processor lacks the dot-product
 * extension.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/simd.h"
#include "simd_case_data.h"
#include "simd_weight_cases.h"
#include "testrand.h"

static qgt_rng rng_state = {88172645463325252ull};

static uint64_t next(void) { return qgt_next(&rng_state); }
static float normal(void) { return qgt_normal(&rng_state); }

static int failures, checks;

/* cpu_simd_neon_check_rows.c: the row functions and dequantizers; returns failures. */
int neon_check_rows(const cpu_simd_fns *s, int *checks);
static const cpu_simd_fns *simd;

#define FAIL(...)                   \
    do {                            \
        if (failures < 40) printf("FAIL " __VA_ARGS__); \
        failures++;                 \
    } while (0)

static bool same(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }


static bool is_plain(const qg_type_traits *t) { return t->block_size == 1; }





static void check_dot(const wcase *c, int64_t k, int mode, int sat) {
    const qg_type_traits *t = qg_type_get(c->type);
    qg_vec_dot_fn fast = simd->vec_dot(c->type);
    if (!fast) {
        FAIL("%s: no NEON vec_dot\n", t->name);
        return;
    }
    unsigned char *w = malloc(qg_row_size(c->type, k)), *y = malloc(qg_row_size(t->vec_dot_type, k));
    qgt_make_weights(&rng_state, c, k, mode, w);
    qgt_make_act(&rng_state, t->vec_dot_type, k, sat, 0, y);
    const float ref = t->vec_dot(k, w, y), got = fast(k, w, y);
    checks++;
    if (c->exact || isnan(ref)) {
        if (!(memcmp(&ref, &got, sizeof ref) == 0 || (isnan(ref) && isnan(got))))
            FAIL("%s k=%lld mode=%d sat=%d: neon %.9g, scalar %.9g (must be equal)\n", t->name, (long long)k, mode, sat,
                 got, ref);
    } else {
        const int64_t blocks = is_plain(t) ? k / 32 : k / t->block_size;
        const double tol = 2.0 * (double)(blocks + 16) * FLT_EPSILON * qgt_dot_magnitude(t, c->min_off, w, y, k);
        if (!(fabs((double)got - (double)ref) <= tol) && !(isinf(ref) && got == ref))
            FAIL("%s k=%lld mode=%d sat=%d: neon %.9g, scalar %.9g, diff %.3g > tol %.3g\n", t->name, (long long)k,
                 mode, sat, got, ref, fabs((double)got - (double)ref), tol);
    }
    free(w);
    free(y);
}

static void check_vec_dot(void) {
    for (int ci = 0; ci < N_CASES; ci++) {
        const wcase *c = &cases[ci];
        const qg_type_traits *t = qg_type_get(c->type);
        const int64_t bs = is_plain(t) ? 1 : t->block_size;
        const qg_type_traits *tv = qg_type_get(t->vec_dot_type);
        const int64_t unit = bs > tv->block_size ? bs : tv->block_size;
        int64_t ks[] = {unit, 3 * unit, 4096 / unit * unit > unit ? 4096 / unit * unit : 16 * unit, 0, 0};
        if (is_plain(t) && tv->block_size == 1) {
            ks[3] = 37;
            ks[4] = 1005;
        }
        if (c->type == QG_TYPE_F8_E4M3 || c->type == QG_TYPE_F8_E5M2) {
            ks[3] = 13;
            ks[4] = 1003;
        }
        for (int ki = 0; ki < 5; ki++) {
            if (ks[ki] == 0) continue;
            for (int rep = 0; rep < 4; rep++)
                for (int mode = 0; mode < 2; mode++) check_dot(c, ks[ki], mode, 0);
            check_dot(c, ks[ki], 2, 127);
            check_dot(c, ks[ki], 2, -127);
        }
    }
}

/* vec_dot4 must return exactly what vec_dot returns for each of its four columns. */
static void check_vec_dot4(void) {
    for (int ci = 0; ci < N_CASES; ci++) {
        const wcase *c = &cases[ci];
        cpu_dot4_fn dot4 = simd->vec_dot4(c->type);
        if (!dot4) continue;
        const qg_type_traits *t = qg_type_get(c->type);
        const qg_type_traits *tv = qg_type_get(t->vec_dot_type);
        const int64_t unit = t->block_size > tv->block_size ? t->block_size : tv->block_size;
        const int64_t ks[3] = {unit, 5 * unit, is_plain(t) ? 1003 : 17 * unit};
        for (int ki = 0; ki < 3; ki++) {
            const int64_t k = ks[ki];
            const size_t yrow = qg_row_size(t->vec_dot_type, k) + 24; /* a stride that is not the row size */
            unsigned char *w = malloc(qg_row_size(c->type, k)), *y = calloc(4, yrow);
            qgt_make_weights(&rng_state, c, k, ki == 2 ? 1 : 0, w);
            for (int col = 0; col < 4; col++) qgt_make_act(&rng_state, t->vec_dot_type, k, 0, 0, y + (size_t)col * yrow);
            float out[4];
            dot4(k, w, y, yrow, out);
            for (int col = 0; col < 4; col++) {
                const float one = simd->vec_dot(c->type)(k, w, y + (size_t)col * yrow);
                checks++;
                if (!same(one, out[col]))
                    FAIL("%s k=%lld column %d: vec_dot4 %.9g, vec_dot %.9g\n", t->name, (long long)k, col, out[col],
                         one);
            }
            free(w);
            free(y);
        }
    }
}

/* vec_dot_rows must return, for each of its rows, exactly what vec_dot returns. */
static void check_vec_dot_rows(void) {
    if (!simd->vec_dot_rows) {
        FAIL("the NEON table has no vec_dot_rows\n");
        return;
    }
    for (int ci = 0; ci < N_CASES; ci++) {
        const wcase *c = &cases[ci];
        cpu_dot_rows_fn rows = simd->vec_dot_rows(c->type);
        if (!rows) continue;
        const qg_type_traits *t = qg_type_get(c->type);
        const int64_t ks[3] = {t->block_size, 3 * t->block_size, 33 * t->block_size};
        for (int ki = 0; ki < 3; ki++) {
            const int64_t k = ks[ki];
            const int nrows = 9 - 3 * ki; /* 9, 6, 3: a group of four plus single rows */
            const size_t xrow = qg_row_size(c->type, k) + 10; /* a stride that is not the row size */
            unsigned char *w = calloc((size_t)nrows, xrow), *y = malloc(qg_row_size(t->vec_dot_type, k));
            for (int r = 0; r < nrows; r++) qgt_make_weights(&rng_state, c, k, (ki + r) % 2, w + (size_t)r * xrow);
            qgt_make_act(&rng_state, t->vec_dot_type, k, 0, 0, y);
            float out[9];
            rows(k, w, xrow, y, out, nrows);
            for (int r = 0; r < nrows; r++) {
                const float one = simd->vec_dot(c->type)(k, w + (size_t)r * xrow, y);
                checks++;
                if (!same(one, out[r]))
                    FAIL("%s k=%lld row %d of %d: vec_dot_rows %.9g, vec_dot %.9g\n", t->name, (long long)k, r, nrows,
                         out[r], one);
            }
            free(w);
            free(y);
        }
    }
}

/* Every FP8 code alone against y = 1 gives exactly its value; a NaN code anywhere makes
 * the row NaN, E5M2 infinities give what the reference gives. */
static void check_fp8(void) {
    const qg_type plain[2] = {QG_TYPE_F8_E4M3, QG_TYPE_F8_E5M2};
    for (int ti = 0; ti < 2; ti++) {
        const qg_type_traits *t = qg_type_get(plain[ti]);
        for (int code = 0; code < 256; code++) {
            uint8_t x[16] = {0};
            float y[16] = {0}, want;
            x[code % 16] = (uint8_t)code;
            y[code % 16] = 1.0f;
            t->to_float(&x[code % 16], &want, 1);
            const float got = simd->vec_dot(plain[ti])(16, x, y);
            checks++;
            if (!(got == want || (isnan(got) && isnan(want))))
                FAIL("%s code 0x%02x: neon %.9g, expected %.9g\n", t->name, code, got, want);
        }
    }
    const qg_type types[] = {QG_TYPE_F8_E4M3, QG_TYPE_MXFP8_E4M3, QG_TYPE_F8_E5M2, QG_TYPE_MXFP8_E5M2};
    enum { K = 128 };
    unsigned char w[K * 2];
    float y[K];
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const qg_type_traits *t = qg_type_get(types[ti]);
        const bool mx = t->block_size > 1, e4 = ti < 2;
        for (int pos = 0; pos < K; pos += 13) {
            for (int special = 0; special < 3; special++) {
                const size_t bytes = qg_row_size(t->type, K);
                for (size_t i = 0; i < bytes; i++) w[i] = (unsigned char)(next() % 0x70); /* finite, >= 0 */
                if (mx)
                    for (int b = 0; b < K / 32; b++) w[b * 33] = (unsigned char)(120 + next() % 16);
                for (int i = 0; i < K; i++) y[i] = normal();
                const size_t at = mx ? (size_t)(pos / 32) * 33 + 1 + (size_t)(pos % 32) : (size_t)pos;
                /* E4M3: NaN 0x7F / 0xFF; E5M2: +inf 0x7C, -inf 0xFC, NaN 0x7E */
                static const unsigned char e4c[3] = {0x7f, 0xff, 0x7f}, e5c[3] = {0x7c, 0xfc, 0x7e};
                w[at] = e4 ? e4c[special] : e5c[special];
                const float got = simd->vec_dot(t->type)(K, w, y), want = t->vec_dot(K, w, y);
                checks++;
                if (!(isnan(want) ? isnan(got) : got == want))
                    FAIL("%s code 0x%02x at %d: %.9g, reference %.9g\n", t->name, w[at], pos, got, want);
            }
        }
    }
}

/* Rows for the quantizer checks: random, ties, special values, small ramps. */
static void make_quant_row(float *x, int64_t k, int kind) {
    for (int64_t i = 0; i < k; i++) {
        switch (kind) {
        case 0: x[i] = normal() * 3.0f; break;
        case 1: /* amax 127 in every block: d = 1, so halves are exact ties */
            x[i] = (i % 32 == 0) ? 127.0f : (float)((int)(next() % 253) - 126) * 0.5f;
            break;
        case 2: {
            static const float sp[] = {0.0f, -0.0f, 1e-40f, -1e-45f, 65504.0f, 65520.0f, -1e30f, 3.4e38f,
                                       0.5f, -0.5f, 1.5f, 2.5f, 1e-8f, 6.1e-5f, 6.0e-8f, 2.98e-8f};
            x[i] = sp[next() % 16] * (next() % 3 == 0 ? normal() : 1.0f);
            if (next() % 29 == 0) x[i] = NAN;
            if (next() % 31 == 0) x[i] = (next() & 1) ? INFINITY : -INFINITY;
            break;
        }
        default: x[i] = (float)(i % 64) * 1e-3f * ((i & 1) ? -1.0f : 1.0f); break;
        }
    }
}

static void check_quantizers(void) {
    const qg_type partners[] = {QG_TYPE_Q8_0, QG_TYPE_Q8_1, QG_TYPE_Q8_K, QG_TYPE_F16, QG_TYPE_BF16};
    enum { K = 1024 };
    static float x[K];
    static unsigned char a[4 * K], b[4 * K];
    for (size_t pi = 0; pi < sizeof partners / sizeof partners[0]; pi++) {
        const qg_type_traits *t = qg_type_get(partners[pi]);
        qg_from_float_fn fast = simd->from_float(partners[pi]);
        if (!fast) {
            FAIL("%s: no NEON quantizer\n", t->name);
            continue;
        }
        for (int kind = 0; kind < 4; kind++)
            for (int rep = 0; rep < 8; rep++) {
                make_quant_row(x, K, kind);
                const int64_t len = t->block_size == 1 ? K - rep : K; /* tails for the plain types */
                const size_t bytes = qg_row_size(t->type, len);
                memset(a, 0x5A, bytes);
                memset(b, 0xA5, bytes);
                t->from_float(x, a, len);
                fast(x, b, len);
                checks++;
                for (size_t i = 0; i < bytes; i++)
                    if (a[i] != b[i]) {
                        FAIL("%s quantizer kind %d rep %d: byte %zu differs (scalar 0x%02x, neon 0x%02x)\n", t->name,
                             kind, rep, i, a[i], b[i]);
                        break;
                    }
            }
    }
}

int main(void) {
    simd = cpu_simd_neon();
    if (!simd) {
        printf("SKIPPED: no NEON code compiled in (not an aarch64 build)\n");
        return 77;
    }
    if (!cpu_simd_neon_usable()) {
        printf("SKIPPED: the processor lacks the dot-product extension (skipped: neon paths)\n");
        return 77;
    }
    check_vec_dot();
    check_vec_dot4();
    check_vec_dot_rows();
    check_fp8();
    check_quantizers();
    failures += neon_check_rows(simd, &checks);
    printf("%s: %d failures in %d checks (vec_dot of 20 weight types, vec_dot4, vec_dot_rows, FP8 codes and specials, "
           "Q8_0/Q8_1/Q8_K/F16/BF16 quantizers; exp, SILU, GELU, SOFT_MAX, RMS_NORM, NORM, ADD, MUL, SCALE, "
           "ROPE rows; F16/BF16/Q4_0/Q8_0/Q6_K dequantizers)\n",
           failures ? "FAIL" : "OK", failures, checks);
    return failures ? 1 : 0;
}
