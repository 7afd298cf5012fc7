/* qg perplexity: llama.cpp-compatible perplexity of a model on a text file.
 *
 * As llama.cpp's perplexity tool: the whole text is tokenized once (with the model's
 * add-BOS rule), cut into windows of --ctx tokens; when the model adds BOS, the first
 * token of each window is replaced by BOS. Each window is evaluated from an empty cache
 * and only the second half is scored: the logits at window position j (ctx/2 <= j <
 * ctx-1) give the negative log-likelihood of the token at j+1. After each window the
 * running PPL is printed as "[i]ppl,"; at the end "Final estimate: PPL = x +/- e", where
 * e = ppl * sqrt(var(nll) / (count - 1)). At least 2*ctx tokens are required.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "llama_ppl.h"
#include "llama_setup.h"

static void usage(FILE *f) {
    fprintf(f, "usage: qg perplexity -m MODEL -f TEXT [--ctx N] [--chunks N] [--backend LIST] [--threads N]\n"
               "                    [--quantize TYPE]\n"
               "  --ctx N      window size in tokens (default 512)\n"
               "  --chunks N   evaluate at most N windows (default: all)\n"
               "  --quantize T convert floating-point weights to type T while loading\n"
               "  MODEL is a GGUF file or a Hugging Face checkpoint directory\n");
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "qg perplexity: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = (cap + 65536) * 2;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                fprintf(stderr, "qg perplexity: out of memory reading %s\n", path);
                return NULL;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, 65536, f);
        n += got;
        if (got < 65536) break;
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "qg perplexity: error reading %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static bool parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

static bool print_running(const qgl_ppl_result *r, void *user) {
    (void)user;
    printf("[%d]%.4f,", r->n_chunks, r->ppl);
    fflush(stdout);
    return true;
}

int cmd_perplexity(int argc, char **argv) {
    qgl_setup_params sp = {.n_ctx = 512, .kv_type = QG_TYPE_F16};
    const char *text_path = NULL;
    int max_chunks = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "qg perplexity: %s needs a value (or is unknown)\n", a);
            return 2;
        }
        const char *v = argv[++i];
        bool ok = true;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) sp.model_path = v;
        else if (!strcmp(a, "-f") || !strcmp(a, "--file")) text_path = v;
        else if (!strcmp(a, "--ctx") || !strcmp(a, "-c")) ok = parse_int(v, 4, 1 << 20, &sp.n_ctx);
        else if (!strcmp(a, "--chunks")) ok = parse_int(v, 1, 1 << 30, &max_chunks);
        else if (!strcmp(a, "--backend")) sp.backends = v;
        else if (!strcmp(a, "--quantize")) sp.quantize = v;
        else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) ok = parse_int(v, 1, 1024, &sp.threads);
        else {
            fprintf(stderr, "qg perplexity: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "qg perplexity: bad value \"%s\" for %s\n", v, a);
            return 2;
        }
    }
    if (!sp.model_path || !text_path) {
        usage(stderr);
        return 2;
    }
    size_t text_len = 0;
    char *text = read_file(text_path, &text_len);
    if (!text) return 1;
    qgl_setup su;
    if (qgl_setup_open(&sp, &su) != QG_OK) {
        fprintf(stderr, "qg perplexity: %s\n", qg_last_error());
        free(text);
        return 1;
    }
    int rc = 1;
    qgl_tokens toks = {0};
    if (qgl_tokenize(su.tok, text, text_len, true, false, &toks) != QG_OK) {
        fprintf(stderr, "qg perplexity: tokenizing %s: %s\n", text_path, qg_last_error());
        goto done;
    }
    const int n_ctx = sp.n_ctx;
    size_t avail = toks.n / (size_t)n_ctx;
    int n_chunks = max_chunks > 0 && (size_t)max_chunks < avail ? max_chunks : (int)avail;
    fprintf(stderr, "perplexity: %zu tokens, %d chunks of %d, scoring the second half of each\n", toks.n, n_chunks,
            n_ctx);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    qgl_ppl_result r;
    qg_status st = qgl_perplexity(su.session, su.model->hp.n_vocab, toks.ids, toks.n, n_ctx,
                                  qgl_add_bos(su.tok) ? qgl_token_bos(su.tok) : -1, max_chunks, print_running, NULL, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("\n");
    if (st != QG_OK) {
        fprintf(stderr, "qg perplexity: %s: %s\n", text_path, qg_last_error());
        goto done;
    }
    if (r.ppl_err > 0)
        printf("Final estimate: PPL = %.4f +/- %.5f\n", r.ppl, r.ppl_err);
    else
        printf("Final estimate: PPL = %.4f\n", r.ppl);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    fprintf(stderr, "%d tokens scored, %d evaluated in %.2f s (%.1f tokens/s)\n", r.count, r.n_chunks * n_ctx, secs,
            secs > 0 ? r.n_chunks * n_ctx / secs : 0.0);
    rc = 0;
done:
    qgl_tokens_free(&toks);
    free(text);
    qgl_setup_close(&su);
    return rc;
}
