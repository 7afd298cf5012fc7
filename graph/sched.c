/* The scheduler: assigns each node to the first backend that supports it, inserts copies
 * for sources that live on another backend, groups consecutive nodes of one backend into
 * splits, plans each backend's compute buffer with the memory planner and runs the
 * splits in order.
 *
 * The user's graph is not rewritten: the scheduler runs private clones of the nodes whose
 * src[] point at replicas where a copy was needed. Node outputs, inputs and replicas get
 * storage from one compute buffer per backend, kept between runs and grown on demand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend_impl.h"
#include "graph/planner.h"
#include "graph/ptrmap.h"
#include "core/alloc.h"

enum { HOME_UNKNOWN = -2, HOME_EXTERNAL = -3 };

/* What the scheduler knows about one storage owner (a root tensor). */
typedef struct tinfo {
    qg_tensor *t;
    int home;        /* backend index, HOME_UNKNOWN (input not yet used) or HOME_EXTERNAL */
    bool planned;    /* storage comes from our compute buffer */
    int first, last; /* steps (exec index + 1; inputs are written at step 0) */
    size_t offset;
} tinfo;

typedef struct split {
    int backend, first, n;       /* exec[first .. first+n) */
    int copy_first, n_copies;    /* copies[copy_first ..) done before it runs */
} split;

typedef struct copy_op {
    qg_tensor *root;     /* storage owner on another backend */
    qg_tensor *replica;  /* its copy in this split's backend */
} copy_op;

struct qg_sched {
    qg_backend *be[QG_SCHED_MAX_BACKENDS];
    int n_be;
    qg_buffer *buf[QG_SCHED_MAX_BACKENDS];
    const qg_graph *graph;       /* the graph the state below belongs to */
    int graph_nodes;
    qg_ptrmap assigned;          /* node -> backend index */
    qg_ptrmap pinned;            /* nodes placed by where their weights live */
    bool weight_affinity;        /* qg_sched_set_weight_affinity */
    qg_ptrmap info_of;           /* root -> index in infos */
    tinfo *infos;
    int n_infos, cap_infos;
    qg_tensor *clones;           /* exec nodes, private copies */
    qg_tensor **exec;
    int n_exec;
    qg_tensor *extra;            /* replicas and view substitutes */
    int n_extra, cap_extra;
    split *splits;
    int n_splits;
    copy_op *copies;
    int n_copies;
    void *staging;
    size_t staging_size;
    qg_sched_stats stats;
};

qg_status qg_sched_new(qg_backend *const *backends, int n_backends, qg_sched **out) {
    if (!out || !backends || n_backends < 1 || n_backends > QG_SCHED_MAX_BACKENDS)
        return qg_set_error(QG_ERR_INVALID_ARG, "qg_sched_new: need 1..%d backends", QG_SCHED_MAX_BACKENDS);
    for (int i = 0; i < n_backends; i++)
        if (!backends[i]) return qg_set_error(QG_ERR_INVALID_ARG, "qg_sched_new: backend %d is NULL", i);
    qg_sched *s = qg_calloc(1, sizeof *s);
    if (!s) return qg_set_error(QG_ERR_NO_MEMORY, "qg_sched_new: out of memory");
    memcpy(s->be, backends, (size_t)n_backends * sizeof *backends);
    s->n_be = n_backends;
    *out = s;
    return QG_OK;
}

static void reset_state(qg_sched *s) {
    qg_ptrmap_clear(&s->assigned);
    qg_ptrmap_clear(&s->pinned);
    qg_ptrmap_clear(&s->info_of);
    qg_free(s->infos);
    qg_free(s->clones);
    qg_free(s->exec);
    qg_free(s->extra);
    qg_free(s->splits);
    qg_free(s->copies);
    s->infos = NULL;
    s->clones = s->extra = NULL;
    s->exec = NULL;
    s->splits = NULL;
    s->copies = NULL;
    s->n_infos = s->cap_infos = s->n_exec = s->n_extra = s->cap_extra = s->n_splits = s->n_copies = 0;
    s->graph = NULL;
}

void qg_sched_free(qg_sched *s) {
    if (!s) return;
    reset_state(s);
    for (int i = 0; i < s->n_be; i++) qg_buffer_free(s->buf[i]);
    qg_free(s->staging);
    qg_free(s);
}

static int backend_index(const qg_sched *s, const qg_backend *be) {
    for (int i = 0; i < s->n_be; i++)
        if (s->be[i] == be) return i;
    return HOME_EXTERNAL;
}

/* The info of a storage owner, created on first sight. Node outputs are registered when
 * their node is scheduled, so anything met here for the first time is a leaf. */
static tinfo *info(qg_sched *s, qg_tensor *root) {
    int i = qg_ptrmap_get(&s->info_of, root);
    if (i >= 0) return &s->infos[i];
    if (s->n_infos == s->cap_infos) {
        int cap = s->cap_infos ? 2 * s->cap_infos : 64;
        tinfo *n = qg_realloc(s->infos, (size_t)cap * sizeof *n);
        if (!n) return NULL;
        s->infos = n;
        s->cap_infos = cap;
    }
    if (qg_ptrmap_put(&s->info_of, root, s->n_infos) != QG_OK) return NULL;
    tinfo *ti = &s->infos[s->n_infos++];
    memset(ti, 0, sizeof *ti);
    ti->t = root;
    /* Storage a scheduler gave (this one or a freed one) is planned again; anything else
     * was allocated by the user and stays where it is. */
    if (root->buffer && !(root->flags & QG_FLAG_SCHEDULED)) {
        ti->home = s->n_be ? backend_index(s, root->buffer->backend) : 0;
    } else {
        ti->home = HOME_UNKNOWN; /* an input: lives where it is first used */
        ti->planned = true;
    }
    return ti;
}

static qg_tensor *new_extra(qg_sched *s, const qg_tensor *like) {
    if (s->n_extra == s->cap_extra) return NULL; /* sized up front; never happens */
    qg_tensor *t = &s->extra[s->n_extra++];
    *t = *like;
    return t;
}

static bool supports(qg_sched *s, int b, const qg_tensor *node) {
    return s->be[b]->vt->supports_op(s->be[b]->dev, node);
}

/* Pick the backend of a node: the owner's backend for nodes writing into existing
 * storage, else the first backend that supports it. */
static qg_status choose_backend(qg_sched *s, qg_tensor *node, int *out) {
    if (!qg_node_well_formed(node))
        return qg_set_error(QG_ERR_SHAPE, "node '%s' (%s) does not satisfy its op's shape contract", node->name,
                            qg_op_name(node->op));
    if (s->n_be == 0) { /* planning only */
        *out = 0;
        return QG_OK;
    }
    if (node->view_src) {
        tinfo *ti = info(s, node->view_src);
        if (!ti) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
        if (ti->home == HOME_EXTERNAL)
            return qg_set_error(QG_ERR_INVALID_ARG, "node '%s' (%s) writes into '%s', which lives on a backend this scheduler does not use",
                                node->name, qg_op_name(node->op), ti->t->name);
        if (ti->home >= 0) {
            if (!supports(s, ti->home, node))
                return qg_set_error(QG_ERR_UNSUPPORTED, "node '%s' (%s) writes into '%s' on %s, which cannot run it",
                                    node->name, qg_op_name(node->op), ti->t->name, s->be[ti->home]->props.name);
            *out = ti->home;
            return QG_OK;
        }
    }
    if (s->weight_affinity) {
        /* A node reading storage the user allocated on one of our backends (a weight, a
         * KV cache) runs there when that backend supports it, and is pinned; a node whose
         * first source is a pinned node's output stays with it. */
        for (int j = 0; j < QG_MAX_SRC; j++) {
            if (!node->src[j]) continue;
            tinfo *ti = info(s, qg_view_root(node->src[j]));
            if (!ti) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
            if (!ti->planned && ti->home >= 0 && supports(s, ti->home, node)) {
                *out = ti->home;
                return qg_ptrmap_put(&s->pinned, node, 1);
            }
        }
        qg_tensor *prod = node->src[0];
        while (prod && qg_op_is_view(prod->op)) prod = prod->src[0];
        int b = prod ? qg_ptrmap_get(&s->assigned, prod) : -1;
        if (b >= 0 && qg_ptrmap_get(&s->pinned, prod) >= 0 && supports(s, b, node)) {
            *out = b;
            return qg_ptrmap_put(&s->pinned, node, 1);
        }
    }
    for (int b = 0; b < s->n_be; b++)
        if (supports(s, b, node)) {
            *out = b;
            return QG_OK;
        }
    char names[256] = "";
    for (int b = 0; b < s->n_be; b++) {
        strncat(names, b ? ", " : "", sizeof names - strlen(names) - 1);
        strncat(names, s->be[b]->props.name, sizeof names - strlen(names) - 1);
    }
    return qg_set_error(QG_ERR_UNSUPPORTED, "no backend supports node '%s' (%s, %s from %s%s%s) among: %s", node->name,
                        qg_op_name(node->op), qg_type_name(node->type),
                        node->src[0] ? qg_type_name(node->src[0]->type) : "-", node->src[1] ? " and " : "",
                        node->src[1] ? qg_type_name(node->src[1]->type) : "", names);
}

static int imax(int a, int b) { return a > b ? a : b; }

/* A source of exec node k (step) on backend b: note the use, or arrange a copy and
 * return the tensor the clone must read instead (NULL: read the original). */
static qg_status use_source(qg_sched *s, qg_tensor *src, int b, int step, split *sp, qg_tensor **subst) {
    *subst = NULL;
    qg_tensor *root = qg_view_root(src);
    tinfo *ti = info(s, root);
    if (!ti) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
    if (ti->home == HOME_UNKNOWN) ti->home = b;
    if (ti->home == b || s->n_be == 0) {
        ti->last = imax(ti->last, step);
        return QG_OK;
    }
    /* Another backend: one replica of the owner per split. */
    ti->last = imax(ti->last, sp->first + 1);
    qg_tensor *replica = NULL;
    for (int c = sp->copy_first; c < s->n_copies; c++)
        if (s->copies[c].root == root) replica = s->copies[c].replica;
    if (!replica) {
        if (!(replica = new_extra(s, root))) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
        memset(replica->src, 0, sizeof replica->src);
        replica->op = QG_OP_NONE;
        replica->view_src = NULL;
        replica->view_offs = 0;
        replica->flags = 0;
        replica->buffer = NULL;
        snprintf(replica->name, sizeof replica->name, "%.40s@%.20s", root->name, s->be[b]->props.name);
        s->copies[s->n_copies++] = (copy_op){root, replica};
        sp->n_copies++;
        tinfo *ri = info(s, replica);
        if (!ri) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
        ri->home = b;
        ri->planned = true;
        ri->first = sp->first + 1;
    }
    tinfo *ri = info(s, replica);
    if (!ri) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
    ri->last = imax(ri->last, step);
    if (src == root) {
        *subst = replica;
    } else {
        if (!(*subst = new_extra(s, src))) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
        (*subst)->view_src = replica; /* data resolved after planning */
    }
    return QG_OK;
}

/* Walk the graph once: assign, split, find copies and lifetimes. */
static qg_status build(qg_sched *s, const qg_graph *g) {
    int n = qg_graph_n_nodes(g);
    s->clones = qg_calloc((size_t)n + 1, sizeof *s->clones);
    s->exec = qg_calloc((size_t)n + 1, sizeof *s->exec);
    s->cap_extra = 8 * n + 8;
    s->extra = qg_calloc((size_t)s->cap_extra, sizeof *s->extra);
    s->splits = qg_calloc((size_t)n + 1, sizeof *s->splits);
    s->copies = qg_calloc((size_t)4 * n + 4, sizeof *s->copies);
    if (!s->clones || !s->exec || !s->extra || !s->splits || !s->copies)
        return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory for %d nodes", n);
    for (int i = 0; i < n; i++) {
        qg_tensor *node = qg_graph_node(g, i);
        if (qg_op_is_view(node->op)) continue;
        int b;
        qg_status st = choose_backend(s, node, &b);
        if (st != QG_OK) return st;
        if ((st = qg_ptrmap_put(&s->assigned, node, b)) != QG_OK) return st;
        int k = s->n_exec++, step = k + 1;
        split *sp = s->n_splits ? &s->splits[s->n_splits - 1] : NULL;
        if (!sp || sp->backend != b) {
            sp = &s->splits[s->n_splits++];
            *sp = (split){.backend = b, .first = k, .copy_first = s->n_copies};
        }
        sp->n++;
        s->clones[k] = *node;
        for (int j = 0; j < QG_MAX_SRC; j++) {
            if (!node->src[j]) continue;
            qg_tensor *sub;
            if ((st = use_source(s, node->src[j], b, step, sp, &sub)) != QG_OK) return st;
            if (sub) s->clones[k].src[j] = sub;
        }
        if (node->view_src) { /* writes into existing storage: keep it alive until now */
            tinfo *ti = info(s, node->view_src);
            if (!ti) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
            if (ti->home == HOME_UNKNOWN) ti->home = b;
            ti->last = imax(ti->last, step);
        } else {
            tinfo *ti = info(s, node);
            if (!ti) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
            ti->home = b;
            ti->planned = true;
            ti->first = ti->last = step;
        }
    }
    /* Outputs are read by the user after the run: never reuse their storage. */
    for (int pass = 0; pass < 2; pass++) {
        int m = pass ? qg_graph_n_leafs(g) : n;
        for (int i = 0; i < m; i++) {
            qg_tensor *t = pass ? qg_graph_leaf(g, i) : qg_graph_node(g, i);
            tinfo *ti = info(s, qg_view_root(t));
            if (!ti) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
            if (ti->home == HOME_UNKNOWN) ti->home = 0; /* used by views only */
            if (t->flags & QG_FLAG_OUTPUT) ti->last = QG_PLAN_FOREVER;
        }
    }
    return QG_OK;
}

/* Plan backend b's buffer; with place, allocate it and give the tensors their storage. */
static qg_status plan_backend(qg_sched *s, int b, size_t alignment, bool place) {
    int n = 0;
    for (int i = 0; i < s->n_infos; i++) n += s->infos[i].planned && s->infos[i].home == b;
    qg_plan_req *reqs = qg_calloc((size_t)n + 1, sizeof *reqs);
    if (!reqs) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: out of memory");
    int r = 0;
    for (int i = 0; i < s->n_infos; i++) {
        tinfo *ti = &s->infos[i];
        if (!ti->planned || ti->home != b) continue;
        reqs[r++] = (qg_plan_req){.size = qg_nbytes(ti->t), .first = ti->first, .last = ti->last};
    }
    size_t peak, naive;
    qg_status st = qg_plan_solve(reqs, n, alignment, &peak, &naive);
    if (st == QG_OK) {
        s->stats.planned_bytes[b] = peak;
        s->stats.naive_bytes[b] = naive;
        r = 0;
        for (int i = 0; i < s->n_infos; i++)
            if (s->infos[i].planned && s->infos[i].home == b) s->infos[i].offset = reqs[r++].offset;
    }
    qg_free(reqs);
    if (st != QG_OK || !place || peak == 0) return st;
    if (!s->buf[b] || qg_buffer_size(s->buf[b]) < peak) {
        qg_buffer_free(s->buf[b]);
        s->buf[b] = NULL;
        if ((st = qg_backend_alloc_buffer(s->be[b], peak, &s->buf[b])) != QG_OK) return st;
    }
    for (int i = 0; i < s->n_infos; i++) {
        tinfo *ti = &s->infos[i];
        if (!ti->planned || ti->home != b) continue;
        ti->t->flags |= QG_FLAG_SCHEDULED;
        ti->t->buffer = s->buf[b];
        ti->t->pbuf = s->buf[b]->pbuf;
        ti->t->data = (char *)s->buf[b]->base + ti->offset;
    }
    return QG_OK;
}

static void point_at_owner(qg_tensor *t) {
    qg_tensor *root = t->view_src;
    t->buffer = root->buffer;
    t->pbuf = root->pbuf;
    t->data = root->data ? (char *)root->data + t->view_offs : NULL;
}

qg_status qg_sched_alloc(qg_sched *s, qg_graph *g) {
    if (!s || !g) return qg_set_error(QG_ERR_INVALID_ARG, "qg_sched_alloc: NULL argument");
    reset_state(s);
    memset(&s->stats, 0, sizeof s->stats);
    qg_status st = build(s, g);
    for (int b = 0; st == QG_OK && b < s->n_be; b++) {
        size_t align = s->be[b]->props.alignment ? s->be[b]->props.alignment : 64;
        st = plan_backend(s, b, align, true);
    }
    if (st != QG_OK) {
        reset_state(s);
        return st;
    }
    /* Views and in-place writers follow their owners; clones follow their nodes. */
    int n = qg_graph_n_nodes(g);
    for (int i = 0; i < n; i++) {
        qg_tensor *node = qg_graph_node(g, i);
        if (node->view_src) point_at_owner(node);
    }
    for (int i = 0; i < s->n_extra; i++)
        if (s->extra[i].view_src) point_at_owner(&s->extra[i]);
    for (int k = 0, i = 0; i < n; i++) {
        qg_tensor *node = qg_graph_node(g, i);
        if (qg_op_is_view(node->op)) continue;
        s->clones[k].data = node->data;
        s->clones[k].buffer = node->buffer;
        s->clones[k].pbuf = node->pbuf;
        s->exec[k] = &s->clones[k];
        k++;
    }
    s->stats.n_splits = s->n_splits;
    s->stats.n_copies = s->n_copies;
    s->stats.n_backends = s->n_be;
    for (int c = 0; c < s->n_copies; c++) s->stats.copy_bytes += qg_nbytes(s->copies[c].root);
    s->graph = g;
    s->graph_nodes = n;
    return QG_OK;
}

/* Move a source's bytes into its replica, through host memory where needed. */
static qg_status transfer(qg_sched *s, const copy_op *c) {
    const qg_tensor *src = c->root;
    qg_tensor *dst = c->replica;
    size_t size = qg_nbytes(src);
    qg_backend *from = src->buffer->backend, *to = dst->buffer->backend;
    qg_status st = qg_backend_synchronize(from);
    if (st != QG_OK) return st;
    if (from->props.host_memory) return qg_tensor_set(dst, src->data, 0, size);
    if (to->props.host_memory) return qg_tensor_get(src, dst->data, 0, size);
    if (s->staging_size < size) {
        void *p = qg_realloc(s->staging, size);
        if (!p) return qg_set_error(QG_ERR_NO_MEMORY, "scheduler: no staging memory for %zu bytes", size);
        s->staging = p;
        s->staging_size = size;
    }
    st = qg_tensor_get(src, s->staging, 0, size);
    return st == QG_OK ? qg_tensor_set(dst, s->staging, 0, size) : st;
}

qg_status qg_sched_compute(qg_sched *s, qg_graph *g) {
    if (!s || !g) return qg_set_error(QG_ERR_INVALID_ARG, "qg_sched_compute: NULL argument");
    qg_status st;
    if (s->graph != g || s->graph_nodes != qg_graph_n_nodes(g))
        if ((st = qg_sched_alloc(s, g)) != QG_OK) return st;
    st = QG_OK;
    for (int i = 0; st == QG_OK && i < s->n_splits; i++) {
        const split *sp = &s->splits[i];
        qg_backend *be = s->be[sp->backend];
        /* Each device call holds its backend's lock, one backend at a time (copies lock
         * inside qg_tensor_set/get), so threads sharing backends cannot deadlock. */
        for (int c = sp->copy_first; st == QG_OK && c < sp->copy_first + sp->n_copies; c++)
            st = transfer(s, &s->copies[c]);
        if (st != QG_OK) break;
        pthread_mutex_lock(&be->lock);
        st = be->vt->compute(be->dev, s->exec + sp->first, sp->n);
        pthread_mutex_unlock(&be->lock);
    }
    /* Wait for every backend, also after a failure, so that nothing still runs on our
     * buffers when the caller frees or reuses them; the first error is the one reported. */
    qg_status first = st;
    char msg[512] = "";
    if (first != QG_OK) snprintf(msg, sizeof msg, "%s", qg_last_error());
    for (int b = 0; b < s->n_be; b++) {
        qg_status sync = qg_backend_synchronize(s->be[b]);
        if (st == QG_OK) st = sync;
    }
    return first != QG_OK ? qg_set_error(first, "%s", msg) : st;
}

qg_status qg_sched_set_weight_affinity(qg_sched *s, bool on) {
    if (!s) return qg_set_error(QG_ERR_INVALID_ARG, "qg_sched_set_weight_affinity: NULL scheduler");
    s->weight_affinity = on;
    s->graph = NULL; /* re-plan on the next compute */
    return QG_OK;
}

qg_backend *qg_sched_node_backend(const qg_sched *s, const qg_tensor *node) {
    if (!s || !node) return NULL;
    int b = qg_ptrmap_get(&s->assigned, node);
    return b >= 0 ? s->be[b] : NULL;
}

qg_status qg_sched_get_stats(const qg_sched *s, qg_sched_stats *out) {
    if (!s || !out) return qg_set_error(QG_ERR_INVALID_ARG, "qg_sched_get_stats: NULL argument");
    *out = s->stats;
    return QG_OK;
}

qg_status qg_graph_plan(const qg_graph *g, size_t alignment, qg_plan_stats *stats) {
    if (!g || !stats) return qg_set_error(QG_ERR_INVALID_ARG, "qg_graph_plan: NULL argument");
    qg_sched s = {0}; /* no backends: everything on one virtual device */
    qg_status st = build(&s, g);
    if (st == QG_OK) st = plan_backend(&s, 0, alignment, false);
    if (st == QG_OK) {
        stats->planned_bytes = s.stats.planned_bytes[0];
        stats->naive_bytes = s.stats.naive_bytes[0];
        stats->n_tensors = 0;
        for (int i = 0; i < s.n_infos; i++) stats->n_tensors += s.infos[i].planned;
    }
    reset_state(&s);
    return st;
}
