/* qg_graph: the nodes needed for a set of outputs, in dependency order. Built by an
 * iterative depth-first walk over src[] (no recursion, so deep graphs are fine). */
#include "qg/graph.h"

#include <stdint.h>
#include <stdlib.h>

#include "graph/ptrmap.h"
#include "core/alloc.h"

struct qg_graph {
    qg_tensor **nodes;
    int n_nodes, cap_nodes;
    qg_tensor **leafs;
    int n_leafs, cap_leafs;
    qg_ptrmap seen; /* visited tensors */
};

qg_status qg_graph_new(qg_graph **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "qg_graph_new: out is NULL");
    *out = qg_calloc(1, sizeof(qg_graph));
    return *out ? QG_OK : qg_set_error(QG_ERR_NO_MEMORY, "qg_graph_new: out of memory");
}

void qg_graph_free(qg_graph *g) {
    if (!g) return;
    qg_free(g->nodes);
    qg_free(g->leafs);
    qg_ptrmap_clear(&g->seen);
    qg_free(g);
}

static qg_status push(qg_tensor ***arr, int *n, int *cap, qg_tensor *t) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 64;
        qg_tensor **a = qg_realloc(*arr, (size_t)c * sizeof *a);
        if (!a) return qg_set_error(QG_ERR_NO_MEMORY, "graph: out of memory");
        *arr = a;
        *cap = c;
    }
    (*arr)[(*n)++] = t;
    return QG_OK;
}

qg_status qg_graph_add(qg_graph *g, qg_tensor *t) {
    if (!g || !t) return qg_set_error(QG_ERR_INVALID_ARG, "qg_graph_add: %s is NULL (did a builder fail? %s)",
                                      g ? "tensor" : "graph", qg_last_error());
    t->flags |= QG_FLAG_OUTPUT;
    /* Explicit DFS stack of (tensor, next src index to visit). */
    typedef struct { qg_tensor *t; int next; } frame;
    int cap = 64, top = 0;
    frame *stack = qg_malloc((size_t)cap * sizeof *stack);
    if (!stack) return qg_set_error(QG_ERR_NO_MEMORY, "graph: out of memory");
    qg_status st = QG_OK;
    if (qg_ptrmap_get(&g->seen, t) < 0) {
        st = qg_ptrmap_put(&g->seen, t, 1);
        stack[top++] = (frame){t, 0};
    }
    while (st == QG_OK && top > 0) {
        frame *f = &stack[top - 1];
        if (f->next < QG_MAX_SRC) {
            qg_tensor *s = f->t->src[f->next++];
            if (!s || qg_ptrmap_get(&g->seen, s) >= 0) continue;
            if ((st = qg_ptrmap_put(&g->seen, s, 1)) != QG_OK) break;
            if (top == cap) {
                frame *ns = qg_realloc(stack, (size_t)(cap *= 2) * sizeof *stack);
                if (!ns) {
                    st = qg_set_error(QG_ERR_NO_MEMORY, "graph: out of memory");
                    break;
                }
                stack = ns;
            }
            stack[top++] = (frame){s, 0};
            continue;
        }
        qg_tensor *done = f->t;
        top--;
        if (done->op == QG_OP_NONE) st = push(&g->leafs, &g->n_leafs, &g->cap_leafs, done);
        else st = push(&g->nodes, &g->n_nodes, &g->cap_nodes, done);
    }
    qg_free(stack);
    return st;
}

int qg_graph_n_nodes(const qg_graph *g) { return g ? g->n_nodes : 0; }

qg_tensor *qg_graph_node(const qg_graph *g, int i) {
    return (g && i >= 0 && i < g->n_nodes) ? g->nodes[i] : NULL;
}

int qg_graph_n_leafs(const qg_graph *g) { return g ? g->n_leafs : 0; }

qg_tensor *qg_graph_leaf(const qg_graph *g, int i) {
    return (g && i >= 0 && i < g->n_leafs) ? g->leafs[i] : NULL;
}
