/* The CPU backend's multi-row dot products (cpu_simd_fns.vec_dot_rows: several weight
 * rows against one activation row, the mat-vec path) against vec_dot and the scalar
 * references.
 *
 * For every weight type the AVX2 table gives a multi-row dot product (at least the seven
 * 32-element block types and the six 256-element super-block types, which must all have
 * one):
 *  - out[r] must equal, bit for bit, what the table's vec_dot gives for row r alone, for
 *    row counts 0..13 (0 writes nothing; nothing past out[nrows - 1] is written), row
 *    strides equal to the row size and larger, and k from one block to 4096 (for the
 *    super-block types 1, 3, 5, 7 and 16 super-blocks: whole groups of four and the
 *    leftovers);
 *  - for the super-block types (Q2_K..Q6_K, IQ4_XS) also the scalar reference, bit for
 *    bit (their SIMD dots sum in integers exactly and evaluate the float part as the
 *    reference does, which test_cpu_simd demands of vec_dot);
 *  - for the seven block types also the scalar reference within the bound of
 *    test_cpu_simd (|simd - ref| <= 2 * (blocks + 16) * FLT_EPSILON * M, M = sum of
 *    |w| |y| plus |block min| |y| for Q4_1/Q5_1), on rows of random raw blocks (all codes,
 *    random finite scales), rows quantized from random floats, and saturated rows (every
 *    level at its extreme against activations at +-127);
 *  - MXFP4: each of the 256 E8M0 scale codes against y = 1 gives exactly 32 * 2^(e-128)
 *    (infinity past the float range, NaN for 0xFF), in the multi-row and one-row dots;
 *  - MUL_MAT on device "cpu" (mat-vec in units of more than 16 rows, and leftover
 *    columns of mat-mat) gives exactly the table's vec_dot for every output, for the
 *    block types and the super-block types.
 * Where the build or the processor has no AVX2 code, the test prints why and exits 77.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#ifdef QG_TEST_NO_CPU_SIMD
int main(void) { return qgt_skip("the CPU plugin (and its SIMD code) is not part of this build"); }
#else
#include "backends/cpu/simd.h"

/* The block types whose layout the test knows: fp16 d at byte 0 (E8M0 for MXFP4), the
 * fp16 minimum at byte 2 for the type-1 ones. */
typedef struct known {
    qg_type type;
    bool e8m0; /* scale byte 0 is E8M0 (MXFP4) */
    int min_off;
    int d_off; /* byte of the fp16 d (super-block types; 0 for the others) */
} known;
static const known knowns[] = {
    {QG_TYPE_Q4_0, false, -1, 0}, {QG_TYPE_Q4_1, false, 2, 0},   {QG_TYPE_Q5_0, false, -1, 0},
    {QG_TYPE_Q5_1, false, 2, 0},  {QG_TYPE_Q8_0, false, -1, 0},  {QG_TYPE_IQ4_NL, false, -1, 0},
    {QG_TYPE_MXFP4, true, -1, 0},
};
#define N_KNOWN (int)(sizeof knowns / sizeof knowns[0])

/* The super-block types (results equal to the scalar reference): where their fp16 d and
 * dmin lie, so raw random blocks get finite scales (quantizing rows of them is slow). */
static const known supers[] = {
    {QG_TYPE_Q2_K, false, 82, 80}, {QG_TYPE_Q3_K, false, -1, 108}, {QG_TYPE_Q4_K, false, 2, 0},
    {QG_TYPE_Q5_K, false, 2, 0},   {QG_TYPE_Q6_K, false, -1, 208}, {QG_TYPE_IQ4_XS, false, -1, 0},
};
#define N_SUPER (int)(sizeof supers / sizeof supers[0])

static const known *super_of(qg_type t) {
    for (int i = 0; i < N_SUPER; i++)
        if (supers[i].type == t) return &supers[i];
    return NULL;
}

static const cpu_simd_fns *simd;
static qgt_rng rng;

static const known *known_of(qg_type t) {
    for (int i = 0; i < N_KNOWN; i++)
        if (knowns[i].type == t) return &knowns[i];
    return NULL;
}

/* One weight row: mode 0 random raw blocks with random finite scales (kn: a known or
 * super-block layout), 1 quantized from random floats, 2 every level byte 0xFF or 0x88
 * (kn). */
static void make_row(const qg_type_traits *t, const known *kn, int64_t k, int mode, unsigned char *w) {
    if (mode == 1 || !kn) {
        float *f = malloc((size_t)k * sizeof(float));
        for (int64_t i = 0; i < k; i++) f[i] = qgt_normal(&rng) * (i % 5 == 0 ? 2.0f : 0.5f);
        t->from_float(f, w, k);
        free(f);
        return;
    }
    const size_t bytes = qg_row_size(t->type, k);
    if (mode == 0)
        for (size_t i = 0; i < bytes; i++) w[i] = (unsigned char)qgt_next(&rng);
    else memset(w, (qgt_next(&rng) & 1) ? 0xFF : 0x88, bytes);
    for (int64_t b = 0; b < k / t->block_size; b++) {
        unsigned char *blk = w + (size_t)b * t->type_size;
        if (kn->e8m0) {
            blk[0] = (unsigned char)(115 + qgt_next(&rng) % 20);
            continue;
        }
        const uint16_t d = qg_fp32_to_fp16(qgt_uniform(&rng, -2.0f, 2.0f));
        memcpy(blk + kn->d_off, &d, 2);
        if (kn->min_off >= 0) {
            const uint16_t m = qg_fp32_to_fp16(qgt_uniform(&rng, -2.0f, 2.0f));
            memcpy(blk + kn->min_off, &m, 2);
        }
    }
}

/* Activation row in the partner type, quantized by the scalar reference: random, or
 * (sat = +-1) all equal, which puts every quant at +-127. */
static void make_act(qg_type vdt, int64_t k, int sat, unsigned char *y) {
    float *f = malloc((size_t)k * sizeof(float));
    for (int64_t i = 0; i < k; i++) f[i] = sat ? (float)sat : qgt_normal(&rng);
    qg_type_get(vdt)->from_float(f, y, k);
    free(f);
}

static bool same(float a, float b) { return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)); }

#define SENTINEL -12345.5f
#define MAX_ROWS 13

/* nrows rows (stride xs) against one activation row: multi-row vs vec_dot vs reference. */
static void check_rows(qg_type type, int64_t k, int nrows, size_t xs, int mode, int sat) {
    const qg_type_traits *t = qg_type_get(type);
    const known *kn = known_of(type), *sup = super_of(type);
    cpu_dot_rows_fn rows = simd->vec_dot_rows(type);
    qg_vec_dot_fn one = simd->vec_dot(type);
    assert_non_null(one);
    unsigned char *w = calloc((size_t)(nrows > 0 ? nrows : 1), xs);
    unsigned char *y = malloc(qg_row_size(t->vec_dot_type, k));
    for (int r = 0; r < nrows; r++) make_row(t, kn ? kn : sup, k, mode, w + (size_t)r * xs);
    make_act(t->vec_dot_type, k, sat, y);
    float out[MAX_ROWS + 1];
    for (int r = 0; r <= MAX_ROWS; r++) out[r] = SENTINEL;
    rows(k, w, xs, y, out, nrows);
    for (int r = nrows; r <= MAX_ROWS; r++)
        if (!same(out[r], SENTINEL)) fail_msg("%s k=%lld nrows=%d: out[%d] written", t->name, (long long)k, nrows, r);
    for (int r = 0; r < nrows; r++) {
        const unsigned char *wr = w + (size_t)r * xs;
        const float single = one(k, wr, y);
        if (!same(out[r], single))
            fail_msg("%s k=%lld nrows=%d xs=%zu mode=%d row %d: rows %.9g, vec_dot %.9g (must be equal)", t->name,
                     (long long)k, nrows, xs, mode, r, out[r], single);
        if (sup) {
            const float ref = t->vec_dot(k, wr, y);
            if (!same(out[r], ref))
                fail_msg("%s k=%lld nrows=%d sat=%d row %d: rows %.9g, scalar %.9g (must be equal)", t->name,
                         (long long)k, nrows, sat, r, out[r], ref);
        }
        if (!kn) continue;
        const float ref = t->vec_dot(k, wr, y);
        const double tol = 2.0 * (double)(k / 32 + 16) * FLT_EPSILON * qgt_dot_magnitude(t, kn->min_off, wr, y, k);
        if (!(fabs((double)out[r] - (double)ref) <= tol))
            fail_msg("%s k=%lld nrows=%d mode=%d sat=%d row %d: rows %.9g, scalar %.9g, diff %.3g > tol %.3g",
                     t->name, (long long)k, nrows, mode, sat, r, out[r], ref, fabs((double)out[r] - (double)ref), tol);
    }
    free(w);
    free(y);
}

static void test_rows_vs_single(void **state) {
    (void)state;
    int n_types = 0, n_checks = 0;
    for (int i = 0; i < N_KNOWN; i++)
        if (!simd->vec_dot_rows || !simd->vec_dot_rows(knowns[i].type))
            fail_msg("%s has no multi-row dot product", qg_type_get(knowns[i].type)->name);
    for (int i = 0; i < N_SUPER; i++)
        if (!simd->vec_dot_rows(supers[i].type))
            fail_msg("%s has no multi-row dot product", qg_type_get(supers[i].type)->name);
    int count;
    const qg_type_traits *table = qg_type_table(&count);
    for (int ti = 0; ti < count; ti++) {
        const qg_type_traits *t = &table[ti];
        if (!t->vec_dot || !t->from_float || !simd->vec_dot_rows(t->type)) continue;
        const qg_type_traits *tv = qg_type_get(t->vec_dot_type);
        const int64_t unit = t->block_size > tv->block_size ? t->block_size : tv->block_size;
        const int64_t ks[] = {32, 64, 96, 128, 160, 224, 1056, 4096};
        const int64_t ks_super[] = {256, 768, 1280, 1792, 4096};
        const bool sup = unit >= 256;
        const size_t nk = sup ? sizeof ks_super / sizeof ks_super[0] : sizeof ks / sizeof ks[0];
        for (size_t ki = 0; ki < nk; ki++) {
            const int64_t k = sup ? ks_super[ki] : ks[ki];
            if (k % unit) continue;
            const size_t rs = qg_row_size(t->type, k);
            for (int nrows = 0; nrows <= MAX_ROWS; nrows++) {
                if (k == 4096 && nrows % 4 != 1 && nrows != 4) continue; /* keep the long rows few */
                check_rows(t->type, k, nrows, rs, nrows % 3 == 1 ? 1 : 0, 0);
                check_rows(t->type, k, nrows, rs + 24, sup ? 0 : 1, 0);
                n_checks += 2;
            }
            check_rows(t->type, k, 5, rs, 2, 1);
            check_rows(t->type, k, 6, rs + 8, 2, -1);
            n_checks += 2;
        }
        n_types++;
    }
    printf("vec_dot_rows: %d types, %d row-count/length/stride combinations checked\n", n_types, n_checks);
}

/* Each E8M0 code: levels all +1 (E2M1 code 1 = 0.5, i.e. 1 in half units) against
 * y = 1 with d = 1: exactly 32 * 2^(e-128), or its overflow to infinity, or NaN. */
static void test_mxfp4_scales(void **state) {
    (void)state;
    const qg_type_traits *t = qg_type_get(QG_TYPE_MXFP4);
    const int64_t k = 32;
    unsigned char w[4][17], y[34];
    const uint16_t d1 = qg_fp32_to_fp16(1.0f);
    memcpy(y, &d1, 2);
    memset(y + 2, 1, 32);
    for (int e = 0; e < 256; e += 4) {
        for (int r = 0; r < 4; r++) {
            w[r][0] = (unsigned char)(e + r);
            memset(w[r] + 1, 0x11, 16);
        }
        float out[4];
        simd->vec_dot_rows(QG_TYPE_MXFP4)(k, w, sizeof w[0], y, out, 4);
        for (int r = 0; r < 4; r++) {
            const int code = e + r;
            const float want = code == 255 ? NAN : (float)ldexp(32.0, code - 128);
            const float single = simd->vec_dot(QG_TYPE_MXFP4)(k, w[r], y), ref = t->vec_dot(k, w[r], y);
            if (!same(out[r], want) || !same(single, want) || !same(ref, want))
                fail_msg("mxfp4 scale code %d: rows %.9g, vec_dot %.9g, scalar %.9g, expected %.9g", code, out[r],
                         single, ref, want);
        }
    }
}

/* out [m, n] = mul_mat(w [k, m] of type (bytes wq), x F32 [k, n]) on device "cpu". */
static void run_mm(qg_backend *be, qg_type type, int64_t k, int64_t m, int64_t n, const void *wq, const float *x,
                   float *out) {
    qg_context *ctx = NULL;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *w = qg_new_tensor_2d(ctx, type, k, m), *xt = qg_new_tensor_2d(ctx, QG_TYPE_F32, k, n);
    qg_tensor *y = qg_mul_mat(ctx, w, xt);
    assert_non_null(y);
    qg_buffer *buf = NULL;
    qg_graph *g = NULL;
    qg_sched *s = NULL;
    assert_int_equal(qg_backend_alloc_ctx_tensors(be, ctx, &buf), QG_OK);
    assert_int_equal(qg_tensor_set(w, wq, 0, qg_nbytes(w)), QG_OK);
    assert_int_equal(qg_tensor_set(xt, x, 0, qg_nbytes(xt)), QG_OK);
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, y), QG_OK);
    assert_int_equal(qg_sched_new(&be, 1, &s), QG_OK);
    if (qg_sched_compute(s, g) != QG_OK) fail_msg("cpu: %s", qg_last_error());
    assert_int_equal(qg_tensor_get(y, out, 0, qg_nbytes(y)), QG_OK);
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(buf);
    qg_context_free(ctx);
}

/* MUL_MAT on device "cpu" (2 and 3 threads) for the seven block types (k = 256) and the
 * six super-block types (k = 1280: a step of four super-blocks and one left over), with
 * m = 1000 weight rows so that mat-vec (n = 1, 3) takes units of more than 16 rows and a short
 * last unit, and n = 6 (four columns through vec_dot4, two through the multi-row dot):
 * every output must equal, bit for bit, the table's vec_dot of the weight row and the
 * activation column quantized by the scalar reference (the SIMD quantizers are
 * bit-exact with it). */
static void test_mul_mat_units(void **state) {
    (void)state;
    const int64_t m = 1000;
    static const int64_t ns[] = {1, 3, 6};
    for (int threads = 2; threads <= 3; threads++) {
        qg_backend *be = NULL;
        if (qg_backend_open("cpu", &be) != QG_OK) fail_msg("cannot open device cpu: %s", qg_last_error());
        char nt[4];
        snprintf(nt, sizeof nt, "%d", threads);
        assert_int_equal(qg_backend_set_option(be, "threads", nt), QG_OK);
        for (int i = 0; i < N_KNOWN + N_SUPER; i++) {
            const known *kn = i < N_KNOWN ? &knowns[i] : &supers[i - N_KNOWN];
            const qg_type_traits *t = qg_type_get(kn->type);
            const qg_type_traits *tv = qg_type_get(t->vec_dot_type);
            const int64_t k = i < N_KNOWN ? 256 : 1280;
            const size_t rs = qg_row_size(t->type, k), ys = qg_row_size(tv->type, k);
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
                const int64_t n = ns[ni];
                unsigned char *wq = malloc(rs * (size_t)m), *yq = malloc(ys);
                float *x = malloc((size_t)(k * n) * sizeof(float)), *out = malloc((size_t)(m * n) * sizeof(float));
                assert_true(wq && yq && x && out);
                for (int64_t r = 0; r < m; r++) make_row(t, kn, k, r % 8 == 1, wq + (size_t)r * rs);
                for (int64_t j = 0; j < k * n; j++) x[j] = qgt_normal(&rng);
                run_mm(be, t->type, k, m, n, wq, x, out);
                for (int64_t j = 0; j < n; j++) {
                    tv->from_float(x + j * k, yq, k);
                    for (int64_t r = 0; r < m; r++) {
                        const float want = simd->vec_dot(t->type)(k, wq + (size_t)r * rs, yq);
                        if (!same(out[j * m + r], want))
                            fail_msg("%s threads=%d n=%lld: out[%lld,%lld] %.9g, vec_dot %.9g", t->name, threads,
                                     (long long)n, (long long)r, (long long)j, out[j * m + r], want);
                    }
                }
                free(wq);
                free(yq);
                free(x);
                free(out);
            }
        }
        qg_backend_free(be);
    }
}

int main(void) {
    simd = cpu_simd_avx2();
    if (!simd) return qgt_skip("no AVX2 code is compiled for this processor architecture");
    if (!cpu_simd_avx2_usable()) return qgt_skip("this processor lacks AVX2/FMA/F16C");
    qgt_seed(&rng, 20261123);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_vs_single),
        cmocka_unit_test(test_mxfp4_scales),
        cmocka_unit_test(test_mul_mat_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
