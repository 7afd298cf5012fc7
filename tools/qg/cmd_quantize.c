/* `qg quantize IN OUT TYPE [--threads N] [--keep REGEX]`: rewrite a GGUF or safetensors
 * checkpoint as a GGUF file with its weights converted to a type or a llama.cpp mix.
 *
 * The per-tensor types come from quant_mix_plan(); --keep names tensors (POSIX extended
 * regex) that stay in their stored type. Each converted tensor goes row by row through
 * float (the type table's scalar to_float / from_float), rows split over N threads. The
 * output is written by the GGUF writer, which saves atomically, so a failure leaves no
 * output file behind. GGUF metadata is copied; safetensors input gets its config.json
 * scalars as qgraph.config.<key>.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "model_input.h"
#include "qg/qg.h"

#ifdef QG_HAVE_JANSSON
#include <jansson.h>
#endif

typedef struct job {
    const qg_type_traits *from, *to;
    const uint8_t *src;
    uint8_t *dst;
    int64_t ne0, row0, row1;
} job;

static void *convert_rows(void *arg) {
    job *j = arg;
    size_t in_row = qg_row_size(j->from->type, j->ne0), out_row = qg_row_size(j->to->type, j->ne0);
    float *f = malloc((size_t)j->ne0 * sizeof *f);
    if (!f) return (void *)1;
    for (int64_t r = j->row0; r < j->row1; r++) {
        j->from->to_float(j->src + (size_t)r * in_row, f, j->ne0);
        j->to->from_float(f, j->dst + (size_t)r * out_row, j->ne0);
    }
    free(f);
    return NULL;
}

/* Convert one tensor with up to n_threads threads; false on allocation failure. */
static bool convert_tensor(const quant_tensor_in *t, const void *src, qg_type to, uint8_t *dst, int n_threads) {
    int64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
    if (n_threads > rows) n_threads = rows > 0 ? (int)rows : 1;
    if (n_threads > 256) n_threads = 256;
    job jobs[256];
    pthread_t tid[256];
    bool started[256] = {false};
    bool ok = true;
    for (int k = 0; k < n_threads; k++) {
        jobs[k] = (job){qg_type_get(t->type), qg_type_get(to), src, dst, t->ne[0], rows * k / n_threads,
                        rows * (k + 1) / n_threads};
        if (k > 0) started[k] = pthread_create(&tid[k], NULL, convert_rows, &jobs[k]) == 0;
        if (k > 0 && !started[k]) ok = convert_rows(&jobs[k]) == NULL && ok;
    }
    ok = convert_rows(&jobs[0]) == NULL && ok;
    for (int k = 1; k < n_threads; k++) {
        void *ret = NULL;
        if (started[k] && pthread_join(tid[k], &ret) == 0 && ret) ok = false;
    }
    return ok;
}

#ifdef QG_HAVE_JANSSON
/* config.json scalars (and arrays of numbers) as qgraph.config.<key>. */
static qg_status copy_config(qg_gguf_writer *w, const char *config) {
    json_error_t jerr;
    json_t *root = json_load_file(config, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return qg_set_error(QG_ERR_FORMAT, "%s: not a JSON object (line %d: %s)", config, jerr.line, jerr.text);
    }
    const char *key;
    json_t *v;
    qg_status st = QG_OK;
    json_object_foreach(root, key, v) {
        char k[256];
        snprintf(k, sizeof k, "qgraph.config.%s", key);
        if (json_is_string(v)) st = qg_gguf_set_str(w, k, json_string_value(v));
        else if (json_is_integer(v)) st = qg_gguf_set_i64(w, k, (int64_t)json_integer_value(v));
        else if (json_is_real(v)) st = qg_gguf_set_f64(w, k, json_real_value(v));
        else if (json_is_boolean(v)) st = qg_gguf_set_bool(w, k, json_is_true(v));
        else if (json_is_array(v) && json_array_size(v) > 0) {
            size_t n = json_array_size(v), i;
            bool all_int = true, all_num = true;
            for (i = 0; i < n; i++) {
                json_t *e = json_array_get(v, i);
                all_int = all_int && json_is_integer(e);
                all_num = all_num && json_is_number(e);
            }
            if (!all_num) continue;
            void *buf = malloc(n * 8);
            if (!buf) {
                st = qg_set_error(QG_ERR_NO_MEMORY, "out of memory");
                break;
            }
            for (i = 0; i < n; i++) {
                json_t *e = json_array_get(v, i);
                if (all_int) ((int64_t *)buf)[i] = (int64_t)json_integer_value(e);
                else ((double *)buf)[i] = json_number_value(e);
            }
            st = qg_gguf_set_arr(w, k, all_int ? QG_GGUF_INT64 : QG_GGUF_FLOAT64, buf, n);
            free(buf);
        }
        if (st != QG_OK) break;
    }
    json_decref(root);
    return st;
}
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(int64_t done, int64_t total, const char *name) {
    int width = 30, fill = total ? (int)(width * done / total) : width;
    fprintf(stderr, "\r[%.*s%*s] %lld/%lld %-40.40s", fill, "==============================", width - fill, "",
            (long long)done, (long long)total, name);
    if (done == total) fputc('\n', stderr);
}

static int usage(void) {
    char types[1024];
    quant_target_list(types, sizeof types);
    fprintf(stderr, "usage: qg quantize IN OUT TYPE [--threads N] [--keep NAME_REGEX]\n"
                    "  IN: GGUF, safetensors file, index or directory; OUT: GGUF\n  TYPE: %s\n", types);
    return 2;
}

static int fail(const char *what) {
    fprintf(stderr, "qg quantize: %s%s%s\n", what, qg_last_error()[0] ? ": " : "", qg_last_error());
    return 1;
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3];
    int n_pos = 0, n_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    const char *keep = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 256) {
                fprintf(stderr, "qg quantize: --threads wants 1..256, got '%s'\n", argv[i]);
                return 2;
            }
            n_threads = (int)v;
        } else if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
            keep = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "qg quantize: unknown option '%s'\n", argv[i]);
            return usage();
        } else if (n_pos < 3) {
            pos[n_pos++] = argv[i];
        } else {
            return usage();
        }
    }
    if (n_pos != 3) return usage();
    if (n_threads < 1) n_threads = 1;
    quant_target target;
    if (!quant_target_parse(pos[2], &target)) {
        fprintf(stderr, "qg quantize: unknown or read-only type '%s'\n", pos[2]);
        return usage();
    }
    regex_t re;
    if (keep) {
        int rc = regcomp(&re, keep, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &re, msg, sizeof msg);
            fprintf(stderr, "qg quantize: bad --keep regex '%s': %s\n", keep, msg);
            return 2;
        }
    }
    double t0 = now_s();
    model_input in;
    if (model_input_open(pos[0], &in) != QG_OK) {
        if (keep) regfree(&re);
        return fail("cannot read input");
    }
    int rc = 1;
    quant_choice *plan = calloc((size_t)(in.n ? in.n : 1), sizeof *plan);
    uint8_t **out = calloc((size_t)(in.n ? in.n : 1), sizeof *out);
    qg_gguf_writer *w = NULL;
    if (!plan || !out) {
        qg_set_error(QG_ERR_NO_MEMORY, "out of memory");
        fail("planning");
        goto done;
    }
    quant_mix_plan(&target, &in.hints, in.t, in.n, plan);
    if (keep)
        for (int64_t i = 0; i < in.n; i++)
            if (regexec(&re, in.t[i].name, 0, NULL, 0) == 0)
                plan[i] = (quant_choice){in.t[i].type, in.t[i].type, false, false};
    int n_requant = 0;
    for (int64_t i = 0; i < in.n; i++) {
        const qg_type_traits *tt = qg_type_get(in.t[i].type);
        n_requant += tt && tt->is_quantized && plan[i].type != in.t[i].type;
    }
    if (n_requant)
        fprintf(stderr, "qg quantize: warning: %d tensors are already quantized; they are dequantized and "
                        "quantized again, which adds error\n", n_requant);
    if (qg_gguf_writer_new(&w) != QG_OK) {
        fail("writer");
        goto done;
    }
    qg_status st = QG_OK;
    if (in.gguf) st = qg_gguf_copy_kv(w, in.gguf);
#ifdef QG_HAVE_JANSSON
    else if (in.config_path[0]) st = copy_config(w, in.config_path);
#else
    else if (in.config_path[0]) fprintf(stderr, "qg quantize: built without jansson: %s not copied\n", in.config_path);
#endif
    if (st == QG_OK) st = qg_gguf_set_u32(w, "general.file_type", (uint32_t)target.ftype);
    if (st == QG_OK) st = qg_gguf_set_u32(w, "general.quantization_version", 2);
    qg_type b = target.base;
    if (st == QG_OK && (b == QG_TYPE_F8_E4M3 || b == QG_TYPE_F8_E5M2 || b == QG_TYPE_MXFP8_E4M3 || b == QG_TYPE_MXFP8_E5M2))
        st = qg_gguf_set_bool(w, "qgraph.fp8", true);
    if (st != QG_OK) {
        fail("metadata");
        goto done;
    }
    bool tty = isatty(2);
    uint64_t bytes_in = 0, bytes_out = 0, n_elem = 0;
    for (int64_t i = 0; i < in.n; i++) {
        const quant_tensor_in *t = &in.t[i];
        qg_type to = plan[i].type;
        const void *data = in.data[i];
        if (to != t->type) {
            out[i] = malloc(quant_tensor_bytes(to, t->ne) ? quant_tensor_bytes(to, t->ne) : 1);
            if (!out[i] || !convert_tensor(t, in.data[i], to, out[i], n_threads)) {
                qg_set_error(QG_ERR_NO_MEMORY, "out of memory converting '%s'", t->name);
                fail("converting");
                goto done;
            }
            data = out[i];
        }
        int nd = t->n_dims < 1 ? 1 : t->n_dims > 4 ? 4 : t->n_dims;
        if (qg_gguf_add_tensor(w, t->name, to, nd, t->ne, data) != QG_OK) {
            fail("adding tensor");
            goto done;
        }
        bytes_in += in.size[i];
        bytes_out += quant_tensor_bytes(to, t->ne);
        n_elem += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        if (tty) progress(i + 1, in.n, t->name);
    }
    if (qg_gguf_writer_save(w, pos[1]) != QG_OK) {
        fail("writing output");
        goto done;
    }
    int n_fallback = 0;
    for (int64_t i = 0; i < in.n; i++) {
        if (!plan[i].fallback) continue;
        if (n_fallback++ == 0) printf("fallbacks (row length does not divide the block size):\n");
        printf("  %-40s ne0 %6lld: %s -> %s\n", in.t[i].name, (long long)in.t[i].ne[0], qg_type_name(plan[i].wanted),
               qg_type_name(plan[i].type));
    }
    printf("quantized %s -> %s as %s: %lld tensors, %.2f MiB -> %.2f MiB, %.3f bits/weight, %d threads, %.2f s\n",
           pos[0], pos[1], target.name, (long long)in.n, bytes_in / 1048576.0, bytes_out / 1048576.0,
           n_elem ? 8.0 * (double)bytes_out / (double)n_elem : 0.0, n_threads, now_s() - t0);
    rc = 0;
done:
    qg_gguf_writer_free(w);
    if (out)
        for (int64_t i = 0; i < in.n; i++) free(out[i]);
    free(out);
    free(plan);
    model_input_close(&in);
    if (keep) regfree(&re);
    return rc;
}
