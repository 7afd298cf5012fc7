/* The CUDA plugin's device quantizers and float encoders (backends/cuda/quantize.cuh,
 * encode.cuh) are plain C as well as CUDA; here they run on the host against the type
 * table's reference from_float and the core's scalar conversions, byte for byte. This
 * checks the ported arithmetic (operation order, rounding, ties, saturation, NaN and
 * infinity rules) without a GPU; the device build differs only in using the
 * round-to-nearest intrinsics for the same unfused operations.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "backends/cuda/quantize.cuh"

#define N_BLOCKS 64

/* Rows of 32-element blocks exercising the quantizers: random scales, ties, zeros,
 * constant blocks, huge and tiny values, and special values. */
static void fill_blocks(qgt_rng *r, float *x, int n_blocks) {
    for (int b = 0; b < n_blocks; b++) {
        float *v = x + 32 * b;
        const float scale = ldexpf(1.0f, (int)(qgt_next(r) % 60) - 30);
        for (int j = 0; j < 32; j++) v[j] = qgt_uniform(r, -1.0f, 1.0f) * scale;
        switch (b % 16) {
        case 0: memset(v, 0, 32 * sizeof *v); break;
        case 1: for (int j = 0; j < 32; j++) v[j] = 0.75f; break;
        case 2: for (int j = 0; j < 32; j++) v[j] = (float)(j - 16) * 0.5f; break; /* exact ties */
        case 3: v[5] = 3.0f; v[9] = -3.0f; break; /* signed max tie: the first wins */
        case 4: v[7] = INFINITY; break;
        case 5: v[3] = NAN; break;
        case 6: for (int j = 0; j < 32; j++) v[j] *= 1e30f; break;
        case 7: for (int j = 0; j < 32; j++) v[j] *= 1e-38f; break;               /* subnormal range */
        case 8: v[0] = -INFINITY; v[1] = INFINITY; break;
        default: break;
        }
    }
}

static void test_block_quantizers(void **state) {
    (void)state;
    const qg_type types[] = {QG_TYPE_Q4_0, QG_TYPE_Q4_1, QG_TYPE_Q5_0,   QG_TYPE_Q5_1,       QG_TYPE_Q8_0,
                             QG_TYPE_Q8_1, QG_TYPE_IQ4_NL, QG_TYPE_MXFP8_E4M3, QG_TYPE_MXFP8_E5M2};
    float x[32 * N_BLOCKS];
    unsigned char ref[64 * N_BLOCKS], got[64 * N_BLOCKS];
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const qg_type_traits *tt = qg_type_get(types[t]);
        assert_non_null(tt);
        assert_int_equal(tt->block_size, 32);
        for (uint64_t seed = 1; seed <= 20; seed++) {
            qgt_rng r;
            qgt_seed(&r, seed * 7919 + (uint64_t)t);
            fill_blocks(&r, x, N_BLOCKS);
            tt->from_float(x, ref, 32 * N_BLOCKS);
            memset(got, 0xa5, sizeof got);
            for (int b = 0; b < N_BLOCKS; b++) cu_quantize_block((int)types[t], x + 32 * b, got + b * tt->type_size);
            for (size_t i = 0; i < tt->type_size * N_BLOCKS; i++)
                if (ref[i] != got[i])
                    fail_msg("%s seed %llu: byte %zu (block %zu) differs: reference %02x, port %02x", tt->name,
                             (unsigned long long)seed, i, i / tt->type_size, ref[i], got[i]);
        }
        printf("  %-12s %d blocks bit-identical\n", tt->name, 20 * N_BLOCKS);
    }
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void test_encoders(void **state) {
    (void)state;
    const qg_type_traits *ti[4] = {qg_type_get(QG_TYPE_I8), qg_type_get(QG_TYPE_I16), qg_type_get(QG_TYPE_I32),
                                   qg_type_get(QG_TYPE_I64)};
    const int bits[4] = {8, 16, 32, 64};
    qgt_rng r;
    qgt_seed(&r, 99);
    const uint32_t special[] = {0, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0x00000001u,
                                0x33000000u, 0x33000001u, 0x387fc000u, 0x477fe000u, 0x477ff000u, 0x43e00000u,
                                0x43e80000u, 0x47600000u, 0x47700000u, 0x4effffffu, 0x4f000000u, 0xcf000000u,
                                0x5effffffu, 0x5f000000u, 0xdf000000u, 0x3f000000u, 0x3fc00000u, 0x40200000u};
    const int n_special = (int)(sizeof special / sizeof special[0]);
    for (int k = 0; k < (1 << 22) + n_special; k++) {
        uint32_t u = k < n_special ? special[k] : (uint32_t)qgt_next(&r);
        if (k >= n_special && (k & 1)) u = (u & 0x83ffffffu) | 0x38000000u; /* near the fp16/fp8 ranges */
        const float f = bits_f32(u);
        if (cu_f32_to_f16(f) != qg_fp32_to_fp16(f)) fail_msg("f16 of %08x", u);
        if (cu_f32_to_bf16(f) != qg_fp32_to_bf16(f)) fail_msg("bf16 of %08x", u);
        if (cu_f32_to_e4m3(f) != qg_fp32_to_e4m3(f)) fail_msg("e4m3 of %08x", u);
        if (cu_f32_to_e5m2(f) != qg_fp32_to_e5m2(f)) fail_msg("e5m2 of %08x", u);
        if ((k & 15) == 0 || k < n_special) {
            for (int i = 0; i < 4; i++) {
                int64_t ref = 0;
                unsigned char buf[8];
                ti[i]->from_float(&f, buf, 1);
                switch (bits[i]) {
                case 8: ref = *(int8_t *)buf; break;
                case 16: { int16_t v; memcpy(&v, buf, 2); ref = v; } break;
                case 32: { int32_t v; memcpy(&v, buf, 4); ref = v; } break;
                default: memcpy(&ref, buf, 8); break;
                }
                if (cu_f32_to_int(f, bits[i]) != ref) fail_msg("i%d of %08x: reference %lld", bits[i], u, (long long)ref);
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_block_quantizers), cmocka_unit_test(test_encoders)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
