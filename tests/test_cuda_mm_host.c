/* Host checks of the CUDA matrix-product kernels' per-element logic, which is written
 * as plain C shared by host and device (backends/cuda/dequant.cuh, mm_chunk.cuh,
 * quantize_act.cuh). No GPU is needed: the same functions the kernels inline are run here
 * against the type table's scalar references:
 *  - every element decoder is bit-identical to to_float on random bytes (all codes,
 *    NaN and subnormal scales included), and the block geometry matches the table;
 *  - the integer view a*q+b of every integer weight type reproduces to_float exactly;
 *  - the Q8 activation rules reproduce qg_from_float_q8_0 and qg_from_float_q8_K bit
 *    for bit;
 *  - a row dot built from chunk dots matches the type's reference vec_dot against its
 *    partner-quantized activations to 1e-6 NMSE (conform allows 2e-4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "backends/cuda/dequant.cuh"
#include "backends/cuda/mm_chunk.cuh"
#include "backends/cuda/quantize_act.cuh"

#define NELEM 512 /* a multiple of every block size */

static int same_float(float a, float b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    uint32_t ua, ub;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    return ua == ub;
}

static void random_bytes(qgt_rng *r, uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(qgt_next(r) >> 32);
}

static void test_decoders(void **state) {
    (void)state;
    int count;
    const qg_type_traits *tab = qg_type_table(&count);
    int checked = 0;
    qgt_rng r;
    qgt_seed(&r, 7);
    for (int i = 0; i < count; i++) {
        const qg_type_traits *t = &tab[i];
        if (!qgcu_type_ok(t->type)) {
            assert_true(t->is_integer || t->type == QG_TYPE_F64);
            continue;
        }
        assert_int_equal(qgcu_type_block(t->type), t->block_size);
        assert_int_equal(qgcu_type_bytes(t->type), (int)t->type_size);
        size_t bytes = qg_row_size(t->type, NELEM);
        uint8_t *row = malloc(bytes);
        float ref[NELEM];
        for (int rep = 0; rep < 8; rep++) {
            random_bytes(&r, row, bytes);
            t->to_float(row, ref, NELEM);
            for (int e = 0; e < NELEM; e++) {
                float got = qgcu_dequant_elem(t->type, row, e);
                if (!same_float(got, ref[e]))
                    fail_msg("%s element %d: got %.9g want %.9g", t->name, e, (double)got, (double)ref[e]);
            }
        }
        free(row);
        checked++;
    }
    assert_int_equal(checked, 25);
}

static void test_chunk_view(void **state) {
    (void)state;
    int count;
    const qg_type_traits *tab = qg_type_table(&count);
    qgt_rng r;
    qgt_seed(&r, 11);
    int checked = 0;
    for (int i = 0; i < count; i++) {
        const qg_type_traits *t = &tab[i];
        if (!qgcu_int_type(t->type)) continue;
        size_t bytes = qg_row_size(t->type, NELEM);
        uint8_t *row = malloc(bytes);
        float ref[NELEM];
        for (int rep = 0; rep < 8; rep++) {
            if (rep < 4) {
                random_bytes(&r, row, bytes);
            } else {
                float x[NELEM];
                qgt_fill_uniform(&r, x, NELEM, -1, 1);
                t->from_float(x, row, NELEM);
            }
            t->to_float(row, ref, NELEM);
            const int bs = (int)t->block_size;
            for (int e0 = 0; e0 < NELEM; e0 += 32) {
                const uint8_t *blk = row + (size_t)(e0 / bs) * t->type_size;
                int32_t q[8];
                float a[2], o[2];
                qgcu_chunk(t->type, blk, (e0 % bs) / 32, q, a, o);
                if (!qgcu_int_type_split(t->type)) /* the k32 MMA path relies on this */
                    assert_true(same_float(a[0], a[1]) && same_float(o[0], o[1]));
                for (int j = 0; j < 32; j++) {
                    int lv = (int8_t)(uint8_t)((uint32_t)q[j / 4] >> (8 * (j % 4)));
                    assert_int_equal(lv, qgcu_level(t->type, blk, e0 % bs + j));
                    if (!qgcu_int_type_offset(t->type)) assert_true(o[j / 16] == 0.0f);
                    float w = qgcu_add(qgcu_mul(a[j / 16], (float)lv), o[j / 16]);
                    if (!(w == ref[e0 + j]) && !(isnan(w) && isnan(ref[e0 + j])))
                        fail_msg("%s element %d: a*q+b %.9g, to_float %.9g", t->name, e0 + j, (double)w,
                                 (double)ref[e0 + j]);
                }
            }
        }
        free(row);
        checked++;
    }
    assert_int_equal(checked, 16);
}

/* The device quantizer's rules applied block by block, as the warp kernel does. */
static void q8_like_device(const float *x, int8_t *qs, float *d, int n) {
    for (int b = 0; b < n / 32; b++) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
        float id = qgcu_q8_inv_scale(amax);
        d[b] = qgcu_q8_stored_scale(amax);
        for (int j = 0; j < 32; j++) qs[32 * b + j] = (int8_t)qgcu_q8_level(x[32 * b + j], id);
    }
}

/* The Q8_K rules (one scale per 256 elements, stored in all eight 32-element slots), as
 * the device's 256-element warp kernel applies them. */
static void q8k_like_device(const float *x, int8_t *qs, float *d, int n) {
    for (int b = 0; b < n / 256; b++) {
        float amax = 0.0f;
        for (int j = 0; j < 256; j++) amax = fmaxf(amax, fabsf(x[256 * b + j]));
        const int zero = !(amax > 0.0f);
        const float is = zero ? 0.0f : 127.0f / amax;
        for (int j = 0; j < 256; j++) qs[256 * b + j] = zero ? 0 : (int8_t)qgcu_q8k_level(x[256 * b + j], is);
        for (int s = 0; s < 8; s++) d[8 * b + s] = zero ? 0.0f : amax / 127.0f;
    }
}

static void test_q8k_activations(void **state) {
    (void)state;
    qgt_rng r;
    qgt_seed(&r, 9);
    float x[NELEM];
    for (int rep = 0; rep < 16; rep++) {
        float scale = ldexpf(1.0f, (int)(qgt_next(&r) % 60) - 30);
        qgt_fill_uniform(&r, x, NELEM, -scale, scale);
        if (rep == 1) memset(x, 0, 256 * sizeof(float));
        if (rep == 2) x[5] = NAN;
        if (rep == 3) for (int j = 0; j < 256; j++) x[256 + j] = (float)(j % 255) - 127.0f; /* ties */
        if (rep == 4) x[300] = INFINITY;
        uint8_t ref[NELEM / 256 * 292];
        qg_type_get(QG_TYPE_Q8_K)->from_float(x, ref, NELEM);
        int8_t qs[NELEM];
        float d[NELEM / 32];
        q8k_like_device(x, qs, d, NELEM);
        for (int b = 0; b < NELEM / 256; b++) {
            float dref;
            memcpy(&dref, ref + 292 * b, 4);
            for (int s = 0; s < 8; s++) assert_true(same_float(d[8 * b + s], dref));
            assert_memory_equal(qs + 256 * b, ref + 292 * b + 4, 256);
        }
    }
}

static void test_q8_activations(void **state) {
    (void)state;
    qgt_rng r;
    qgt_seed(&r, 3);
    float x[NELEM];
    for (int rep = 0; rep < 16; rep++) {
        float scale = ldexpf(1.0f, (int)(qgt_next(&r) % 60) - 30);
        qgt_fill_uniform(&r, x, NELEM, -scale, scale);
        if (rep == 1) memset(x, 0, 32 * sizeof(float));              /* all-zero block */
        if (rep == 2) x[5] = NAN;                                      /* NaN element */
        if (rep == 3) for (int j = 0; j < 32; j++) x[64 + j] = (float)(j % 5) - 2.0f; /* ties */
        if (rep == 4) x[100] = INFINITY;
        if (rep == 5) for (int j = 0; j < 32; j++) x[j] = ldexpf(1.0f, -140) * (float)j; /* tiny */
        uint8_t ref[NELEM / 32 * 34];
        qg_type_get(QG_TYPE_Q8_0)->from_float(x, ref, NELEM);
        int8_t qs[NELEM];
        float d[NELEM / 32];
        q8_like_device(x, qs, d, NELEM);
        for (int b = 0; b < NELEM / 32; b++) {
            assert_true(same_float(d[b], qg_fp16_to_fp32(qgcu_u16(ref + 34 * b))));
            assert_memory_equal(qs + 32 * b, ref + 34 * b + 2, 32);
        }
    }
    /* the half conversion itself, over a sweep of bit patterns */
    for (uint32_t u = 0; u < 0xffffffffu - 0x10000u; u += 0x10001u) {
        float f;
        memcpy(&f, &u, 4);
        assert_int_equal(qgcu_float_to_half_bits(f), qg_fp32_to_fp16(f));
    }
}

static void test_chunk_dot(void **state) {
    (void)state;
    int count;
    const qg_type_traits *tab = qg_type_table(&count);
    qgt_rng r;
    qgt_seed(&r, 5);
    enum { K = 1024, ROWS = 16 };
    for (int i = 0; i < count; i++) {
        const qg_type_traits *t = &tab[i];
        if (!qgcu_int_type(t->type)) continue;
        const qg_type_traits *v = qg_type_get(t->vec_dot_type);
        float *w = malloc(sizeof(float) * K * ROWS), x[K];
        uint8_t *wq = malloc(qg_row_size(t->type, K) * ROWS);
        void *xv = malloc(qg_row_size(v->type, K));
        qgt_fill_uniform(&r, w, K * ROWS, -1, 1);
        qgt_fill_uniform(&r, x, K, -1, 1);
        t->from_float(w, wq, K * ROWS);
        v->from_float(x, xv, K);
        int8_t xq[K];
        float xd[K / 32];
        if (t->vec_dot_type == QG_TYPE_Q8_K) q8k_like_device(x, xq, xd, K);
        else q8_like_device(x, xq, xd, K);
        float got[ROWS], want[ROWS];
        const size_t rb = qg_row_size(t->type, K);
        const int bs = (int)t->block_size;
        for (int row = 0; row < ROWS; row++) {
            const uint8_t *wr = wq + rb * row;
            float acc = 0.0f;
            for (int ch = 0; ch < K / 32; ch++) {
                int32_t q[8], y[8];
                float a[2], o[2];
                qgcu_chunk(t->type, wr + (size_t)(ch / (bs / 32)) * t->type_size, ch % (bs / 32), q, a, o);
                memcpy(y, xq + 32 * ch, 32);
                acc += qgcu_chunk_dot(q, a, o, y, xd[ch], qgcu_int_type_offset(t->type));
            }
            got[row] = acc;
            want[row] = t->vec_dot(K, wr, xv);
        }
        double e = qgt_nmse(got, want, ROWS);
        print_message("  %-8s chunk dot vs reference vec_dot: NMSE %.2e\n", t->name, e);
        /* the activations are the partner's own levels, so only float summation order and
         * the exact (vs fp16-rounded) Q8_1 sum of Q4_1/Q5_1 differ: far below conform's 2e-4 */
        if (!(e <= 1e-6)) fail_msg("%s: chunk dot NMSE %.3g vs the reference vec_dot", t->name, e);
        free(w);
        free(wq);
        free(xv);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decoders),
        cmocka_unit_test(test_chunk_view),
        cmocka_unit_test(test_q8_activations),
        cmocka_unit_test(test_q8k_activations),
        cmocka_unit_test(test_chunk_dot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
