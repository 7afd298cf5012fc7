/* Which SIMD table cpu_simd_best() hands out: on this processor the one its CPUID words
 * allow (never "avx512" without avx512f ...), and for made-up CPUID words the rules of
 * simd.h (AVX-512 needs F, BW, VL, DQ and AVX2/FMA/F16C; VNNI selects "avx512", VNNI and
 * AVX512_BF16 "avx512-bf16", neither "avx512-novnni"; QG_CPU_SIMD only lowers the choice). The AVX-512 tables must be
 * complete: every type the AVX2 table serves, they serve too, with the AVX2 function
 * wherever there is no AVX-512 one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#ifdef QG_TEST_NO_CPU_SIMD
int main(void) { return qgt_skip("the CPU plugin (and its SIMD code) is not part of this build"); }
#else
#include "backends/cpu/cpuinfo.h"
#include "backends/cpu/simd.h"

static const char *name_of(const cpu_simd_fns *t) { return t ? t->name : "scalar"; }

static void test_this_machine(void **state) {
    (void)state;
    char f[256];
    cpu_features(f, sizeof f);
    const cpu_simd_fns *best = cpu_simd_best();
    printf("cpu features \"%s\": cpu_simd_best() is %s\n", f, name_of(best));
    const char *env = getenv("QG_CPU_SIMD");
    assert_ptr_equal(best, cpu_simd_pick(f, cpu_simd_neon() && cpu_simd_neon_usable(), env));
    if (!cpu_simd_avx512_usable(f)) assert_true(!best || strncmp(best->name, "avx512", 6) != 0);
    if (!strstr(f, "avx512f") && cpu_simd_avx2() && cpu_simd_avx2_usable() && !env) {
        assert_non_null(best);
        assert_string_equal(best->name, "avx2");
    }
}

#define X86 "sse3 ssse3 sse4.1 sse4.2 avx avx2 fma f16c"

static void test_rules(void **state) {
    (void)state;
    if (!cpu_simd_avx2()) skip();
    assert_string_equal(name_of(cpu_simd_pick(X86, false, NULL)), "avx2");
    assert_string_equal(name_of(cpu_simd_pick("sse3 avx avx2 fma", false, NULL)), "scalar"); /* no f16c */
    if (!cpu_simd_avx512(0)) {
        assert_string_equal(name_of(cpu_simd_pick(X86 " avx512f avx512bw avx512vl avx512dq avx512vnni", false, NULL)), "avx2");
        return;
    }
    const char *full = X86 " avx512f avx512bw avx512vl avx512dq avx512vnni";
    assert_string_equal(name_of(cpu_simd_pick(full, false, NULL)), "avx512");
    assert_string_equal(name_of(cpu_simd_pick(X86 " avx512f avx512bw avx512vl avx512dq avx512vnni avx512bf16", false, NULL)),
                        "avx512-bf16");
    /* each missing word drops to AVX2 */
    assert_string_equal(name_of(cpu_simd_pick(X86 " avx512bw avx512vl avx512dq avx512vnni", false, NULL)), "avx2");
    assert_string_equal(name_of(cpu_simd_pick(X86 " avx512f avx512vl avx512dq avx512vnni", false, NULL)), "avx2");
    assert_string_equal(name_of(cpu_simd_pick(X86 " avx512f avx512bw avx512dq avx512vnni", false, NULL)), "avx2");
    assert_string_equal(name_of(cpu_simd_pick(X86 " avx512f avx512bw avx512vl avx512vnni", false, NULL)), "avx2");
    /* without VNNI: the AVX-512 float kernels, AVX2 integer dots (BF16 alone counts for nothing) */
    assert_string_equal(name_of(cpu_simd_pick(X86 " avx512f avx512bw avx512vl avx512dq", false, NULL)), "avx512-novnni");
    assert_string_equal(name_of(cpu_simd_pick(X86 " avxvnni avx512f avx512bw avx512vl avx512dq avx512bf16", false, NULL)),
                        "avx512-novnni");
    /* AVX-512 words without AVX2/FMA/F16C: nothing */
    assert_string_equal(name_of(cpu_simd_pick("avx512f avx512bw avx512vl avx512dq avx512vnni", false, NULL)), "scalar");
    /* QG_CPU_SIMD lowers, never raises */
    assert_string_equal(name_of(cpu_simd_pick(full, false, "avx2")), "avx2");
    assert_string_equal(name_of(cpu_simd_pick(full, false, "scalar")), "scalar");
    assert_string_equal(name_of(cpu_simd_pick(full, false, "avx512")), "avx512");
    assert_string_equal(name_of(cpu_simd_pick(X86, false, "avx512")), "avx2");
    assert_string_equal(name_of(cpu_simd_pick(X86, false, "bogus")), "avx2");
}

/* The AVX-512 tables serve every type the AVX2 table serves; where there is no AVX-512
 * function they hand out the AVX2 one (vec_dot4 / vec_dot_rows: unless vec_dot is an
 * AVX-512 one, then NULL rather than a function that would not match it). */
static void test_complete(void **state) {
    (void)state;
    const cpu_simd_fns *a2 = cpu_simd_avx2();
    if (!a2 || !cpu_simd_avx512(0)) skip();
    int n_own = 0, n_types = 0;
    const qg_type_traits *tt = qg_type_table(&n_types);
    const unsigned feats[3] = {0, CPU_AVX512_VNNI, CPU_AVX512_VNNI | CPU_AVX512_BF16};
    for (int b = 0; b < 3; b++) {
        const cpu_simd_fns *a5 = cpu_simd_avx512(feats[b]);
        assert_non_null(a5->gemm);
        assert_ptr_equal(a5->exp_row, a2->exp_row);
        assert_ptr_equal(a5->rope_row, a2->rope_row);
        for (int i = 0; i < n_types; i++) {
            const qg_type t = tt[i].type;
            if (a2->vec_dot(t)) assert_non_null(a5->vec_dot(t));
            if (a2->from_float(t)) assert_non_null(a5->from_float(t));
            assert_ptr_equal(a5->to_float(t), a2->to_float(t));
            const bool own_dot = a5->vec_dot(t) != a2->vec_dot(t);
            n_own += own_dot;
            if (!own_dot) {
                assert_ptr_equal(a5->vec_dot4(t), a2->vec_dot4(t));
                assert_ptr_equal(a5->vec_dot_rows(t), a2->vec_dot_rows(t));
            }
        }
    }
    printf("avx512 tables: %d type entries with their own AVX-512 dot product\n", n_own);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_this_machine),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
