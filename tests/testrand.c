#include "testrand.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qgt_seed(qgt_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ull + 1; }

uint64_t qgt_next(qgt_rng *r) {
    uint64_t x = r->s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return r->s = x;
}

float qgt_uniform(qgt_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)((qgt_next(r) >> 40) * (1.0 / 16777216.0));
}

float qgt_normal(qgt_rng *r) {
    double u1 = ((qgt_next(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (qgt_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void qgt_fill_uniform(qgt_rng *r, float *x, int64_t n, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = qgt_uniform(r, lo, hi);
}

static float *alloc_floats(int64_t k) {
    float *p = malloc((size_t)(k > 0 ? k : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "testrand: out of memory for %lld floats\n", (long long)k);
        exit(1); /* a test helper, not library code */
    }
    return p;
}

double qgt_dot_magnitude_f(const qg_type_traits *t, int min_off, const void *w, const float *yf, int64_t k) {
    float *wf = alloc_floats(k);
    t->to_float(w, wf, k);
    double m = 0;
    for (int64_t j = 0; j < k; j++) {
        double a = fabs((double)wf[j]);
        if (min_off >= 0) {
            uint16_t h;
            memcpy(&h, (const unsigned char *)w + (size_t)(j / t->block_size) * t->type_size + min_off, 2);
            a += fabs((double)qg_fp16_to_fp32(h));
        }
        m += a * fabs((double)yf[j]);
    }
    free(wf);
    return m;
}

double qgt_dot_magnitude(const qg_type_traits *t, int min_off, const void *w, const void *y, int64_t k) {
    float *yf = alloc_floats(k);
    qg_type_get(t->vec_dot_type)->to_float(y, yf, k);
    const double m = qgt_dot_magnitude_f(t, min_off, w, yf, k);
    free(yf);
    return m;
}
