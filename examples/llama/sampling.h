/* Token sampling: greedy (temperature <= 0), or temperature + top-k + top-p on a
 * seeded generator so that a run with the same seed repeats exactly. */
#ifndef QGL_SAMPLING_H
#define QGL_SAMPLING_H

#include <stdint.h>

#include "qg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qgl_sampler_params {
    float temp;    /* <= 0: greedy */
    int top_k;     /* <= 0: all tokens */
    float top_p;   /* >= 1: off */
    uint64_t seed;
} qgl_sampler_params;

typedef struct qgl_sampler qgl_sampler;

qgl_sampler_params qgl_sampler_default_params(void); /* temp 0.8, top-k 40, top-p 0.95, seed 0 */
qg_status qgl_sampler_new(const qgl_sampler_params *p, int64_t n_vocab, qgl_sampler **out);
void qgl_sampler_free(qgl_sampler *s);
/* Pick a token from n_vocab logits. */
int32_t qgl_sample(qgl_sampler *s, const float *logits);
/* Index of the largest logit (the first one on ties). */
int32_t qgl_argmax(const float *logits, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
