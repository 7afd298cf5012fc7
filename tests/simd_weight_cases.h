/* The weight types the SIMD dot-product tests cover, with where each block keeps its
 * scales (so a test can plant special scale values) and whether the SIMD result must
 * equal the scalar reference bit for bit. Plain C, shared by the cmocka tests and the
 * standalone NEON checker that is cross-compiled for qemu. */
#ifndef QG_TEST_SIMD_WEIGHT_CASES_H
#define QG_TEST_SIMD_WEIGHT_CASES_H

#include <stdbool.h>

#include "qg/core.h"

typedef struct wcase {
    qg_type type;
    int n_f16;          /* fp16 scale fields at f16_off[] (bytes into the block) */
    int f16_off[2];
    int e8m0_off;       /* offset of an E8M0 scale byte, or -1 */
    int min_off;        /* fp16 block minimum of type-1 weights, or -1 */
    bool exact;         /* result must equal the reference bit for bit */
} wcase;

static const wcase cases[] = {
    {QG_TYPE_Q4_0, 1, {0}, -1, -1, false},      {QG_TYPE_Q4_1, 2, {0, 2}, -1, 2, false},
    {QG_TYPE_Q5_0, 1, {0}, -1, -1, false},      {QG_TYPE_Q5_1, 2, {0, 2}, -1, 2, false},
    {QG_TYPE_Q8_0, 1, {0}, -1, -1, false},      {QG_TYPE_IQ4_NL, 1, {0}, -1, -1, false},
    {QG_TYPE_MXFP4, 0, {0}, 0, -1, false},      {QG_TYPE_Q2_K, 2, {80, 82}, -1, -1, true},
    {QG_TYPE_Q3_K, 1, {108}, -1, -1, true},     {QG_TYPE_Q4_K, 2, {0, 2}, -1, -1, true},
    {QG_TYPE_Q5_K, 2, {0, 2}, -1, -1, true},    {QG_TYPE_Q6_K, 1, {208}, -1, -1, true},
    {QG_TYPE_IQ4_XS, 1, {0}, -1, -1, true},     {QG_TYPE_F32, 0, {0}, -1, -1, false},
    {QG_TYPE_F16, 0, {0}, -1, -1, false},       {QG_TYPE_BF16, 0, {0}, -1, -1, false},
    {QG_TYPE_F8_E4M3, 0, {0}, -1, -1, false},   {QG_TYPE_F8_E5M2, 0, {0}, -1, -1, false},
    {QG_TYPE_MXFP8_E4M3, 0, {0}, 0, -1, false}, {QG_TYPE_MXFP8_E5M2, 0, {0}, 0, -1, false},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

#endif
