#include "simd_case_data.h"

#include <stdlib.h>
#include <string.h>

uint16_t qgt_rand_f16(qgt_rng *r, float lo, float hi) { return qg_fp32_to_fp16(qgt_uniform(r, lo, hi)); }

/* A random fp16 scale: sane (mode < 3) or extreme (tiny normal or large). */
static uint16_t scale_f16(qgt_rng *r, int mode) {
    if (mode != 3) return qgt_rand_f16(r, -2.0f, 2.0f);
    const float m = qgt_uniform(r, 1.0f, 2.0f) * ((qgt_next(r) & 1) ? 6.1e-5f : 16384.0f);
    return qg_fp32_to_fp16((qgt_next(r) & 1) ? -m : m);
}

void qgt_fp8_finite(qg_type type, unsigned char *w, size_t bytes) {
    const bool e4 = type == QG_TYPE_F8_E4M3 || type == QG_TYPE_MXFP8_E4M3;
    const bool mx = type == QG_TYPE_MXFP8_E4M3 || type == QG_TYPE_MXFP8_E5M2;
    for (size_t i = 0; i < bytes; i++) {
        if (mx && i % 33 == 0) continue;
        if (e4 && (w[i] & 0x7f) == 0x7f) w[i] ^= 1;
        if (!e4 && (w[i] & 0x7c) == 0x7c) w[i] &= 0xfb;
    }
}

static float *floats(int64_t k) {
    float *f = malloc((size_t)(k > 0 ? k : 1) * sizeof(float));
    if (!f) abort(); /* a test helper: out of memory ends the test */
    return f;
}

void qgt_make_weights(qgt_rng *r, const wcase *c, int64_t k, int mode, unsigned char *w) {
    const qg_type_traits *t = qg_type_get(c->type);
    const size_t bytes = qg_row_size(t->type, k);
    const bool plain = t->block_size == 1, fp8 = t->type == QG_TYPE_F8_E4M3 || t->type == QG_TYPE_F8_E5M2;
    if (mode == 1 || (plain && !fp8 && (mode == 0 || mode == 3))) {
        float *f = floats(k);
        const float s = mode == 3 ? ((qgt_next(r) & 1) ? 0x1p40f : 0x1p-40f) : 1.0f;
        for (int64_t i = 0; i < k; i++) f[i] = s * qgt_normal(r) * (i % 7 == 0 ? 3.0f : 0.5f);
        t->from_float(f, w, k);
        free(f);
        return;
    }
    for (size_t i = 0; i < bytes; i++) w[i] = (unsigned char)qgt_next(r);
    if (mode != 2) qgt_fp8_finite(t->type, w, bytes);
    if (mode == 2) memset(w, (qgt_next(r) & 1) ? 0xFF : 0x80, bytes);
    if (plain) {
        if (mode == 2 && !fp8) {
            float *f = floats(k);
            for (int64_t i = 0; i < k; i++) f[i] = (i & 1) ? -1000.0f : 1000.0f;
            t->from_float(f, w, k);
            free(f);
        }
        return;
    }
    for (int64_t b = 0; b < k / t->block_size; b++) {
        unsigned char *bp = w + (size_t)b * t->type_size;
        for (int j = 0; j < c->n_f16; j++) {
            const uint16_t h = scale_f16(r, mode);
            memcpy(bp + c->f16_off[j], &h, 2);
        }
        if (c->e8m0_off >= 0) bp[c->e8m0_off] = (unsigned char)(mode == 3 ? 90 + qgt_next(r) % 70 : 110 + qgt_next(r) % 30);
    }
}

void qgt_make_act(qgt_rng *r, qg_type vdt, int64_t k, int sat, int mode, unsigned char *y) {
    if (vdt == QG_TYPE_Q8_0 || vdt == QG_TYPE_Q8_1) {
        const size_t bs = vdt == QG_TYPE_Q8_0 ? 34 : 36;
        for (int64_t b = 0; b < k / 32; b++) {
            unsigned char *bp = y + (size_t)b * bs;
            int8_t *qs = (int8_t *)(bp + bs - 32);
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                qs[j] = (int8_t)(sat ? sat : (int)(qgt_next(r) % 255) - 127);
                sum += qs[j];
            }
            const uint16_t d = mode == 3 ? scale_f16(r, 3) : qgt_rand_f16(r, 0.001f, 0.5f);
            memcpy(bp, &d, 2);
            if (vdt == QG_TYPE_Q8_1) {
                const uint16_t s = qg_fp32_to_fp16((float)sum * qg_fp16_to_fp32(d));
                memcpy(bp + 2, &s, 2);
            }
        }
    } else if (vdt == QG_TYPE_Q8_K) {
        for (int64_t b = 0; b < k / 256; b++) {
            unsigned char *bp = y + (size_t)b * 292;
            const float d = qgt_uniform(r, 0.001f, 0.5f) * (mode == 3 ? 0x1p-30f : 1.0f);
            int8_t qs[256];
            int16_t bsums[16];
            for (int j = 0; j < 256; j++) qs[j] = (int8_t)(sat ? sat : (int)(qgt_next(r) % 255) - 127);
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int l = 0; l < 16; l++) s += qs[16 * g + l];
                bsums[g] = (int16_t)s;
            }
            memcpy(bp, &d, 4);
            memcpy(bp + 4, qs, 256);
            memcpy(bp + 260, bsums, 32);
        }
    } else {
        float *f = floats(k);
        const float s = mode == 3 ? ((qgt_next(r) & 1) ? 0x1p30f : 0x1p-30f) : 1.0f;
        for (int64_t i = 0; i < k; i++) f[i] = sat ? (float)sat : s * qgt_normal(r);
        qg_type_get(vdt)->from_float(f, y, k);
        free(f);
    }
}
