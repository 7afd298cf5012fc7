/* Sampling. Greedy takes the arg-max. Otherwise: keep the top-k logits (sorted, largest
 * first), divide by the temperature, softmax, keep the smallest prefix whose probability
 * mass reaches top-p, renormalise and draw with a splitmix64 generator seeded by the
 * caller. */
#include "sampling.h"

#include <math.h>
#include <stdlib.h>

typedef struct cand {
    float logit;
    int32_t id;
} cand;

struct qgl_sampler {
    qgl_sampler_params p;
    int64_t n_vocab;
    uint64_t state;
    cand *c;
};

qgl_sampler_params qgl_sampler_default_params(void) {
    qgl_sampler_params p = {.temp = 0.8f, .top_k = 40, .top_p = 0.95f, .seed = 0};
    return p;
}

qg_status qgl_sampler_new(const qgl_sampler_params *p, int64_t n_vocab, qgl_sampler **out) {
    if (!p || !out || n_vocab < 1 || n_vocab > INT32_MAX)
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_sampler_new: bad arguments");
    if (isnan(p->temp) || isnan(p->top_p))
        return qg_set_error(QG_ERR_INVALID_ARG, "sampler: temperature and top-p must be numbers");
    qgl_sampler *s = calloc(1, sizeof *s);
    if (s) s->c = malloc((size_t)n_vocab * sizeof *s->c);
    if (!s || !s->c) {
        free(s);
        return qg_set_error(QG_ERR_NO_MEMORY, "sampler: out of memory");
    }
    s->p = *p;
    s->n_vocab = n_vocab;
    s->state = p->seed;
    *out = s;
    return QG_OK;
}

void qgl_sampler_free(qgl_sampler *s) {
    if (!s) return;
    free(s->c);
    free(s);
}

int32_t qgl_argmax(const float *logits, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return (int32_t)best;
}

static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int by_logit_desc(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Move the k largest to the front (sorted) with a bounded insertion pass: k is small. */
static int64_t top_k(cand *c, int64_t n, int64_t k) {
    if (k <= 0 || k >= n) {
        qsort(c, (size_t)n, sizeof *c, by_logit_desc);
        return n;
    }
    for (int64_t i = 0; i < n; i++) {
        cand x = c[i];
        int64_t have = i < k ? i : k;
        if (have == k && by_logit_desc(&x, &c[k - 1]) >= 0) continue;
        int64_t j = have == k ? k - 1 : have;
        while (j > 0 && by_logit_desc(&x, &c[j - 1]) < 0) {
            c[j] = c[j - 1];
            j--;
        }
        c[j] = x;
    }
    return k;
}

int32_t qgl_sample(qgl_sampler *s, const float *logits) {
    if (!(s->p.temp > 0)) return qgl_argmax(logits, s->n_vocab);
    for (int64_t i = 0; i < s->n_vocab; i++) s->c[i] = (cand){logits[i], (int32_t)i};
    int64_t n = top_k(s->c, s->n_vocab, s->p.top_k);
    const double max = s->c[0].logit;
    double sum = 0.0;
    double *prob = malloc((size_t)n * sizeof *prob);
    if (!prob) return s->c[0].id; /* out of memory: fall back to the most likely token */
    for (int64_t i = 0; i < n; i++) sum += prob[i] = exp(((double)s->c[i].logit - max) / s->p.temp);
    int64_t keep = n;
    if (s->p.top_p < 1.0f) {
        double acc = 0.0;
        for (int64_t i = 0; i < n; i++) {
            acc += prob[i] / sum;
            if (acc >= s->p.top_p) {
                keep = i + 1;
                break;
            }
        }
    }
    double kept = 0.0;
    for (int64_t i = 0; i < keep; i++) kept += prob[i];
    double r = (double)(next_u64(&s->state) >> 11) * (1.0 / 9007199254740992.0) * kept;
    int32_t id = s->c[keep - 1].id;
    for (int64_t i = 0; i < keep; i++) {
        r -= prob[i];
        if (r < 0) {
            id = s->c[i].id;
            break;
        }
    }
    free(prob);
    return id;
}
