/* The AVX-512 functions of the CPU backend, run under the Bochs CPU emulator (this
 * machine has no AVX-512): every function the AVX-512 lookups hand out (the ones the
 * "avx512" table uses instead of AVX2; backends/cpu/simd_table_avx512.c) is checked
 * against the scalar references of the type table.
 *
 * The host builds one data block (tests/avx512_job.h) of jobs with random inputs: for
 * each type, rows of one block, a few blocks and many blocks (plain types also odd
 * lengths, so that the masked tails run), in four kinds of data: random raw blocks with
 * sane scales, rows quantized from random floats, saturated rows against activations all
 * +-127, and rows with extreme scales (fp16 scales near 2^-14 and 2^15, floats scaled by
 * 2^+-40). tools/emu/qg_emu.py runs tests/avx512_guest.c on them on an emulated Sapphire
 * Rapids, and the results are compared here with the same rules as test_cpu_simd:
 *  - vec_dot: K-quants and IQ4_XS bit for bit; the other types within
 *    2 * (blocks + 16) * FLT_EPSILON * sum|w||y| (qgt_dot_magnitude);
 *  - vec_dot4 and vec_dot_rows: bit for bit what the AVX-512 vec_dot gave for each
 *    column / row in the same run (and so within the bound of the reference);
 *  - from_float (Q8_0, Q8_1, Q8_K, F16, BF16): bit-exact with the scalar quantizer, on
 *    random rows and rows of ties, NaN, infinities, subnormals and huge values.
 * Then three one-job runs check that the harness fails loudly: a guest that executes an
 * invalid instruction, reads unmapped memory or never stops must give runner status 3
 * with a message naming the cause.
 * The BF16 dot with VDPBF16PS flushes subnormals (simd_avx512.h), so its rows stay in the
 * normal range here. The tiled mat-mat, where cpu_avx512_gemm has one: every output
 * like a vec_dot of its row and column (one panel, partial panels, several panels;
 * run and run_panels).
 *
 * Environment (set by tests/cpu_avx512.cmake): QG_EMU_GUEST (the guest ELF),
 * QG_EMU_RUNNER (qg_emu.py), QG_EMU_PYTHON, QG_EMU_SHIM (LD_PRELOAD, may be empty). The
 * test skips (77) when the guest was not built or bochscpu cannot be imported.
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#if defined(QG_TEST_NO_CPU_AVX512) || defined(QG_TEST_NO_CPU_SIMD)
int main(void) { return qgt_skip("the AVX-512 code is not part of this build (x86-64 with GCC or Clang only)"); }
#else
#include "avx512_job.h"
#include "backends/cpu/simd_avx512.h"
#include "simd_case_data.h"
#include "simd_weight_cases.h"

static qgt_rng rng;

/* ---- the data block ---- */
static unsigned char *blk;
static size_t blk_len, blk_cap;

static uint64_t alloc_bytes(size_t n) {
    size_t off = (blk_len + 63) & ~(size_t)63;
    off += (size_t)(qgt_next(&rng) % 4) * 4; /* rows are not always 64-byte aligned in real use */
    while (off + n > blk_cap) {
        blk_cap = blk_cap ? 2 * blk_cap : 1 << 20;
        blk = realloc(blk, blk_cap);
        assert_non_null(blk);
    }
    memset(blk + blk_len, 0, off + n - blk_len);
    blk_len = off + n;
    return off;
}

typedef struct check {
    int job;        /* index in the job array */
    int ref_job;    /* for DOT4 / DOT_ROWS: first VEC_DOT job of its columns / rows; else -1 */
    int min_off;    /* qgt_dot_magnitude's min_off */
    bool exact;
    char what[96];
} check;

static avx512_job *jobs;
static check *checks;
static int njobs, nchecks, cap_jobs;

static avx512_job *new_job(uint32_t kind, qg_type type, int64_t n) {
    if (njobs == cap_jobs) {
        cap_jobs = cap_jobs ? 2 * cap_jobs : 1024;
        jobs = realloc(jobs, (size_t)cap_jobs * sizeof *jobs);
        checks = realloc(checks, (size_t)cap_jobs * sizeof *checks);
        assert_non_null(jobs);
        assert_non_null(checks);
    }
    avx512_job *j = &jobs[njobs++];
    memset(j, 0, sizeof *j);
    j->kind = kind;
    j->type = (uint32_t)type;
    j->n = n;
    return j;
}

static bool same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)); }







static check *new_check(int job, int ref_job, const wcase *c, const char *fmt, long long k, int mode) {
    check *ck = &checks[nchecks++];
    ck->job = job;
    ck->ref_job = ref_job;
    ck->min_off = c ? c->min_off : -1;
    ck->exact = c ? c->exact : true;
    snprintf(ck->what, sizeof ck->what, fmt, k, mode);
    return ck;
}

/* One VEC_DOT job of weight row w (offset) against activation row y (offset). */
static int add_dot(const wcase *c, int64_t k, uint64_t w, uint64_t y, int bf16, int mode, const char *kind) {
    avx512_job *j = new_job(AVX512_VEC_DOT, c->type, k);
    j->x = w;
    j->y = y;
    j->out = alloc_bytes(sizeof(float));
    j->feats = CPU_AVX512_VNNI | (bf16 ? CPU_AVX512_BF16 : 0u);
    char fmt[64];
    snprintf(fmt, sizeof fmt, "%s %s%s k=%%lld mode=%%d", kind, qg_type_name(c->type), bf16 ? " (vdpbf16ps)" : "");
    new_check(njobs - 1, -1, c, fmt, (long long)k, mode);
    return njobs - 1;
}

static int64_t unit_of(const qg_type_traits *t) {
    const qg_type_traits *tv = qg_type_get(t->vec_dot_type);
    return t->block_size > tv->block_size ? t->block_size : tv->block_size;
}

static int n_dot_fns, n_dot4_fns, n_rows_fns, n_ff_fns;

static void plan_dots(void) {
    for (int ci = 0; ci < N_CASES; ci++) {
        const wcase *c = &cases[ci];
        const qg_type_traits *t = qg_type_get(c->type);
        const int64_t unit = unit_of(t);
        int64_t ks[6] = {unit, 3 * unit, 4096 / unit * unit > unit ? 4096 / unit * unit : 16 * unit, 0, 0, 0};
        if (t->block_size == 1 && qg_type_get(t->vec_dot_type)->block_size == 1) {
            ks[3] = 37;
            ks[4] = 1005;
            ks[5] = 1;
        }
        for (int bf16 = 0; bf16 < 2; bf16++) {
            if (bf16 && c->type != QG_TYPE_BF16) continue;
            if (!cpu_avx512_vec_dot(c->type, CPU_AVX512_VNNI | (bf16 ? CPU_AVX512_BF16 : 0u))) continue;
            n_dot_fns++;
            for (int ki = 0; ki < 6; ki++) {
                const int64_t k = ks[ki];
                if (k == 0) continue;
                for (int mode = 0; mode < 4; mode++) {
                    if (mode == 3 && bf16) continue; /* VDPBF16PS: normal range only */
                    const int reps = mode == 1 ? 2 : 1;
                    for (int rep = 0; rep < reps; rep++) {
                        const int sats[2] = {127, -127};
                        for (int s = 0; s < (mode == 2 ? 2 : 1); s++) {
                            const uint64_t w = alloc_bytes(qg_row_size(c->type, k));
                            qgt_make_weights(&rng, c, k, mode, blk + w);
                            const uint64_t y = alloc_bytes(qg_row_size(t->vec_dot_type, k));
                            qgt_make_act(&rng, t->vec_dot_type, k, mode == 2 ? sats[s] : 0, mode, blk + y);
                            add_dot(c, k, w, y, bf16, mode, "vec_dot");
                        }
                    }
                }
            }
        }
        /* vec_dot4: one weight row against four columns ys bytes apart */
        if (cpu_avx512_vec_dot4(c->type, CPU_AVX512_VNNI)) {
            n_dot4_fns++;
            const int64_t k4[3] = {unit, 5 * unit, t->block_size == 1 ? 1003 : 17 * unit};
            for (int ki = 0; ki < 3; ki++) {
                const int64_t k = k4[ki];
                const size_t yrow = qg_row_size(t->vec_dot_type, k) + 24;
                const uint64_t w = alloc_bytes(qg_row_size(c->type, k)), y = alloc_bytes(4 * yrow);
                qgt_make_weights(&rng, c, k, ki == 2 ? 1 : 0, blk + w);
                for (int col = 0; col < 4; col++) qgt_make_act(&rng, t->vec_dot_type, k, 0, 0, blk + y + (size_t)col * yrow);
                const int first = njobs;
                for (int col = 0; col < 4; col++) add_dot(c, k, w, y + (uint64_t)col * yrow, 0, ki == 2, "vec_dot4 column");
                avx512_job *j = new_job(AVX512_VEC_DOT4, c->type, k);
                j->feats = CPU_AVX512_VNNI;
                j->x = w;
                j->y = y;
                j->ys = yrow;
                j->out = alloc_bytes(4 * sizeof(float));
                char fmt[64];
                snprintf(fmt, sizeof fmt, "vec_dot4 %s k=%%lld mode=%%d", t->name);
                new_check(njobs - 1, first, c, fmt, (long long)k, 0);
            }
        }
        /* vec_dot_rows: nrows weight rows xs bytes apart against one activation row */
        if (cpu_avx512_vec_dot_rows(c->type, CPU_AVX512_VNNI)) {
            n_rows_fns++;
            const int64_t kr[3] = {unit, 3 * unit, 33 * unit};
            const int nrows[3] = {1, 5, 8};
            for (int ki = 0; ki < 3; ki++) {
                const int64_t k = kr[ki];
                const size_t xrow = qg_row_size(c->type, k) + 8;
                const uint64_t w = alloc_bytes((size_t)nrows[ki] * xrow), y = alloc_bytes(qg_row_size(t->vec_dot_type, k));
                for (int r = 0; r < nrows[ki]; r++) qgt_make_weights(&rng, c, k, r % 2, blk + w + (size_t)r * xrow);
                qgt_make_act(&rng, t->vec_dot_type, k, 0, 0, blk + y);
                const int first = njobs;
                for (int r = 0; r < nrows[ki]; r++) add_dot(c, k, w + (uint64_t)r * xrow, y, 0, r % 2, "vec_dot_rows row");
                avx512_job *j = new_job(AVX512_DOT_ROWS, c->type, k);
                j->feats = CPU_AVX512_VNNI;
                j->x = w;
                j->xs = xrow;
                j->y = y;
                j->nrows = nrows[ki];
                j->out = alloc_bytes((size_t)nrows[ki] * sizeof(float));
                char fmt[64];
                snprintf(fmt, sizeof fmt, "vec_dot_rows %s nrows=%d k=%%lld mode=%%d", t->name, nrows[ki]);
                new_check(njobs - 1, first, c, fmt, (long long)k, 0);
            }
        }
    }
}

static int n_gemm_types;

/* The tiled mat-mat, where cpu_avx512_gemm gives one: weight rows (one panel, a partial
 * panel, several panels) against a few activation columns; each output is checked like
 * a vec_dot of its row and column. */
static void plan_gemm(void) {
    const cpu_gemm_fns *gf = cpu_avx512_gemm(CPU_AVX512_VNNI);
    if (!gf) return;
    for (int ci = 0; ci < N_CASES; ci++) {
        const wcase *c = &cases[ci];
        if (!gf->find(c->type)) continue;
        n_gemm_types++;
        const qg_type_traits *t = qg_type_get(c->type);
        const int64_t unit = unit_of(t);
        const struct { int64_t k; int rows, cols, kind; } shapes[] = {
            {unit, CPU_GEMM_ROWS, 1, AVX512_GEMM},
            {4 * unit, 5, 7, AVX512_GEMM},
            {9 * unit, 2 * CPU_GEMM_ROWS + 3, 3, AVX512_GEMM},
            {3 * unit, 2 * CPU_GEMM_ROWS + 3, 5, AVX512_GEMM_PANELS},
        };
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            if (shapes[si].kind == AVX512_GEMM_PANELS && !gf->run_panels) continue;
            const int64_t k = shapes[si].k;
            const int rows = shapes[si].rows, cols = shapes[si].cols;
            const size_t xrow = qg_row_size(c->type, k) + 16, yrow = qg_row_size(t->vec_dot_type, k) + 8;
            const uint64_t w = alloc_bytes((size_t)rows * xrow), y = alloc_bytes((size_t)cols * yrow);
            for (int r = 0; r < rows; r++) qgt_make_weights(&rng, c, k, r % 3 == 2 ? 3 : r % 2, blk + w + (size_t)r * xrow);
            for (int col = 0; col < cols; col++) qgt_make_act(&rng, t->vec_dot_type, k, 0, 0, blk + y + (size_t)col * yrow);
            const int np = (rows + CPU_GEMM_ROWS - 1) / CPU_GEMM_ROWS;
            const size_t kk = (size_t)(k > 1024 ? k : 1024); /* packings may round k up to a chunk */
            const size_t scratch = (size_t)cols * (4 * kk + 4096) + (size_t)np * (64 * kk + 65536) + 128;
            avx512_job *j = new_job((uint32_t)shapes[si].kind, c->type, k);
            j->feats = CPU_AVX512_VNNI;
            j->x = w;
            j->xs = xrow;
            j->y = y;
            j->ys = yrow;
            j->nrows = rows;
            j->ncols = cols;
            j->out = alloc_bytes((size_t)rows * (size_t)cols * sizeof(float));
            j->scratch = alloc_bytes(scratch);
            j->scratch_size = scratch;
            char fmt[80];
            snprintf(fmt, sizeof fmt, "%s %s rows=%d cols=%d k=%%lld mode=%%d",
                     shapes[si].kind == AVX512_GEMM ? "gemm" : "gemm run_panels", t->name, rows, cols);
            new_check(njobs - 1, -1, c, fmt, (long long)k, 0);
        }
    }
}

/* One dot product result against the scalar reference: bit for bit where exact, else
 * within test_cpu_simd's bound. Returns whether it passed (printing why not). */
static bool dot_ok(const check *ck, const qg_type_traits *t, int64_t n, const void *w, const void *y, float got,
                   const char *where) {
    const float ref = t->vec_dot(n, w, y);
    if (ck->exact || isnan(ref)) {
        if (same_float(ref, got)) return true;
        printf("FAIL %s%s: avx512 %.9g, scalar %.9g (must be equal)\n", ck->what, where, got, ref);
        return false;
    }
    const int64_t blocks = t->block_size == 1 ? n / 32 : n / t->block_size;
    const double tol = 2.0 * (double)(blocks + 16) * FLT_EPSILON * qgt_dot_magnitude(t, ck->min_off, w, y, n);
    if (fabs((double)got - (double)ref) <= tol || (isinf(ref) && got == ref)) return true;
    printf("FAIL %s%s: avx512 %.9g, scalar %.9g, diff %.3g > tol %.3g\n", ck->what, where, got, ref,
           fabs((double)got - (double)ref), tol);
    return false;
}

/* from_float inputs: 0 random normal, 1 specials (halves, NaN, infinities, subnormals,
 * huge), 2 random with huge and tiny blocks, 3 rounding ties (x.5 at scale 1). */
static void special_row(float *f, int64_t k, int kind) {
    static const float specials[] = {0.5f, -0.5f, 1.5f, -2.5f, 126.5f, -126.5f, 0.0f, -0.0f, 1e-40f, -3e-39f,
                                     65504.0f, 65520.0f, -1e30f, 3.4e38f, 1e-8f, 6.1e-5f, 2.5f, -127.49f};
    for (int64_t i = 0; i < k; i++) {
        if (kind == 0) f[i] = qgt_normal(&rng);
        else if (kind == 1) {
            const uint64_t r = qgt_next(&rng) % 24;
            f[i] = r < 18 ? specials[r] : r == 18 ? NAN : r == 19 ? INFINITY : r == 20 ? -INFINITY
                                                                        : (float)((int)(qgt_next(&rng) % 255) - 127) * 0.5f;
        } else if (kind == 2) {
            const float s = ((i / 32) % 3 == 0) ? 1e30f : ((i / 32) % 3 == 1) ? 1e-30f : 1.0f;
            f[i] = s * qgt_normal(&rng);
        } else {
            /* ties: every 32 elements hold +-127 once, so the scale is exactly 1 */
            f[i] = i % 32 == 5 ? ((qgt_next(&rng) & 1) ? 127.0f : -127.0f) : (float)((int)(qgt_next(&rng) % 253) - 126) + 0.5f;
        }
    }
}

static void plan_from_float(void) {
    const qg_type partners[] = {QG_TYPE_Q8_0, QG_TYPE_Q8_1, QG_TYPE_Q8_K, QG_TYPE_F16, QG_TYPE_BF16};
    for (size_t p = 0; p < sizeof partners / sizeof partners[0]; p++) {
        const qg_type t = partners[p];
        if (!cpu_avx512_from_float(t)) continue;
        n_ff_fns++;
        const int64_t bs = qg_type_get(t)->block_size;
        const int64_t ks[4] = {bs == 1 ? 1 : bs, bs == 1 ? 37 : 3 * bs, bs == 1 ? 1003 : 4096 / bs * bs, bs == 1 ? 16 : 16 * bs};
        for (int ki = 0; ki < 4; ki++)
            for (int kind = 0; kind < 4; kind++) {
                const int64_t k = ks[ki];
                const uint64_t x = alloc_bytes((size_t)k * sizeof(float));
                special_row((float *)(blk + x), k, kind);
                avx512_job *j = new_job(AVX512_FROM_FLOAT, t, k);
                j->x = x;
                j->out = alloc_bytes(qg_row_size(t, k));
                char fmt[64];
                snprintf(fmt, sizeof fmt, "from_float %s k=%%lld data=%%d", qg_type_name(t));
                new_check(njobs - 1, -1, NULL, fmt, (long long)k, kind);
            }
    }
}

static int verify(const unsigned char *out) {
    int bad = 0;
    const avx512_job *oj = (const avx512_job *)(out + ((const avx512_header *)out)->jobs);
    for (int i = 0; i < nchecks; i++) {
        const check *ck = &checks[i];
        const avx512_job *j = &oj[ck->job];
        if (j->status != 1) {
            printf("FAIL %s: %s (status %d)\n", ck->what,
                   j->status == -2 ? "the scratch buffer is too small" : "the guest found no function", j->status);
            bad++;
            continue;
        }
        const qg_type_traits *t = qg_type_get((qg_type)j->type);
        const float *got = (const float *)(out + j->out);
        if (j->kind == AVX512_FROM_FLOAT) {
            const size_t bytes = qg_row_size(t->type, j->n);
            unsigned char *ref = malloc(bytes);
            t->from_float((const float *)(blk + j->x), ref, j->n);
            if (memcmp(ref, out + j->out, bytes) != 0) {
                size_t at = 0;
                while (ref[at] == out[j->out + at]) at++;
                printf("FAIL %s: differs from the scalar quantizer at byte %zu (%02x, scalar %02x)\n", ck->what, at,
                       out[j->out + at], ref[at]);
                bad++;
            }
            free(ref);
        } else if (j->kind == AVX512_VEC_DOT) {
            bad += !dot_ok(ck, t, j->n, blk + j->x, blk + j->y, got[0], "");
        } else if (j->kind == AVX512_GEMM || j->kind == AVX512_GEMM_PANELS) {
            for (int c = 0; c < j->ncols; c++)
                for (int r = 0; r < j->nrows; r++) {
                    char where[48];
                    snprintf(where, sizeof where, " row %d column %d", r, c);
                    if (!dot_ok(ck, t, j->n, blk + j->x + (size_t)r * j->xs, blk + j->y + (size_t)c * j->ys,
                                got[(size_t)c * (size_t)j->nrows + (size_t)r], where)) {
                        bad++;
                        c = j->ncols; /* one message per job */
                        break;
                    }
                }
        } else {
            const int cols = j->kind == AVX512_VEC_DOT4 ? 4 : j->nrows;
            for (int c = 0; c < cols; c++) {
                const float one = *(const float *)(out + oj[ck->ref_job + c].out);
                if (!same_float(one, got[c])) {
                    printf("FAIL %s: column/row %d gives %.9g, vec_dot %.9g (must be equal)\n", ck->what, c, got[c], one);
                    bad++;
                }
            }
        }
    }
    return bad;
}

/* Runs the guest on file in, result in out; the runner's messages go to log (if not
 * NULL, else to stdout). Returns its exit status. */
static int run_guest(const char *in, const char *out, const char *budget, char *log, size_t log_size) {
    const char *py = getenv("QG_EMU_PYTHON"), *runner = getenv("QG_EMU_RUNNER"), *guest = getenv("QG_EMU_GUEST");
    const char *shim = getenv("QG_EMU_SHIM");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s%s%s '%s' '%s' '%s' '%s' '%s'%s%s 2>&1", shim && *shim ? "LD_PRELOAD='" : "",
             shim && *shim ? shim : "", shim && *shim ? "' " : "", py && *py ? py : "python3", runner, guest, in, out,
             budget ? " --budget " : "", budget ? budget : "");
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t len = 0;
    char line[1024];
    while (fgets(line, sizeof line, p)) {
        if (!log) fputs(line, stdout);
        else if (len + strlen(line) < log_size) {
            memcpy(log + len, line, strlen(line) + 1);
            len += strlen(line);
        }
    }
    const int rc = pclose(p);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* A guest that executes ud2, reads unmapped memory or loops forever must end the run
 * with status 3 and a message that says so (not hang, not pass). */
static int check_faults(const char *in, const char *out) {
    static const struct { uint32_t kind; const char *says; } faults[] = {
        {AVX512_FAULT_UD, "invalid opcode"}, {AVX512_FAULT_PF, "page fault"}, {AVX512_FAULT_LOOP, "budget"}};
    int bad = 0;
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        unsigned char b[sizeof(avx512_header) + sizeof(avx512_job) + 64];
        memset(b, 0, sizeof b);
        avx512_header h = {AVX512_JOB_MAGIC, 1, sizeof(avx512_header), 0, 0, 0, 0};
        avx512_job j;
        memset(&j, 0, sizeof j);
        j.kind = faults[i].kind;
        j.out = sizeof(avx512_header) + sizeof(avx512_job);
        memcpy(b, &h, sizeof h);
        memcpy(b + sizeof h, &j, sizeof j);
        FILE *f = fopen(in, "wb");
        if (!f || fwrite(b, 1, sizeof b, f) != sizeof b) {
            if (f) fclose(f);
            printf("FAIL: cannot write %s\n", in);
            return 1;
        }
        fclose(f);
        char log[4096] = "";
        const int rc = run_guest(in, out, "200000", log, sizeof log);
        const bool ok = rc == 3 && strstr(log, faults[i].says) != NULL;
        printf("%s fault job %u: status %d, %s", ok ? "ok" : "FAIL", faults[i].kind, rc, log);
        bad += !ok;
    }
    return bad;
}

static int probe(void) {
    const char *py = getenv("QG_EMU_PYTHON"), *runner = getenv("QG_EMU_RUNNER"), *shim = getenv("QG_EMU_SHIM");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s%s%s '%s' '%s' --probe", shim && *shim ? "LD_PRELOAD='" : "", shim && *shim ? shim : "",
             shim && *shim ? "' " : "", py && *py ? py : "python3", runner);
    const int rc = system(cmd);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = n > 0 ? malloc((size_t)n) : NULL;
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        d = NULL;
    }
    fclose(f);
    *len = d ? (size_t)n : 0;
    return d;
}

int main(void) {
    const char *guest = getenv("QG_EMU_GUEST"), *runner = getenv("QG_EMU_RUNNER");
    FILE *gf = guest ? fopen(guest, "rb") : NULL;
    if (!gf || !runner) return qgt_skip("the AVX-512 guest program was not built (QG_EMU_GUEST)");
    fclose(gf);
    const int p = probe();
    if (p != 0) return qgt_skip("needs the Python package bochscpu-python (pip install bochscpu-python)");

    qgt_seed(&rng, 0xa512);
    alloc_bytes(sizeof(avx512_header));
    plan_dots();
    plan_from_float();
    plan_gemm();
    if (njobs == 0) return qgt_skip("the AVX-512 lookups hand out no function");
    const uint64_t jo = alloc_bytes((size_t)njobs * sizeof *jobs);
    memcpy(blk + jo, jobs, (size_t)njobs * sizeof *jobs);
    avx512_header h = {AVX512_JOB_MAGIC, (uint32_t)njobs, jo, 0, 0, 0, 0};
    memcpy(blk, &h, sizeof h);
    printf("%d jobs (%d vec_dot, %d vec_dot4, %d vec_dot_rows, %d from_float functions, gemm for %d types), %.1f MB\n",
           njobs, n_dot_fns, n_dot4_fns, n_rows_fns, n_ff_fns, n_gemm_types, (double)blk_len / 1e6);

    char in[] = "/tmp/qg_avx512_in_XXXXXX", out[] = "/tmp/qg_avx512_out_XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out);
    if (fi < 0 || fo < 0) return qgt_skip("cannot create temporary files");
    FILE *f = fdopen(fi, "wb");
    const bool wrote = fwrite(blk, 1, blk_len, f) == blk_len;
    fclose(f);
    close(fo);
    if (!wrote) {
        printf("FAIL: cannot write %s\n", in);
        return 1;
    }
    const int rc = run_guest(in, out, NULL, NULL, 0);
    size_t olen = 0;
    unsigned char *res = read_file(out, &olen);
    if (rc != 0 || !res || olen != blk_len) { /* else they are reused by check_faults */
        remove(in);
        remove(out);
    }
    if (rc == 77) return qgt_skip("needs the Python package bochscpu-python (pip install bochscpu-python)");
    if (!res || olen != blk_len) {
        printf("FAIL: the emulator run failed (status %d) and left no result\n", rc);
        return 1;
    }
    const avx512_header *oh = (const avx512_header *)res;
    if (rc != 0) {
        printf("FAIL: the emulator run failed (status %d) in job %u of %d", rc, oh->current, njobs);
        for (int i = 0; i < nchecks; i++)
            if (checks[i].job == (int)oh->current) printf(" (%s)", checks[i].what);
        printf("\n");
        return 1;
    }
    /* the emulated CPU must have had what the kernels use */
    const bool avx512f = oh->cpuid7_ebx >> 16 & 1, dq = oh->cpuid7_ebx >> 17 & 1, bw = oh->cpuid7_ebx >> 30 & 1,
               vl = oh->cpuid7_ebx >> 31 & 1, vnni = oh->cpuid7_ecx >> 11 & 1, bf16 = oh->cpuid7_1_eax >> 5 & 1;
    printf("emulated CPU: avx512f %d dq %d bw %d vl %d vnni %d bf16 %d\n", avx512f, dq, bw, vl, vnni, bf16);
    if (!(avx512f && dq && bw && vl && vnni && bf16)) {
        printf("FAIL: the emulated CPU model lacks AVX-512 features the kernels need\n");
        return 1;
    }
    const int bad = verify(res);
    free(res);
    printf("%d checks, %d failed\n", nchecks, bad);
    const int bad_faults = check_faults(in, out);
    remove(in);
    remove(out);
    return bad || bad_faults ? 1 : 0;
}
#endif
