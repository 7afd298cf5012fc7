/* Hash maps for the tokenizer: vocabulary text -> id and BPE merge pair -> rank. Open
 * addressing with linear probing over a power-of-two slot array; keys are byte strings
 * referenced from the tokenizer's arenas (never copied here). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static size_t slot_count(size_t expected)
{
    size_t n = 16;
    while (n < expected * 2 + 1)
        n <<= 1;
    return n;
}

qg_status qgl_strmap_init(qgl_strmap *m, size_t expected)
{
    memset(m, 0, sizeof(*m));
    size_t ns = slot_count(expected);
    m->slots = calloc(ns, sizeof(*m->slots));
    m->keys = malloc((expected + 1) * sizeof(*m->keys));
    m->lens = malloc((expected + 1) * sizeof(*m->lens));
    m->vals = malloc((expected + 1) * sizeof(*m->vals));
    if (!m->slots || !m->keys || !m->lens || !m->vals) {
        qgl_strmap_free(m);
        return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory for a %zu-entry map",
                            expected);
    }
    m->mask = ns - 1;
    m->cap = expected + 1;
    return QG_OK;
}

void qgl_strmap_free(qgl_strmap *m)
{
    free(m->slots);
    free(m->keys);
    free(m->lens);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

qg_status qgl_strmap_put(qgl_strmap *m, const char *key, size_t len, int32_t val)
{
    size_t i = (size_t)mix(fnv(0xcbf29ce484222325ull, key, len)) & m->mask;
    for (;;) {
        uint32_t e = m->slots[i];
        if (e == 0)
            break;
        if (m->lens[e - 1] == len && memcmp(m->keys[e - 1], key, len) == 0) {
            m->vals[e - 1] = val;
            return QG_OK;
        }
        i = (i + 1) & m->mask;
    }
    if (m->n >= m->cap)
        return qg_set_error(QG_ERR_INVALID_ARG, "tokenizer: map over its declared size");
    m->keys[m->n] = key;
    m->lens[m->n] = (uint32_t)len;
    m->vals[m->n] = val;
    m->n++;
    m->slots[i] = (uint32_t)m->n;
    return QG_OK;
}

int32_t qgl_strmap_get(const qgl_strmap *m, const char *key, size_t len)
{
    if (!m->slots)
        return -1;
    size_t i = (size_t)mix(fnv(0xcbf29ce484222325ull, key, len)) & m->mask;
    for (;;) {
        uint32_t e = m->slots[i];
        if (e == 0)
            return -1;
        if (m->lens[e - 1] == len && memcmp(m->keys[e - 1], key, len) == 0)
            return m->vals[e - 1];
        i = (i + 1) & m->mask;
    }
}

static uint64_t pair_hash(const char *l, size_t ll, const char *r, size_t rl)
{
    uint64_t h = fnv(0xcbf29ce484222325ull, l, ll);
    h = fnv(h ^ (0x9e3779b97f4a7c15ull * (ll + 1)), r, rl);
    return mix(h);
}

qg_status qgl_pairmap_init(qgl_pairmap *m, size_t expected)
{
    memset(m, 0, sizeof(*m));
    size_t ns = slot_count(expected);
    size_t c = expected + 1;
    m->slots = calloc(ns, sizeof(*m->slots));
    m->left = malloc(c * sizeof(*m->left));
    m->llen = malloc(c * sizeof(*m->llen));
    m->right = malloc(c * sizeof(*m->right));
    m->rlen = malloc(c * sizeof(*m->rlen));
    m->rank = malloc(c * sizeof(*m->rank));
    if (!m->slots || !m->left || !m->llen || !m->right || !m->rlen || !m->rank) {
        qgl_pairmap_free(m);
        return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory for %zu merges",
                            expected);
    }
    m->mask = ns - 1;
    m->cap = c;
    return QG_OK;
}

void qgl_pairmap_free(qgl_pairmap *m)
{
    free(m->slots);
    free(m->left);
    free(m->llen);
    free(m->right);
    free(m->rlen);
    free(m->rank);
    memset(m, 0, sizeof(*m));
}

static bool pair_eq(const qgl_pairmap *m, uint32_t e, const char *l, size_t ll, const char *r,
                    size_t rl)
{
    return m->llen[e] == ll && m->rlen[e] == rl && memcmp(m->left[e], l, ll) == 0 &&
           memcmp(m->right[e], r, rl) == 0;
}

qg_status qgl_pairmap_put(qgl_pairmap *m, const char *l, size_t ll, const char *r, size_t rl,
                          int32_t rank)
{
    size_t i = (size_t)pair_hash(l, ll, r, rl) & m->mask;
    for (;;) {
        uint32_t e = m->slots[i];
        if (e == 0)
            break;
        if (pair_eq(m, e - 1, l, ll, r, rl))
            return QG_OK;
        i = (i + 1) & m->mask;
    }
    if (m->n >= m->cap)
        return qg_set_error(QG_ERR_INVALID_ARG, "tokenizer: merge map over its declared size");
    m->left[m->n] = l;
    m->llen[m->n] = (uint32_t)ll;
    m->right[m->n] = r;
    m->rlen[m->n] = (uint32_t)rl;
    m->rank[m->n] = rank;
    m->n++;
    m->slots[i] = (uint32_t)m->n;
    return QG_OK;
}

int32_t qgl_pairmap_get(const qgl_pairmap *m, const char *l, size_t ll, const char *r, size_t rl)
{
    if (!m->slots)
        return -1;
    size_t i = (size_t)pair_hash(l, ll, r, rl) & m->mask;
    for (;;) {
        uint32_t e = m->slots[i];
        if (e == 0)
            return -1;
        if (pair_eq(m, e - 1, l, ll, r, rl))
            return m->rank[e - 1];
        i = (i + 1) & m->mask;
    }
}
