/* The NEON tiled mat-mat (cpu_simd_neon()->gemm, simd_neon_gemm*.c) against the NEON
 * per-column dot product, as a standalone program (no cmocka) that tests/cpu_simd.cmake
 * cross-compiles for aarch64 and runs under qemu-aarch64 next to cpu_simd_neon_check.
 *
 * For every weight type with a tiled path (the block-32 types, the K-quants and IQ4_XS;
 * each of them must have one), weights and activations are packed and run the way
 * ops_mul_mat.c drives the table: activation rows quantized by the partner type (random
 * raw blocks with consistent sums, quantized random floats, or saturated at +-127)
 * packed with pack_x, weight rows (random raw blocks with sane scales, quantized random
 * floats, or saturated) expanded CPU_GEMM_ROWS at a time into one reused panel with
 * pack_w, and run over all columns. Shapes leave partial register tiles and panels (row
 * counts 5, 37, 17, 3, 20, 11), odd and small column counts, and k that is not a multiple
 * of 256 for the block-32 types. Each output is compared with vec_dot of its weight row and
 * activation column: K-quants and IQ4_XS bit for bit, the others within
 * 2 (blocks + 16) FLT_EPSILON sum |w| |y| (plus |block min| |y| for Q4_1 / Q5_1), the
 * bound of test_cpu_gemm.c. The same columns run again split at an odd column must give
 * the same bits, and guard bytes after the packed columns, the panel and the outputs must
 * stay untouched. Exit 0 on success, 1 on a mismatch, 77 without the dot-product
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

#define GUARD 64

static qgt_rng rng = {0x9E3779B97F4A7C15ull};


static int failures, checks;

#define FAIL(...)                                           \
    do {                                                    \
        if (failures < 40) printf("FAIL " __VA_ARGS__);     \
        failures++;                                         \
    } while (0)

static const wcase *find_case(qg_type t) {
    for (int i = 0; i < N_CASES; i++)
        if (cases[i].type == t) return &cases[i];
    return NULL;
}



static bool guard_ok(const unsigned char *p) {
    for (int i = 0; i < GUARD; i++)
        if (p[i] != 0xC3) return false;
    return true;
}

/* The panel loop of ops_mul_mat.c over columns [j0, j0 + nc): out column j at out + j * m. */
static void run_all(const cpu_gemm_fns *gf, const cpu_gemm *g, const unsigned char *w, size_t rs, int64_t m,
                    int64_t k, const unsigned char *xp, size_t xs, int64_t j0, int64_t nc, unsigned char *panel,
                    float *out) {
    for (int64_t i0 = 0; i0 < m; i0 += CPU_GEMM_ROWS) {
        const int rows = (int)(m - i0 < CPU_GEMM_ROWS ? m - i0 : CPU_GEMM_ROWS);
        gf->pack_w(g, w + (size_t)i0 * rs, rs, rows, k, panel);
        gf->run(g, panel, rows, k, xp + (size_t)j0 * xs, xs, nc, (char *)(out + j0 * m + i0), (size_t)m * sizeof(float));
    }
}

static void check_shape(const cpu_simd_fns *s, const wcase *c, int64_t k, int64_t m, int64_t n, int wmode, int sat) {
    const qg_type_traits *t = qg_type_get(c->type), *tv = qg_type_get(t->vec_dot_type);
    const cpu_gemm_fns *gf = s->gemm;
    const cpu_gemm *g = gf->find(c->type);
    const size_t rs = qg_row_size(c->type, k), ys = qg_row_size(t->vec_dot_type, k);
    const size_t xs = gf->x_size(k), ps = gf->panel_size(k);
    if (xs % 64 || ps % 64) FAIL("%s k=%lld: x_size %zu / panel_size %zu not multiples of 64\n", t->name, (long long)k, xs, ps);
    unsigned char *w = malloc((size_t)m * rs), *y = malloc((size_t)n * ys);
    unsigned char *xp = malloc((size_t)n * xs + GUARD), *panel = malloc(ps + GUARD);
    float *out = malloc((size_t)(m * n) * sizeof(float) + GUARD), *out2 = malloc((size_t)(m * n) * sizeof(float) + GUARD);
    float *yf = malloc((size_t)k * sizeof(float));
    for (int64_t i = 0; i < m; i++) qgt_make_weights(&rng, c, k, wmode == 2 ? 2 : (int)((wmode + i) % 2), w + (size_t)i * rs);
    for (int64_t j = 0; j < n; j++) qgt_make_act(&rng, t->vec_dot_type, k, sat, 0, y + (size_t)j * ys);
    memset(xp, 0xC3, (size_t)n * xs + GUARD);
    memset(panel, 0xA5, ps);
    memset(panel + ps, 0xC3, GUARD);
    memset(out, 0xC3, (size_t)(m * n) * sizeof(float) + GUARD);
    memset(out2, 0xC3, (size_t)(m * n) * sizeof(float) + GUARD);
    for (int64_t j = 0; j < n; j++) gf->pack_x(g, y + (size_t)j * ys, k, xp + (size_t)j * xs);
    if (!guard_ok(xp + (size_t)n * xs)) FAIL("%s k=%lld: pack_x wrote past x_size\n", t->name, (long long)k);
    run_all(gf, g, w, rs, m, k, xp, xs, 0, n, panel, out);
    const int64_t split = n > 2 ? n / 2 | 1 : 1; /* an odd split: partial column groups on both sides */
    run_all(gf, g, w, rs, m, k, xp, xs, 0, split, panel, out2);
    if (split < n) run_all(gf, g, w, rs, m, k, xp, xs, split, n - split, panel, out2);
    if (!guard_ok(panel + ps)) FAIL("%s k=%lld: pack_w or run wrote past panel_size\n", t->name, (long long)k);
    if (!guard_ok((unsigned char *)(out + m * n)) || !guard_ok((unsigned char *)(out2 + m * n)))
        FAIL("%s k=%lld m=%lld n=%lld: run wrote past the outputs\n", t->name, (long long)k, (long long)m, (long long)n);
    const qg_vec_dot_fn dot = s->vec_dot(c->type);
    const int64_t blocks = k / t->block_size;
    int bad = 0;
    for (int64_t j = 0; j < n; j++) {
        const unsigned char *yj = y + (size_t)j * ys;
        tv->to_float(yj, yf, k);
        for (int64_t i = 0; i < m; i++) {
            const unsigned char *wi = w + (size_t)i * rs;
            const float want = dot(k, wi, yj), got = out[j * m + i], again = out2[j * m + i];
            checks++;
            bool ok;
            double tol = 0;
            if (c->exact) {
                ok = memcmp(&got, &want, sizeof got) == 0;
            } else {
                tol = 2.0 * (double)(blocks + 16) * FLT_EPSILON * qgt_dot_magnitude_f(t, c->min_off, wi, yf, k);
                ok = fabs((double)got - (double)want) <= tol || (isnan(want) && isnan(got));
            }
            if (!ok && bad++ >= 4) failures++;
            else if (!ok)
                FAIL("%s k=%lld m=%lld n=%lld wmode=%d sat=%d: out[%lld,%lld] = %.9g, vec_dot %.9g (tol %.3g)\n", t->name,
                     (long long)k, (long long)m, (long long)n, wmode, sat, (long long)i, (long long)j, got, want, tol);
            const bool same = memcmp(&got, &again, sizeof got) == 0 || (isnan(got) && isnan(again));
            if (!same && bad++ >= 4) failures++;
            else if (!same)
                FAIL("%s k=%lld m=%lld n=%lld: out[%lld,%lld] = %.9g whole, %.9g split at column %lld\n", t->name,
                     (long long)k, (long long)m, (long long)n, (long long)i, (long long)j, got, again, (long long)split);
        }
    }
    free(w);
    free(y);
    free(xp);
    free(panel);
    free(out);
    free(out2);
    free(yf);
}

static const qg_type gemm_types[] = {QG_TYPE_Q4_0, QG_TYPE_Q4_1,  QG_TYPE_Q5_0, QG_TYPE_Q5_1, QG_TYPE_Q8_0,
                                     QG_TYPE_IQ4_NL, QG_TYPE_MXFP4, QG_TYPE_Q2_K, QG_TYPE_Q3_K, QG_TYPE_Q4_K,
                                     QG_TYPE_Q5_K, QG_TYPE_Q6_K,  QG_TYPE_IQ4_XS};

int main(void) {
    const cpu_simd_fns *s = cpu_simd_neon();
    if (!s) {
        printf("SKIPPED: no NEON code compiled in (not an aarch64 build)\n");
        return 77;
    }
    if (!cpu_simd_neon_usable()) {
        printf("SKIPPED: the processor lacks the dot-product extension (skipped: neon gemm)\n");
        return 77;
    }
    if (!s->gemm) {
        printf("FAIL the NEON table has no tiled mat-mat\n");
        return 1;
    }
    for (size_t ti = 0; ti < sizeof gemm_types / sizeof gemm_types[0]; ti++) {
        const wcase *c = find_case(gemm_types[ti]);
        const qg_type_traits *t = qg_type_get(gemm_types[ti]);
        if (!c || !s->gemm->find(gemm_types[ti])) {
            FAIL("%s: no tiled mat-mat in the NEON table\n", t->name);
            continue;
        }
        const bool kq = t->block_size == 256;
        const int64_t unit = kq ? 256 : 32;
        /* k, m, n: one block; partial 256-groups (block-32 types); partial tiles and panels */
        const int64_t shapes[][3] = {{unit, 5, 3}, {unit * (kq ? 2 : 9), 37, 9}, {unit * (kq ? 3 : 17), 17, 6},
                                     {unit * (kq ? 1 : 7), 3, 1}, {unit * (kq ? 2 : 8), 20, 13}};
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
            check_shape(s, c, shapes[si][0], shapes[si][1], shapes[si][2], (int)(si % 2), 0);
        check_shape(s, c, unit * 2, 11, 5, 2, 127);
        check_shape(s, c, unit * 2, 11, 5, 2, -127);
    }
    printf("%s: %d failures in %d checks (NEON tiled mat-mat of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4, "
           "Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS against vec_dot)\n",
           failures ? "FAIL" : "OK", failures, checks);
    return failures ? 1 : 0;
}
