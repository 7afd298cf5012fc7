/* The sampler of the llama example (examples/llama/sampling.c), on synthetic logits:
 * greedy is the arg-max; top-k 1 and a tiny top-p reduce to it; a seed repeats its
 * sequence; temperature sampling follows softmax(logits / T) (frequencies over many
 * draws within 5 standard deviations of the expected ones); top-k and top-p never pick a
 * token outside the kept set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sampling.h"
#include "testutil.h"

#define NV 1000

static void fill(float *l, uint64_t seed) {
    qgt_rng r;
    qgt_seed(&r, seed);
    for (int i = 0; i < NV; i++) l[i] = 3.0f * qgt_normal(&r);
}

static qgl_sampler *make(float temp, int k, float p, uint64_t seed) {
    qgl_sampler_params sp = {.temp = temp, .top_k = k, .top_p = p, .seed = seed};
    qgl_sampler *s = NULL;
    assert_int_equal(qgl_sampler_new(&sp, NV, &s), QG_OK);
    return s;
}

static void test_greedy_forms(void **state) {
    (void)state;
    float l[NV];
    fill(l, 1);
    int32_t best = qgl_argmax(l, NV);
    for (int i = 0; i < NV; i++) assert_true(l[i] <= l[best]);
    qgl_sampler *g = make(0.0f, 40, 0.95f, 7), *k1 = make(1.0f, 1, 1.0f, 7), *p0 = make(1.0f, 0, 1e-6f, 7);
    for (int rep = 0; rep < 20; rep++) {
        assert_int_equal(qgl_sample(g, l), best);
        assert_int_equal(qgl_sample(k1, l), best);
        assert_int_equal(qgl_sample(p0, l), best);
    }
    qgl_sampler_free(g);
    qgl_sampler_free(k1);
    qgl_sampler_free(p0);
}

static void test_seed_repeats(void **state) {
    (void)state;
    float l[NV];
    fill(l, 2);
    qgl_sampler *a = make(0.8f, 40, 0.95f, 1234), *b = make(0.8f, 40, 0.95f, 1234), *c = make(0.8f, 40, 0.95f, 99);
    int same_c = 0;
    for (int i = 0; i < 200; i++) {
        int32_t x = qgl_sample(a, l), y = qgl_sample(b, l), z = qgl_sample(c, l);
        assert_int_equal(x, y);
        same_c += x == z;
    }
    assert_true(same_c < 200); /* another seed gives another sequence */
    qgl_sampler_free(a);
    qgl_sampler_free(b);
    qgl_sampler_free(c);
}

static void test_distribution(void **state) {
    (void)state;
    float l[NV];
    for (int i = 0; i < NV; i++) l[i] = -1e4f; /* effectively impossible */
    l[10] = 2.0f;
    l[20] = 1.0f;
    l[30] = 0.0f;
    const float T = 0.7f;
    double e[3] = {exp(2.0 / T), exp(1.0 / T), exp(0.0 / T)}, z = e[0] + e[1] + e[2];
    qgl_sampler *s = make(T, 3, 1.0f, 42);
    enum { N = 20000 };
    int cnt[3] = {0};
    for (int i = 0; i < N; i++) {
        int32_t t = qgl_sample(s, l);
        assert_true(t == 10 || t == 20 || t == 30);
        cnt[t / 10 - 1]++;
    }
    for (int j = 0; j < 3; j++) {
        double p = e[j] / z, sd = sqrt(N * p * (1 - p));
        printf("token %d: %d draws, expected %.0f +- %.0f\n", 10 * (j + 1), cnt[j], N * p, sd);
        assert_true(fabs(cnt[j] - N * p) < 5 * sd);
    }
    qgl_sampler_free(s);
}

static void test_kept_sets(void **state) {
    (void)state;
    float l[NV];
    fill(l, 3);
    /* The 5 largest logits. */
    int top[5];
    for (int j = 0; j < 5; j++) {
        int best = -1;
        for (int i = 0; i < NV; i++) {
            bool used = false;
            for (int u = 0; u < j; u++) used |= top[u] == i;
            if (!used && (best < 0 || l[i] > l[best])) best = i;
        }
        top[j] = best;
    }
    qgl_sampler *k5 = make(5.0f, 5, 1.0f, 11);
    int seen[5] = {0};
    for (int i = 0; i < 2000; i++) {
        int32_t t = qgl_sample(k5, l);
        int pos = -1;
        for (int j = 0; j < 5; j++)
            if (top[j] == t) pos = j;
        assert_true(pos >= 0);
        seen[pos]++;
    }
    for (int j = 0; j < 5; j++) assert_true(seen[j] > 0); /* a high temperature reaches them all */
    /* top-p: with probabilities 0.5, 0.3, 0.2 and p = 0.6 only the first two are kept. */
    for (int i = 0; i < NV; i++) l[i] = -1e4f;
    l[1] = logf(0.5f);
    l[2] = logf(0.3f);
    l[3] = logf(0.2f);
    qgl_sampler *pp = make(1.0f, 0, 0.6f, 5);
    int c1 = 0, c2 = 0;
    for (int i = 0; i < 4000; i++) {
        int32_t t = qgl_sample(pp, l);
        assert_true(t == 1 || t == 2);
        c1 += t == 1;
        c2 += t == 2;
    }
    assert_true(c1 > 0 && c2 > 0);
    qgl_sampler_free(k5);
    qgl_sampler_free(pp);
}

static void test_bad_params(void **state) {
    (void)state;
    qgl_sampler_params p = qgl_sampler_default_params();
    qgl_sampler *s = NULL;
    assert_int_equal(qgl_sampler_new(&p, 0, &s), QG_ERR_INVALID_ARG);
    p.temp = NAN;
    assert_int_equal(qgl_sampler_new(&p, NV, &s), QG_ERR_INVALID_ARG);
    assert_null(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_forms), cmocka_unit_test(test_seed_repeats),
        cmocka_unit_test(test_distribution), cmocka_unit_test(test_kept_sets),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
