#include "graph/ptrmap.h"
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>

static size_t slot_of(const void *p, size_t cap) {
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 7) & (cap - 1);
}

int qg_ptrmap_get(const qg_ptrmap *m, const void *key) {
    if (!m->cap) return -1;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return -1;
        if (m->keys[i] == key) return m->vals[i];
    }
}

static void insert(const void **keys, int *vals, size_t cap, const void *key, int val, size_t *n) {
    size_t i = slot_of(key, cap);
    while (keys[i] && keys[i] != key) i = (i + 1) & (cap - 1);
    if (!keys[i]) (*n)++;
    keys[i] = key;
    vals[i] = val;
}

qg_status qg_ptrmap_put(qg_ptrmap *m, const void *key, int val) {
    if (2 * (m->n + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        const void **keys = qg_calloc(cap, sizeof *keys);
        int *vals = qg_calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            qg_free(keys);
            qg_free(vals);
            return qg_set_error(QG_ERR_NO_MEMORY, "out of memory (pointer map of %zu entries)", cap);
        }
        size_t n = 0;
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) insert(keys, vals, cap, m->keys[i], m->vals[i], &n);
        qg_free(m->keys);
        qg_free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
        m->n = n;
    }
    insert(m->keys, m->vals, m->cap, key, val, &m->n);
    return QG_OK;
}

void qg_ptrmap_clear(qg_ptrmap *m) {
    qg_free(m->keys);
    qg_free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}
