/* The CPU backend's NEON functions against the scalar references, as a standalone
 * program (no cmocka) that tests/cpu_simd.cmake cross-compiles for aarch64 and runs
 * under qemu-aarch64 when an aarch64 cross compiler and qemu-user are installed.
 *
 * Checks, with the same bounds as test_cpu_simd.c: Q4_K dot products bitwise equal to
 * the reference; Q4_0 and Q8_0 within 2 (blocks + 16) FLT_EPSILON sum|w||y|; the Q8_0
 * and Q8_K quantizers bit-exact on random rows, rows of rounding ties and rows of
 * special values (NaN, infinities, subnormals, huge values). Exit 0 on success, 1 on a
 * mismatch, 77 when the processor lacks the dot-product extension.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/simd.h"

static uint64_t rng_state = 88172645463325252ull;

static uint64_t next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 40) * (1.0 / 16777216.0)); }

static int failures;

static void check_dot(const cpu_simd_fns *s, qg_type type, int64_t k) {
    const qg_type_traits *t = qg_type_get(type), *tv = qg_type_get(t->vec_dot_type);
    float *wf = malloc((size_t)k * sizeof(float)), *xf = malloc((size_t)k * sizeof(float));
    float *wd = malloc((size_t)k * sizeof(float)), *yd = malloc((size_t)k * sizeof(float));
    unsigned char *w = malloc(qg_row_size(type, k)), *y = malloc(qg_row_size(tv->type, k));
    for (int64_t i = 0; i < k; i++) {
        wf[i] = uniform(-1.0f, 1.0f) * (i % 5 == 0 ? 4.0f : 1.0f);
        xf[i] = uniform(-2.0f, 2.0f);
    }
    t->from_float(wf, w, k);
    tv->from_float(xf, y, k);
    const float ref = t->vec_dot(k, w, y), got = s->vec_dot(type)(k, w, y);
    if (type == QG_TYPE_Q4_K) {
        if (memcmp(&ref, &got, sizeof ref) != 0) {
            printf("FAIL %s k=%lld: neon %.9g != scalar %.9g\n", t->name, (long long)k, got, ref);
            failures++;
        }
    } else {
        t->to_float(w, wd, k);
        tv->to_float(y, yd, k);
        double m = 0;
        for (int64_t i = 0; i < k; i++) m += fabs((double)wd[i]) * fabs((double)yd[i]);
        const double tol = 2.0 * (double)(k / 32 + 16) * FLT_EPSILON * m;
        if (!(fabs((double)got - (double)ref) <= tol)) {
            printf("FAIL %s k=%lld: neon %.9g, scalar %.9g, tol %.3g\n", t->name, (long long)k, got, ref, tol);
            failures++;
        }
    }
    free(wf);
    free(xf);
    free(wd);
    free(yd);
    free(w);
    free(y);
}

static void check_quant(const cpu_simd_fns *s, qg_type type) {
    const qg_type_traits *t = qg_type_get(type);
    const int64_t k = 1024;
    float x[1024];
    static const float sp[] = {0.0f, -0.0f, 1e-40f, -1e-45f, 65504.0f, 65520.0f, -1e30f, 3.4e38f,
                               0.5f, -0.5f, 1.5f, 2.5f, 1e-8f, 6.1e-5f, NAN, INFINITY};
    unsigned char *a = malloc(qg_row_size(type, k)), *b = malloc(qg_row_size(type, k));
    for (int kind = 0; kind < 3; kind++)
        for (int rep = 0; rep < 8; rep++) {
            for (int64_t i = 0; i < k; i++) {
                if (kind == 0) x[i] = uniform(-3.0f, 3.0f);
                else if (kind == 1) x[i] = i % 32 == 0 ? 127.0f : (float)((int)(next() % 253) - 126) * 0.5f;
                else x[i] = sp[next() % 16] * ((next() & 1) ? -1.0f : 1.0f);
            }
            t->from_float(x, a, k);
            s->from_float(type)(x, b, k);
            if (memcmp(a, b, qg_row_size(type, k)) != 0) {
                printf("FAIL %s quantizer, row kind %d rep %d: bytes differ\n", t->name, kind, rep);
                failures++;
            }
        }
    free(a);
    free(b);
}

int main(void) {
    const cpu_simd_fns *s = cpu_simd_neon();
    if (!s) {
        printf("SKIPPED: no NEON code compiled in (not an aarch64 build)\n");
        return 77;
    }
    if (!cpu_simd_neon_usable()) {
        printf("SKIPPED: the processor lacks the dot-product extension (skipped: neon paths)\n");
        return 77;
    }
    const qg_type types[] = {QG_TYPE_Q4_0, QG_TYPE_Q8_0, QG_TYPE_Q4_K};
    for (int ti = 0; ti < 3; ti++) {
        const int64_t unit = qg_type_get(types[ti])->block_size;
        const int64_t ks[] = {unit, 3 * unit, 4096};
        for (int ki = 0; ki < 3; ki++)
            for (int rep = 0; rep < 4; rep++) check_dot(s, types[ti], ks[ki]);
    }
    check_quant(s, QG_TYPE_Q8_0);
    check_quant(s, QG_TYPE_Q8_K);
    printf("%s: %d failures (q4_0, q8_0, q4_K dot products; q8_0, q8_K quantizers)\n", failures ? "FAIL" : "OK",
           failures);
    return failures ? 1 : 0;
}
