/* compute() of the CPU backend: checks the nodes, sizes and grows the device's scratch
 * area, then runs all nodes in one pass of the thread pool. Every thread walks the node
 * list; after each node a barrier makes its output visible before the next node starts.
 * The first failure (a kernel's cpu_fail) stops the walk for all threads at that barrier
 * and is re-raised on the calling thread, since qg_last_error() is per thread.
 */
#define _POSIX_C_SOURCE 200809L
#include "cpu.h"
#include "ops_fast.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cpu_errslot {
    atomic_int claimed;
    qg_status st;
    char msg[512];
};

typedef struct job {
    qg_plugin_device *dev;
    qg_tensor *const *nodes;
    int n_nodes;
    cpu_errslot err;
} job;

qg_status cpu_fail(const cpu_params *p, qg_status st, const char *fmt, ...) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&p->err->claimed, &expected, 1)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
        va_end(ap);
        p->err->st = st;
    }
    return st;
}

static size_t align_up(size_t n) { return (n + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN; }

static bool needs_work(const qg_tensor *node) { return node->op != QG_OP_NONE && !qg_op_is_view(node->op); }

static size_t thread_bytes(const qg_tensor *node) {
    int64_t w = node->ne[0];
    for (int s = 0; s < QG_MAX_SRC; s++)
        if (node->src[s] && node->src[s]->ne[0] > w) w = node->src[s]->ne[0];
    size_t n = 3 * (size_t)w * sizeof(float);
    if (node->op == QG_OP_ROPE && cpu_fast_rope_thread_bytes(node->ne[0]) > n)
        n = cpu_fast_rope_thread_bytes(node->ne[0]); /* row buffers plus angle tables */
    return align_up(n);
}

static size_t shared_bytes(const qg_tensor *node) {
    return node->op == QG_OP_MUL_MAT ? align_up(cpu_mul_mat_shared_size(node)) : 0;
}

static void run_nodes(void *arg, int ith, int nth, cpu_barrier *barrier) {
    job *j = arg;
    for (int i = 0; i < j->n_nodes; i++) {
        qg_tensor *node = j->nodes[i];
        if (!needs_work(node)) continue;
        const size_t sh = shared_bytes(node), th = thread_bytes(node);
        cpu_params p = {
            .ith = ith, .nth = nth, .barrier = barrier,
            .wshared = j->dev->scratch, .wshared_size = sh,
            .wthread = j->dev->scratch + sh + (size_t)ith * th, .wthread_size = th,
            .err = &j->err,
        };
        qg_status st = j->dev->kernels->op[node->op](&p, node);
        if (st != QG_OK)
            cpu_fail(&p, st, "cpu: %s node '%s' failed", qg_op_name(node->op), node->name);
        cpu_barrier_wait(barrier);
        if (atomic_load(&j->err.claimed)) break;
    }
}

static bool has_data(const qg_tensor *t) { return t->data != NULL; }

static qg_status check_node(qg_plugin_device *dev, const qg_tensor *node) {
    if (!node) return qg_set_error(QG_ERR_INVALID_ARG, "cpu: NULL node passed to compute");
    if ((unsigned)node->op >= QG_OP_COUNT)
        return qg_set_error(QG_ERR_UNSUPPORTED, "cpu: node '%s' has unknown op %d", node->name, (int)node->op);
    if (!needs_work(node)) return QG_OK;
    if (!dev->kernels->op[node->op] || !cpu_supports_op(node))
        return qg_set_error(QG_ERR_UNSUPPORTED, "cpu: device %s cannot run %s node '%s' (types/shapes/strides)",
                            dev->name, qg_op_name(node->op), node->name);
    if (!has_data(node))
        return qg_set_error(QG_ERR_INVALID_ARG, "cpu: %s node '%s' has no storage", qg_op_name(node->op),
                            node->name);
    for (int s = 0; s < QG_MAX_SRC; s++)
        if (node->src[s] && !has_data(node->src[s]))
            return qg_set_error(QG_ERR_INVALID_ARG, "cpu: source %d '%s' of %s node '%s' has no storage", s,
                                node->src[s]->name, qg_op_name(node->op), node->name);
    return QG_OK;
}

static qg_status reserve_scratch(qg_plugin_device *dev, size_t need) {
    if (need <= dev->scratch_size) return QG_OK;
    unsigned char *s = aligned_alloc(CPU_ALIGN, align_up(need));
    if (!s) return qg_set_error(QG_ERR_NO_MEMORY, "cpu: cannot allocate %zu bytes of compute scratch", need);
    free(dev->scratch);
    dev->scratch = s;
    dev->scratch_size = align_up(need);
    return QG_OK;
}

qg_status cpu_compute(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes) {
    if (n_nodes < 0 || (n_nodes > 0 && !nodes))
        return qg_set_error(QG_ERR_INVALID_ARG, "cpu: compute given %d nodes and a NULL list", n_nodes);
    const int nth = cpu_pool_size(dev->pool);
    size_t need = 0;
    for (int i = 0; i < n_nodes; i++) {
        qg_status st = check_node(dev, nodes[i]);
        if (st != QG_OK) return st;
        if (!needs_work(nodes[i])) continue;
        size_t n = shared_bytes(nodes[i]) + (size_t)nth * thread_bytes(nodes[i]);
        if (n > need) need = n;
    }
    qg_status st = reserve_scratch(dev, need);
    if (st != QG_OK) return st;

    job j = { .dev = dev, .nodes = nodes, .n_nodes = n_nodes };
    atomic_init(&j.err.claimed, 0);
    cpu_pool_run(dev->pool, run_nodes, &j);
    if (atomic_load(&j.err.claimed)) return qg_set_error(j.err.st, "%s", j.err.msg);
    return QG_OK;
}
