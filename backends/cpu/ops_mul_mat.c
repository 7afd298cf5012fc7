/* Reference MUL_MAT kernel: dst[i, j] = vec_dot(k, w row i, x row j) per plane.
 *
 * Phase 1 converts every row of x (gathered through its strides, so transposed or
 * permuted x work) to the weight's vec_dot_type with that type's from_float, into the
 * node's shared scratch; threads split these rows. A barrier follows. Phase 2 cuts the
 * output into chunks of 16 weight rows (per plane; up to 256 for mat-vec on the fast
 * device, chunk_rows), so a thread reads its weight rows once for all n columns and
 * writes 64-byte pieces of each output row. Thread t takes
 * chunk t first, then claims the next unclaimed chunk from a shared counter (in its own
 * cache line at the start of the scratch), so a thread slowed down by other processes
 * does not hold the others up. Each output element is one vec_dot call, so results do
 * not depend on the thread count or on which thread computed them.
 * Broadcasting follows ggml: x plane (i2, i3) uses weight plane (i2 / (b2/a2), i3 / (b3/a3)).
 * F32 weights whose vec_dot_type is F32 read unit-stride x rows in place.
 *
 * The same loop serves the fast device: cpu_mul_mat_run() takes the dot product and the
 * activation quantizer as parameters (the reference passes the type table's scalar ones),
 * plus optionally a 4-column dot product that expands each weight row once for four
 * activation columns; it returns what vec_dot would, so outputs do not depend on it.
 * Columns left over from the 4-column groups (all of them when n < 4: mat-vec) go
 * through the table's multi-row dot product where it has one for the weight type
 * (cpu_simd_fns.vec_dot_rows: a chunk's rows against one column, activation loads shared
 * between rows; again exactly vec_dot's results).
 *
 * With a 4-column dot product (the fast device), enough columns (the type's min_cols) and
 * a tiled mat-mat for the weight type (cpu_simd_fns.gemm), the tiled path runs instead:
 * phase 1 quantizes each activation row as above and packs it (pack_x); phase 2 hands out
 * units of up to GEMM_PANELS x CPU_GEMM_ROWS weight rows (times a range of columns when
 * there are few row units): the thread expands them into its slot of panels in the shared
 * scratch and runs the panels together against the unit's columns. At most GEMM_MAX_SLOTS
 * threads take part in phase 2. Outputs are the same whatever the thread count (each
 * output's arithmetic does not depend on its tile).
 */
#include "cpu.h"

#include <stdatomic.h>
#include <stdlib.h>

#define CHUNK_ROWS 16
/* Measured on Zen 3 (one thread reading every other unit of 14336-wide rows from DRAM,
 * CPU time): Q4_0 12 -> 13.6 GB/s, Q8_0 16 -> 20 GB/s going from 16 to 256 rows. */
#define MV_CHUNK_ROWS 256

static bool direct_x(const qg_tensor *node) {
    const qg_type_traits *tw = qg_type_get(node->src[0]->type);
    return tw->vec_dot_type == QG_TYPE_F32 && node->src[1]->nb[0] == sizeof(float);
}

_Static_assert(sizeof(atomic_llong) <= CPU_ALIGN, "chunk counter fits its cache line");

/* Fewest activation columns for the tiled path: the type's own figure (cpu_gemm_fns.
 * min_cols, measured per type), GEMM_MIN_N_DEFAULT where the table has none. A build may
 * override all, e.g. to time the per-column path: -DQG_CPU_GEMM_MIN_N=1000000000. */
#define GEMM_MIN_N_DEFAULT 64
#define GEMM_MAX_SLOTS 32
#define GEMM_PANEL_BUDGET ((size_t)64 << 20)
#define GEMM_MIN_COLS 32 /* fewest columns per unit when columns are split */
/* Panels a work unit expands and runs together (cpu_gemm_fns.run_panels), so each
 * activation chunk read from L3 serves np x CPU_GEMM_ROWS weight rows; halved while that
 * would leave fewer than GEMM_MIN_UNITS row units. One thread alone gains from 4 (Zen 3,
 * k=14336 n=512, kernel CPU time under load: Q4_0 60.7 GMAC/s against 51.8, Q6_K 41-45
 * against 34), but the 2-thread `qg bench` on the idle machine did not: 5 alternated
 * rounds, median GFLOP/s with 4 panels / 1 panel: Q4_0 192/201, Q8_0 140/152, Q4_K
 * 175/176, Q6_K 164/176. So the default is 1; the environment variable
 * QG_CPU_GEMM_PANELS=N (1..8, read once) sets it, the outputs being the same bits. */
#ifdef QG_CPU_GEMM_PANELS
#define GEMM_PANELS QG_CPU_GEMM_PANELS
#else
#define GEMM_PANELS 1
#endif
#define GEMM_MIN_UNITS 16

static int64_t gemm_min_cols(const cpu_gemm_fns *gf, const cpu_gemm *g) {
#ifdef QG_CPU_GEMM_MIN_N
    (void)gf;
    (void)g;
    return QG_CPU_GEMM_MIN_N;
#else
    return gf->min_cols ? gf->min_cols(g) : GEMM_MIN_N_DEFAULT;
#endif
}

/* The tiled mat-mat for this node on this processor, or NULL. */
static const cpu_gemm_fns *gemm_for(const qg_tensor *node, const cpu_gemm **g) {
    const cpu_simd_fns *s = cpu_simd_best();
    if (!s || !s->gemm || direct_x(node)) return NULL;
    *g = s->gemm->find(node->src[0]->type);
    if (!*g || node->src[1]->ne[1] < gemm_min_cols(s->gemm, *g)) return NULL;
    return s->gemm;
}

static int panels_setting(void) {
    static atomic_int cached; /* 0: not read yet (racing readers agree) */
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v == 0) {
        const char *e = getenv("QG_CPU_GEMM_PANELS");
        v = e ? atoi(e) : GEMM_PANELS;
        v = v < 1 ? 1 : v > 8 ? 8 : v;
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

/* Panels per work unit (panels_setting(); 1 without run_panels). */
static int gemm_panels(const qg_tensor *node, const cpu_gemm_fns *gf) {
    const qg_tensor *x = node->src[1];
    const int64_t blocks = (node->src[0]->ne[1] + CPU_GEMM_ROWS - 1) / CPU_GEMM_ROWS * x->ne[2] * x->ne[3];
    int np = gf->run_panels ? panels_setting() : 1;
    while (np > 1 && blocks / np < GEMM_MIN_UNITS) np /= 2;
    return np;
}

/* Row units: up to np * CPU_GEMM_ROWS rows of one plane. */
static int64_t gemm_row_units(const qg_tensor *node, int np) {
    const qg_tensor *x = node->src[1];
    const int64_t rows = (int64_t)np * CPU_GEMM_ROWS;
    return (node->src[0]->ne[1] + rows - 1) / rows * x->ne[2] * x->ne[3];
}

/* Panel slots (of np panels): one per taking part thread, at most one per row unit,
 * GEMM_MAX_SLOTS, and as many as fit GEMM_PANEL_BUDGET bytes (at least one). */
static int64_t gemm_slots(const qg_tensor *node, int np, size_t slot_size) {
    int64_t u = gemm_row_units(node, np);
    if (u > GEMM_MAX_SLOTS) u = GEMM_MAX_SLOTS;
    const int64_t fit = (int64_t)(GEMM_PANEL_BUDGET / slot_size);
    if (u > fit) u = fit;
    return u < 1 ? 1 : u;
}

static size_t gemm_shared_size(const qg_tensor *node, const cpu_gemm_fns *gf) {
    const int64_t k = node->src[0]->ne[0];
    const int np = gemm_panels(node, gf);
    const size_t ss = (size_t)np * gf->panel_size(k);
    return CPU_ALIGN + (size_t)qg_nrows(node->src[1]) * gf->x_size(k) + (size_t)gemm_slots(node, np, ss) * ss;
}

size_t cpu_mul_mat_shared_size(const qg_tensor *node) {
    const cpu_gemm *g;
    const cpu_gemm_fns *gf = gemm_for(node, &g);
    const size_t tiled = gf ? gemm_shared_size(node, gf) : 0;
    if (direct_x(node)) return CPU_ALIGN;
    const qg_tensor *x = node->src[1];
    const qg_type vdt = qg_type_get(node->src[0]->type)->vec_dot_type;
    const size_t plain = CPU_ALIGN + (size_t)qg_nrows(x) * qg_row_size(vdt, x->ne[0]);
    return plain > tiled ? plain : tiled;
}

static qg_status gemm_run(const cpu_params *p, qg_tensor *node, const cpu_gemm_fns *gf, const cpu_gemm *g,
                          qg_from_float_fn from_float) {
    const qg_tensor *w = node->src[0], *x = node->src[1];
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    const int64_t b2 = x->ne[2], b3 = x->ne[3];
    const int64_t r2 = b2 / w->ne[2], r3 = b3 / w->ne[3];
    const int np = gemm_panels(node, gf), unit_rows = np * CPU_GEMM_ROWS;
    const size_t xs = gf->x_size(k), ps = gf->panel_size(k), ss = (size_t)np * ps;
    const int64_t slots = gemm_slots(node, np, ss), row_blocks = (m + unit_rows - 1) / unit_rows;
    atomic_llong *next = (atomic_llong *)p->wshared;
    char *xpack = (char *)p->wshared + CPU_ALIGN;
    char *panels = xpack + (size_t)qg_nrows(x) * xs;

    const int64_t active = slots < p->nth ? slots : p->nth; /* threads taking units */
    if (p->ith == 0) atomic_store_explicit(next, active, memory_order_relaxed);
    float *buf = (float *)p->wthread;
    void *qrow = (char *)p->wthread + ((size_t)k * sizeof(float) + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN;
    int64_t lo, hi;
    cpu_split(qg_nrows(x), p->ith, p->nth, &lo, &hi);
    for (int64_t q = lo; q < hi; q++) {
        const int64_t j = q % n, i2 = (q / n) % b2, i3 = q / (n * b2);
        from_float(cpu_load_row(x, j, i2, i3, buf), qrow, k);
        gf->pack_x(g, qrow, k, xpack + (size_t)q * xs);
    }
    cpu_barrier_wait(p->barrier);
    if (p->ith >= active) return QG_OK;

    /* split columns too when there are fewer row units than about 4 per thread */
    const int64_t row_units = gemm_row_units(node, np);
    int64_t col_parts = 1;
    if (row_units < 4 * (int64_t)p->nth) {
        col_parts = (4 * (int64_t)p->nth + row_units - 1) / row_units;
        const int64_t most = (n + GEMM_MIN_COLS - 1) / GEMM_MIN_COLS;
        if (col_parts > most) col_parts = most;
    }
    const int64_t cols = (n + col_parts - 1) / col_parts;
    char *panel = panels + (size_t)p->ith * ss;
    int64_t have = -1; /* row unit whose panel the slot holds */
    for (int64_t u = p->ith; u < row_units * col_parts; u = atomic_fetch_add_explicit(next, 1, memory_order_relaxed)) {
        const int64_t ru = u / col_parts, cp = u % col_parts;
        const int64_t plane = ru / row_blocks, i0 = ru % row_blocks * unit_rows;
        const int64_t i2 = plane % b2, i3 = plane / b2;
        const int rows = (int)(m - i0 < unit_rows ? m - i0 : unit_rows);
        const int64_t j0 = cp * cols, nc = n - j0 < cols ? n - j0 : cols;
        if (nc <= 0) continue;
        if (ru != have) {
            const char *wrow = (const char *)w->data + (size_t)(i2 / r2) * w->nb[2] + (size_t)(i3 / r3) * w->nb[3] +
                               (size_t)i0 * w->nb[1];
            for (int q = 0; q * CPU_GEMM_ROWS < rows; q++) {
                const int r = rows - q * CPU_GEMM_ROWS < CPU_GEMM_ROWS ? rows - q * CPU_GEMM_ROWS : CPU_GEMM_ROWS;
                gf->pack_w(g, wrow + (size_t)q * CPU_GEMM_ROWS * w->nb[1], w->nb[1], r, k, panel + (size_t)q * ps);
            }
            have = ru;
        }
        const char *xc = xpack + (size_t)((i3 * b2 + i2) * n + j0) * xs;
        char *oc = cpu_row_ptr(node, j0, i2, i3) + (size_t)i0 * sizeof(float);
        if (rows > CPU_GEMM_ROWS)
            gf->run_panels(g, panel, ps, rows, k, xc, xs, nc, oc, node->nb[1]);
        else
            gf->run(g, panel, rows, k, xc, xs, nc, oc, node->nb[1]);
    }
    return QG_OK;
}

/* Weight rows per work unit: CHUNK_ROWS, or for mat-vec through the multi-row dot
 * product (n < 4) up to MV_CHUNK_ROWS (powers of two times CHUNK_ROWS) as long as every
 * thread still gets 4 units: a thread then streams longer runs of rows, and the multi-row
 * dot's software prefetch of the next rows lands in its own unit more often. */
static int64_t chunk_rows(int64_t m, int64_t n, int nth, bool rows) {
    int64_t c = CHUNK_ROWS;
    if (rows && n < 4)
        while (c * 2 <= MV_CHUNK_ROWS && m / (c * 2) >= 4 * (int64_t)nth) c *= 2;
    return c;
}

/* The fast device's multi-row dot product for weight type t (several weight rows against
 * one activation column: the columns the 4-column dot product does not take), used only
 * where vec_dot is that table's own dot product, whose results it reproduces exactly;
 * NULL: vec_dot per row. */
static cpu_dot_rows_fn dot_rows_for(qg_type t, qg_vec_dot_fn vec_dot) {
    const cpu_simd_fns *s = cpu_simd_best();
    if (!s || !s->vec_dot_rows || !s->vec_dot || s->vec_dot(t) != vec_dot) return NULL;
    return s->vec_dot_rows(t);
}

qg_status cpu_mul_mat_run(const cpu_params *p, qg_tensor *node, qg_vec_dot_fn vec_dot, cpu_dot4_fn vec_dot4,
                          qg_from_float_fn from_float) {
    const qg_tensor *w = node->src[0], *x = node->src[1];
    const qg_type_traits *tw = qg_type_get(w->type);
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    const int64_t b2 = x->ne[2], b3 = x->ne[3];
    const int64_t r2 = b2 / w->ne[2], r3 = b3 / w->ne[3];
    const bool direct = direct_x(node);
    const size_t vrow = qg_row_size(tw->vec_dot_type, k);
    const cpu_gemm *g;
    const cpu_gemm_fns *gf = vec_dot4 ? gemm_for(node, &g) : NULL;
    if (gf) return gemm_run(p, node, gf, g, from_float);
    const cpu_dot_rows_fn dot_rows = vec_dot4 ? dot_rows_for(w->type, vec_dot) : NULL;
    atomic_llong *next = (atomic_llong *)p->wshared;
    char *conv = (char *)p->wshared + CPU_ALIGN;

    if (p->ith == 0) atomic_store_explicit(next, p->nth, memory_order_relaxed);
    if (!direct) {
        float *buf = (float *)p->wthread;
        int64_t lo, hi;
        cpu_split(qg_nrows(x), p->ith, p->nth, &lo, &hi);
        for (int64_t q = lo; q < hi; q++) {
            const int64_t j = q % n, i2 = (q / n) % b2, i3 = q / (n * b2);
            from_float(cpu_load_row(x, j, i2, i3, buf), conv + (size_t)q * vrow, k);
        }
    }
    cpu_barrier_wait(p->barrier);

    const int64_t crows = chunk_rows(m, n, p->nth, dot_rows != NULL);
    const int64_t chunks = (m + crows - 1) / crows, units = chunks * b2 * b3;
    for (int64_t u = p->ith; u < units; u = atomic_fetch_add_explicit(next, 1, memory_order_relaxed)) {
        const int64_t plane = u / chunks, c = u % chunks;
        const int64_t i2 = plane % b2, i3 = plane / b2;
        const int64_t i_lo = c * crows, i_hi = i_lo + crows < m ? i_lo + crows : m;
        const char *wplane = (const char *)w->data + (size_t)(i2 / r2) * w->nb[2] + (size_t)(i3 / r3) * w->nb[3];
        const size_t ys = direct ? x->nb[1] : vrow;
        int64_t j = 0;
        for (; vec_dot4 && j + 4 <= n; j += 4) {
            const char *y = direct ? cpu_row_ptr(x, j, i2, i3) : conv + (size_t)((i3 * b2 + i2) * n + j) * vrow;
            float *out[4];
            for (int col = 0; col < 4; col++) out[col] = (float *)cpu_row_ptr(node, j + col, i2, i3);
            for (int64_t i = i_lo; i < i_hi; i++) {
                float r[4];
                vec_dot4(k, wplane + (size_t)i * w->nb[1], y, ys, r);
                for (int col = 0; col < 4; col++) out[col][i] = r[col];
            }
        }
        for (; j < n; j++) {
            const void *y = direct ? (const void *)cpu_row_ptr(x, j, i2, i3)
                                   : (const void *)(conv + (size_t)((i3 * b2 + i2) * n + j) * vrow);
            float *out = (float *)cpu_row_ptr(node, j, i2, i3);
            if (dot_rows) {
                dot_rows(k, wplane + (size_t)i_lo * w->nb[1], w->nb[1], y, out + i_lo, (int)(i_hi - i_lo));
                continue;
            }
            for (int64_t i = i_lo; i < i_hi; i++)
                out[i] = vec_dot(k, wplane + (size_t)i * w->nb[1], y);
        }
    }
    return QG_OK;
}

qg_status cpu_ref_mul_mat(const cpu_params *p, qg_tensor *node) {
    const qg_type_traits *tw = qg_type_get(node->src[0]->type);
    return cpu_mul_mat_run(p, node, tw->vec_dot, NULL, qg_type_get(tw->vec_dot_type)->from_float);
}
