/* Running one `qg conform` case: build its graph for the tested device, refuse it as
 * UNSUPPORTED if the device's supports_op rejects any node (no fallback, the scheduler
 * gets that device alone) or if its leafs need a bigger buffer than the device's stated
 * max_alloc, make seeded leaf data once, run the same graph with the same
 * bytes on the tested device and on `cpu-ref`, read both outputs as F32 and compare:
 * non-finite values must sit at the same places with the same value class (NaN, +Inf,
 * -Inf), and over the rest NMSE = sum((a-b)^2) / sum(b^2) must stay under the case's
 * limit. CPY cases into lossy types also compare the output with the F32 input.
 *
 * Large leafs are filled with a block of unique rows (an odd count, so the period never
 * lines up with 64-row tiles) repeated to the full size: quantizing 45M random values with
 * the scalar K-quant search would take most of the time budget otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include "conform_cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNIQUE_ELEMENTS (1 << 18)
#define PERF_REPS 5

static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

typedef struct rng { uint64_t s; } rng;
static uint64_t next(rng *r) { return mix64(r->s++); }
static float uniform(rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)((double)(next(r) >> 11) * (1.0 / 9007199254740992.0));
}

static uint64_t hash_str(uint64_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* One row of float values for a float-typed leaf. */
static void fill_row(rng *r, const cf_fill *f, float *row, int64_t n, int64_t i1, int64_t n_rows) {
    for (int64_t i = 0; i < n; i++) row[i] = uniform(r, f->lo, f->hi);
    if (f->kind == CF_SPECIAL) {
        const float specials[3] = {NAN, INFINITY, -INFINITY};
        for (int64_t i = 0; i < n; i++) {
            if (next(r) % 16 != 0) continue;
            int pick = (int)(next(r) % 3);
            for (int k = 0; k < 3 && !(f->special & (1 << pick)); k++) pick = (pick + 1) % 3;
            if (f->special & (1 << pick)) row[i] = specials[pick];
        }
    } else if (f->kind == CF_CAUSAL) {
        const int64_t row_in_plane = i1 % n_rows;
        for (int64_t j = 0; j < n; j++)
            if (j > row_in_plane + (n - n_rows)) row[j] = -INFINITY;
    }
}

static void put_id(void *dst, qg_type type, int64_t i, int64_t v) {
    if (type == QG_TYPE_I64) ((int64_t *)dst)[i] = v;
    else ((int32_t *)dst)[i] = (int32_t)v;
}

static qg_status fill_ids(rng *r, const qg_tensor *t, const cf_fill *f, void *dst) {
    const int64_t n0 = t->ne[0], rows = qg_nrows(t), max = f->max > 0 ? f->max : 1;
    int64_t *perm = NULL;
    if (f->kind == CF_DISTINCT) {
        if (n0 > max) return qg_set_error(QG_ERR_INVALID_ARG, "%s: %lld distinct ids below %lld", t->name,
                                          (long long)n0, (long long)max);
        perm = malloc((size_t)max * sizeof *perm);
        if (!perm) return qg_set_error(QG_ERR_NO_MEMORY, "ids: out of memory");
    }
    for (int64_t row = 0; row < rows; row++) {
        if (perm)
            for (int64_t i = 0; i < max; i++) perm[i] = i;
        for (int64_t i = 0; i < n0; i++) {
            int64_t v;
            if (perm) { /* partial Fisher-Yates: the first n0 of a random permutation */
                int64_t j = i + (int64_t)(next(r) % (uint64_t)(max - i));
                v = perm[j];
                perm[j] = perm[i];
                perm[i] = v;
            } else if (f->kind == CF_POSITIONS && row == 0 && i == 0) {
                v = max - 1;
            } else {
                v = (int64_t)(next(r) % (uint64_t)max);
            }
            put_id(dst, t->type, row * n0 + i, v);
        }
    }
    free(perm);
    return QG_OK;
}

/* The bytes uploaded into leaf t (contiguous), made from fill f. */
static qg_status make_bytes(rng *r, const qg_tensor *t, const cf_fill *f, void **out) {
    const size_t size = qg_nbytes(t);
    unsigned char *bytes = malloc(size ? size : 1);
    if (!bytes) return qg_set_error(QG_ERR_NO_MEMORY, "leaf %s: cannot allocate %zu bytes", t->name, size);
    *out = bytes;
    if (t->type == QG_TYPE_I32 || t->type == QG_TYPE_I64) return fill_ids(r, t, f, bytes);
    const qg_type_traits *tt = qg_type_get(t->type);
    if (!tt || !tt->from_float)
        return qg_set_error(QG_ERR_UNSUPPORTED, "leaf %s: type %s cannot be filled", t->name, qg_type_name(t->type));
    const int64_t n0 = t->ne[0], rows = qg_nrows(t);
    const size_t row_bytes = qg_row_size(t->type, n0);
    int64_t unique = rows;
    if (n0 * rows > UNIQUE_ELEMENTS && f->kind != CF_CAUSAL) {
        unique = UNIQUE_ELEMENTS / n0;
        unique = (unique < 1 ? 1 : unique) | 1;
        if (unique > rows) unique = rows;
    }
    float *row = malloc((size_t)n0 * sizeof(float));
    if (!row) return qg_set_error(QG_ERR_NO_MEMORY, "leaf %s: out of memory", t->name);
    for (int64_t i = 0; i < unique; i++) {
        fill_row(r, f, row, n0, i, t->ne[1]);
        tt->from_float(row, bytes + (size_t)i * row_bytes, n0);
    }
    for (int64_t i = unique; i < rows; i++)
        memcpy(bytes + (size_t)i * row_bytes, bytes + (size_t)(i % unique) * row_bytes, row_bytes);
    free(row);
    return QG_OK;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One device's build of the case. */
typedef struct side {
    cf_graph g;
    qg_tensor *out;
    qg_graph *graph;
} side;

static void side_free(side *s) {
    qg_graph_free(s->graph);
    qg_context_free(s->g.ctx);
    memset(s, 0, sizeof *s);
}

static bool build_side(const cf_case *c, side *s, cf_outcome *o) {
    memset(s, 0, sizeof *s);
    if (qg_context_new(&s->g.ctx) != QG_OK) {
        snprintf(o->detail, sizeof o->detail, "context: %s", qg_last_error());
        return false;
    }
    s->out = c->build(&s->g, c);
    if (!s->out || qg_context_status(s->g.ctx) != QG_OK) {
        snprintf(o->detail, sizeof o->detail, "catalogue error, graph not built: %s", qg_context_error(s->g.ctx));
        return false;
    }
    qg_set_name(s->out, "out");
    if (qg_graph_new(&s->graph) != QG_OK || qg_graph_add(s->graph, s->out) != QG_OK) {
        snprintf(o->detail, sizeof o->detail, "graph: %s", qg_last_error());
        return false;
    }
    return true;
}

/* The first node be refuses, or NULL. */
static const qg_tensor *unsupported_node(qg_backend *be, const side *s) {
    for (int i = 0; i < qg_graph_n_nodes(s->graph); i++) {
        const qg_tensor *node = qg_graph_node(s->graph, i);
        if (!qg_backend_supports_op(be, node)) return node;
    }
    return NULL;
}

/* Allocate, upload, compute, read the output as floats; optionally time more runs. */
static bool exec_side(qg_backend *be, side *s, void *const *bytes, int reps, float **vals, int64_t *n,
                      double *median, cf_outcome *o) {
    const char *dev = qg_backend_name(be);
    qg_buffer *buf = NULL;
    qg_sched *sched = NULL;
    bool ok = false;
    if (qg_backend_alloc_ctx_tensors(be, s->g.ctx, &buf) != QG_OK) {
        snprintf(o->detail, sizeof o->detail, "%s: allocating leafs: %s", dev, qg_last_error());
        goto done;
    }
    for (int i = 0; i < s->g.n_leaf; i++)
        if (qg_tensor_set(s->g.leaf[i], bytes[i], 0, qg_nbytes(s->g.leaf[i])) != QG_OK) {
            snprintf(o->detail, sizeof o->detail, "%s: uploading leaf %d: %s", dev, i, qg_last_error());
            goto done;
        }
    if (qg_sched_new(&be, 1, &sched) != QG_OK || qg_sched_alloc(sched, s->graph) != QG_OK ||
        qg_sched_compute(sched, s->graph) != QG_OK) {
        snprintf(o->detail, sizeof o->detail, "%s: compute failed: %s", dev, qg_last_error());
        goto done;
    }
    const qg_tensor *target = s->out->view_src ? qg_view_root(s->out) : s->out;
    *n = qg_nelements(target);
    *vals = malloc((size_t)*n * sizeof(float) + 1);
    if (!*vals || qg_tensor_get_f32(target, *vals) != QG_OK) {
        snprintf(o->detail, sizeof o->detail, "%s: reading the output: %s", dev, *vals ? qg_last_error() : "no memory");
        goto done;
    }
    if (reps > 0) {
        double t[PERF_REPS];
        for (int i = 0; i < reps && i < PERF_REPS; i++) {
            double t0 = now_s();
            if (qg_sched_compute(sched, s->graph) != QG_OK || qg_backend_synchronize(be) != QG_OK) {
                snprintf(o->detail, sizeof o->detail, "%s: timed run failed: %s", dev, qg_last_error());
                goto done;
            }
            t[i] = now_s() - t0;
        }
        qsort(t, (size_t)reps, sizeof t[0], cmp_double);
        *median = t[reps / 2];
    }
    ok = true;
done:
    qg_sched_free(sched);
    qg_buffer_free(buf);
    return ok;
}

static const char *value_class(float v) {
    return isnan(v) ? "NaN" : isinf(v) ? (v > 0 ? "+Inf" : "-Inf") : "finite";
}

/* NMSE of got vs want over positions where want is finite; non-finite mismatches fail. */
static bool compare(const float *got, const float *want, int64_t n, double limit, const char *what,
                    double *nmse, cf_outcome *o) {
    double err = 0, den = 0, worst = -1;
    int64_t worst_i = 0;
    for (int64_t i = 0; i < n; i++) {
        const float a = got[i], b = want[i];
        if (!isfinite(b) || !isfinite(a)) {
            if ((isnan(a) && isnan(b)) || (isinf(a) && a == b)) continue;
            *nmse = NAN;
            snprintf(o->detail, sizeof o->detail, "%s: element %lld is %s (%g), expected %s (%g)", what,
                     (long long)i, value_class(a), (double)a, value_class(b), (double)b);
            return false;
        }
        const double d = (double)a - (double)b;
        err += d * d;
        den += (double)b * b;
        if (fabs(d) > worst) {
            worst = fabs(d);
            worst_i = i;
        }
    }
    *nmse = den > 0 ? err / den : (err > 0 ? INFINITY : 0.0);
    if (*nmse <= limit) return true;
    snprintf(o->detail, sizeof o->detail, "%s: NMSE %.3g above the limit %.1g; worst element %lld: %.8g vs %.8g",
             what, *nmse, limit, (long long)worst_i, (double)got[worst_i], (double)want[worst_i]);
    return false;
}

static double graph_bytes(const side *s) {
    const qg_tensor *root = s->out->view_src ? qg_view_root(s->out) : NULL;
    double bytes = 0;
    for (int i = 0; i < s->g.n_leaf; i++)
        if (s->g.leaf[i] != root) bytes += (double)qg_nbytes(s->g.leaf[i]);
    if (s->out->op == QG_OP_SET_ROWS)
        bytes += (double)qg_row_size(s->out->type, s->out->ne[0]) * (double)qg_nrows(s->out->src[0]);
    else
        bytes += (double)qg_nbytes(s->out);
    return bytes;
}

void cf_run_case(const cf_runner *r, const cf_case *c, cf_outcome *o) {
    memset(o, 0, sizeof *o);
    o->verdict = CF_FAIL;
    o->nmse = NAN;
    o->nmse_input = NAN;
    side t, ref;
    memset(&ref, 0, sizeof ref);
    void *bytes[CF_MAX_LEAFS] = {0};
    float *vt = NULL, *vr = NULL;
    int64_t nt = 0, nr = 0;
    if (!build_side(c, &t, o)) goto done;
    const qg_tensor *bad = unsupported_node(r->test, &t);
    if (bad) {
        o->verdict = CF_UNSUPPORTED;
        snprintf(o->detail, sizeof o->detail, "%s refuses node '%s' (%s, %s)", qg_backend_name(r->test), bad->name,
                 qg_op_name(bad->op), qg_type_name(bad->type));
        goto done;
    }
    /* A device states its largest buffer up front; graphs needing more are out of scope. */
    const qg_device_props *props = qg_backend_props(r->test);
    if (props->max_alloc) {
        size_t total = 0, align = props->alignment ? props->alignment : 1;
        for (int i = 0; i < t.g.n_leaf; i++) total += (qg_nbytes(t.g.leaf[i]) + align - 1) / align * align;
        if (total > props->max_alloc) {
            o->verdict = CF_UNSUPPORTED;
            snprintf(o->detail, sizeof o->detail, "the leafs need a %zu-byte buffer, %s allows %zu", total,
                     qg_backend_name(r->test), props->max_alloc);
            goto done;
        }
    }
    uint64_t h = hash_str(hash_str(hash_str(0xcbf29ce484222325ull ^ r->seed, c->op), c->types), c->shape);
    for (int i = 0; i < t.g.n_leaf; i++) {
        rng g = {mix64(h + (uint64_t)i)};
        if (make_bytes(&g, t.g.leaf[i], &t.g.fill[i], &bytes[i]) != QG_OK) {
            snprintf(o->detail, sizeof o->detail, "catalogue error: %s", qg_last_error());
            goto done;
        }
    }
    if (!build_side(c, &ref, o)) goto done;
    if ((bad = unsupported_node(r->ref, &ref)) != NULL) {
        snprintf(o->detail, sizeof o->detail, "the reference %s refuses node '%s' (%s)", qg_backend_name(r->ref),
                 bad->name, qg_op_name(bad->op));
        goto done;
    }
    double unused;
    if (!exec_side(r->ref, &ref, bytes, 0, &vr, &nr, &unused, o)) goto done;
    side_free(&ref);
    if (!exec_side(r->test, &t, bytes, r->perf ? PERF_REPS : 0, &vt, &nt, &o->median_s, o)) goto done;
    o->bytes = graph_bytes(&t);
    if (nt != nr) {
        snprintf(o->detail, sizeof o->detail, "output sizes differ: %lld vs %lld", (long long)nt, (long long)nr);
        goto done;
    }
    if (!compare(vt, vr, nt, c->max_nmse, "vs cpu-ref", &o->nmse, o)) goto done;
    if (c->max_nmse_input > 0) {
        const qg_tensor *in = t.g.leaf[0];
        float *vi = malloc((size_t)nt * sizeof(float) + 1);
        if (!vi || in->type != QG_TYPE_F32 || qg_nelements(in) != nt) {
            free(vi);
            snprintf(o->detail, sizeof o->detail, "catalogue error: leaf 0 is not the F32 input of the copy");
            goto done;
        }
        memcpy(vi, bytes[0], (size_t)nt * sizeof(float));
        bool ok = compare(vt, vi, nt, c->max_nmse_input, "vs the input", &o->nmse_input, o);
        free(vi);
        if (!ok) goto done;
    }
    o->verdict = CF_PASS;
done:
    side_free(&t);
    side_free(&ref);
    for (int i = 0; i < CF_MAX_LEAFS; i++) free(bytes[i]);
    free(vt);
    free(vr);
}
