/* Memory planner: replays the allocations and frees of one run in step order over a
 * best-fit free list with coalescing, recording each tensor's offset and the high-water
 * mark. A tensor is freed after the step of its last reader, so a node's output never
 * overlaps the inputs it reads. */
#include "graph/planner.h"
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct { size_t off, size; } block;

typedef struct {
    block *free;
    int n, cap;
    size_t end;   /* bytes handed out so far from the top */
} arena;

static size_t align_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

static qg_status arena_free(arena *a, size_t off, size_t size) {
    /* Insert sorted by offset, then merge with neighbours. */
    int i = 0;
    while (i < a->n && a->free[i].off < off) i++;
    if (a->n == a->cap) {
        int cap = a->cap ? 2 * a->cap : 32;
        block *b = qg_realloc(a->free, (size_t)cap * sizeof *b);
        if (!b) return qg_set_error(QG_ERR_NO_MEMORY, "planner: out of memory");
        a->free = b;
        a->cap = cap;
    }
    for (int j = a->n; j > i; j--) a->free[j] = a->free[j - 1];
    a->free[i] = (block){off, size};
    a->n++;
    if (i + 1 < a->n && a->free[i].off + a->free[i].size == a->free[i + 1].off) {
        a->free[i].size += a->free[i + 1].size;
        for (int j = i + 1; j + 1 < a->n; j++) a->free[j] = a->free[j + 1];
        a->n--;
    }
    if (i > 0 && a->free[i - 1].off + a->free[i - 1].size == a->free[i].off) {
        a->free[i - 1].size += a->free[i].size;
        for (int j = i; j + 1 < a->n; j++) a->free[j] = a->free[j + 1];
        a->n--;
    }
    /* A free block at the top shrinks the used area instead. */
    if (a->n > 0 && a->free[a->n - 1].off + a->free[a->n - 1].size == a->end) {
        a->end = a->free[a->n - 1].off;
        a->n--;
    }
    return QG_OK;
}

static size_t arena_alloc(arena *a, size_t size, size_t *peak) {
    int best = -1;
    for (int i = 0; i < a->n; i++)
        if (a->free[i].size >= size && (best < 0 || a->free[i].size < a->free[best].size)) best = i;
    if (best >= 0) {
        size_t off = a->free[best].off;
        a->free[best].off += size;
        a->free[best].size -= size;
        if (a->free[best].size == 0) {
            for (int j = best; j + 1 < a->n; j++) a->free[j] = a->free[j + 1];
            a->n--;
        }
        return off;
    }
    size_t off = a->end;
    a->end += size;
    if (a->end > *peak) *peak = a->end;
    return off;
}

typedef struct { int step; int kind; int idx; } event; /* kind 0 = free, 1 = alloc */

static int cmp_event(const void *pa, const void *pb) {
    const event *a = pa, *b = pb;
    if (a->step != b->step) return a->step < b->step ? -1 : 1;
    if (a->kind != b->kind) return a->kind - b->kind; /* frees before allocs at one step */
    return a->idx - b->idx;
}

qg_status qg_plan_solve(qg_plan_req *reqs, int n, size_t alignment, size_t *peak, size_t *naive) {
    if (alignment == 0 || (alignment & (alignment - 1)))
        return qg_set_error(QG_ERR_INVALID_ARG, "planner: alignment %zu is not a power of two", alignment);
    *peak = 0;
    *naive = 0;
    if (n == 0) return QG_OK;
    event *ev = qg_malloc((size_t)n * 2 * sizeof *ev);
    if (!ev) return qg_set_error(QG_ERR_NO_MEMORY, "planner: out of memory");
    int ne = 0;
    for (int i = 0; i < n; i++) {
        *naive += align_up(reqs[i].size, alignment);
        ev[ne++] = (event){reqs[i].first, 1, i};
        /* Freed at the step after its last read. */
        if (reqs[i].last != QG_PLAN_FOREVER) ev[ne++] = (event){reqs[i].last + 1, 0, i};
    }
    qsort(ev, (size_t)ne, sizeof *ev, cmp_event);
    arena a = {0};
    qg_status st = QG_OK;
    for (int e = 0; e < ne && st == QG_OK; e++) {
        qg_plan_req *r = &reqs[ev[e].idx];
        size_t size = align_up(r->size ? r->size : 1, alignment);
        if (ev[e].kind == 1) r->offset = arena_alloc(&a, size, peak);
        else st = arena_free(&a, r->offset, size);
    }
    qg_free(a.free);
    qg_free(ev);
    return st;
}
