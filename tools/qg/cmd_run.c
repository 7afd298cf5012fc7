/* qg run: generate text with a llama-architecture model: a GGUF file or a Hugging Face
 * checkpoint directory (config.json, *.safetensors, tokenizer.json), whose floating-point
 * weights --quantize TYPE converts while loading.
 *
 * The prompt is evaluated as one batch, then one token per step; tokens are printed as
 * they are sampled (stdout is flushed per token) and the speed of both phases plus the
 * peak resident memory go to stderr at the end. --json prints one JSON object instead
 * (tokens, text, timings). --chat reads user lines from stdin and answers each with the
 * model's ChatML template, re-using the cached prefix of the conversation; --chat with
 * -p answers that one message and exits.
 * --backend takes a comma list for one scheduler (first supporting backend runs a node);
 * --split N puts the weights and KV cache of layers N.. on the second backend of the list.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "llama_setup.h"
#include "sampling.h"

typedef struct run_opts {
    qgl_setup_params sp;
    const char *prompt;
    bool chat, json, seed_given;
    int n_predict;
    qgl_sampler_params samp;
} run_opts;

typedef struct run_stats {
    int n_prompt, n_gen;
    double t_prompt, t_gen;
} run_stats;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void usage(FILE *f) {
    fprintf(f, "usage: qg run -m MODEL [-p PROMPT] [--chat] [-n N] [--backend LIST] [--threads N]\n"
               "              [--seed S] [--temp T] [--top-k K] [--top-p P] [--ctx N] [--json] [--split N]\n"
               "              [--quantize TYPE]\n"
               "  -p PROMPT     text to continue; with --chat, one user message to answer\n"
               "  --chat        chat with the model's template (user lines from stdin without -p)\n"
               "  -n N          tokens to generate (default 128)\n"
               "  --backend L   comma-separated devices for one scheduler, e.g. vulkan0,cpu (default cpu)\n"
               "  --split N     layers N.. (weights and KV cache) on the second device of the list\n"
               "  --temp T      0 = greedy (default 0.8); --top-k 40, --top-p 0.95 by default\n"
               "  --seed S      sampling seed (default: random, printed)\n"
               "  --ctx N       context size in tokens (default 2048)\n"
               "  --quantize T  convert floating-point weights to type T while loading (q8_0, q4_k ...)\n"
               "  MODEL is a GGUF file or a Hugging Face checkpoint directory (config.json, safetensors)\n");
}

static bool parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

static bool parse_float(const char *s, float *out) {
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end || v != v) return false;
    *out = v;
    return true;
}

/* 0: ok, 1: help printed, 2: error printed. */
static int parse_args(int argc, char **argv, run_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--chat")) { o->chat = true; continue; }
        if (!strcmp(a, "--json")) { o->json = true; continue; }
        if (i + 1 >= argc) {
            fprintf(stderr, "qg run: %s needs a value (or is unknown)\n", a);
            return 2;
        }
        const char *v = argv[++i];
        bool ok = true;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->sp.model_path = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) o->prompt = v;
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) ok = parse_int(v, 0, 1 << 20, &o->n_predict);
        else if (!strcmp(a, "--backend")) o->sp.backends = v;
        else if (!strcmp(a, "--quantize")) o->sp.quantize = v;
        else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) ok = parse_int(v, 1, 1024, &o->sp.threads);
        else if (!strcmp(a, "--split")) ok = parse_int(v, 0, 1 << 16, &o->sp.split);
        else if (!strcmp(a, "--ctx") || !strcmp(a, "-c")) ok = parse_int(v, 1, 1 << 20, &o->sp.n_ctx);
        else if (!strcmp(a, "--temp")) ok = parse_float(v, &o->samp.temp);
        else if (!strcmp(a, "--top-k")) ok = parse_int(v, 0, 1 << 30, &o->samp.top_k);
        else if (!strcmp(a, "--top-p")) ok = parse_float(v, &o->samp.top_p);
        else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            o->samp.seed = strtoull(v, &end, 10);
            ok = !errno && end != v && !*end;
            o->seed_given = true;
        } else {
            fprintf(stderr, "qg run: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "qg run: bad value \"%s\" for %s\n", v, a);
            return 2;
        }
    }
    if (!o->sp.model_path) {
        fprintf(stderr, "qg run: no model given (-m MODEL)\n");
        usage(stderr);
        return 2;
    }
    if (!o->chat && !o->prompt) {
        fprintf(stderr, "qg run: give a prompt (-p) or --chat\n");
        return 2;
    }
    if (o->chat && o->json && !o->prompt) {
        fprintf(stderr, "qg run: --json with --chat needs the user message as -p\n");
        return 2;
    }
    return 0;
}

/* Append s to a growable buffer. */
static bool append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t c = (*cap ? *cap * 2 : 256) + n;
        char *p = realloc(*buf, c);
        if (!p) return false;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

static void json_string(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* Evaluate `toks` after the session's cached prefix, then sample up to n_predict tokens.
 * Generated ids are appended to gen; text pieces are streamed unless quiet. */
static int generate(qgl_setup *su, qgl_sampler *smp, const qgl_tokens *toks, int n_predict, bool quiet,
                    qgl_tokens *gen, char **text, size_t *text_len, run_stats *rs) {
    const int64_t n_vocab = su->model->hp.n_vocab;
    float *logits = malloc((size_t)n_vocab * sizeof *logits);
    size_t text_cap = *text_len;
    if (!logits) {
        fprintf(stderr, "qg run: out of memory\n");
        return 1;
    }
    int n_ctx = qgl_session_n_ctx(su->session);
    int n_new = (int)toks->n - qgl_session_n_past(su->session);
    int rc = 0;
    if (n_new < 1 || (int)toks->n > n_ctx) {
        fprintf(stderr, "qg run: %zu prompt tokens do not fit the context of %d (use --ctx)\n", toks->n, n_ctx);
        free(logits);
        return 1;
    }
    double t0 = now_s();
    if (qgl_eval(su->session, toks->ids + qgl_session_n_past(su->session), n_new, false, logits) != QG_OK) {
        fprintf(stderr, "qg run: evaluating the prompt: %s\n", qg_last_error());
        free(logits);
        return 1;
    }
    rs->t_prompt += now_s() - t0;
    rs->n_prompt += n_new;
    t0 = now_s();
    for (int i = 0; i < n_predict; i++) {
        qgl_token id = qgl_sample(smp, logits);
        if (qgl_is_eog(su->tok, id)) break;
        if (qgl_tokens_push(gen, id) != QG_OK) {
            rc = 1;
            break;
        }
        size_t plen = 0;
        const char *piece = qgl_token_to_piece(su->tok, id, false, &plen);
        if (piece && plen) {
            if (!quiet) {
                fwrite(piece, 1, plen, stdout);
                fflush(stdout);
            }
            if (!append(text, text_len, &text_cap, piece, plen)) {
                rc = 1;
                break;
            }
        }
        rs->n_gen++;
        if (i + 1 == n_predict) break; /* the last token needs no evaluation */
        if (qgl_eval(su->session, &id, 1, false, logits) != QG_OK) {
            fprintf(stderr, "\nqg run: evaluating token %d: %s\n", id, qg_last_error());
            rc = 1;
            break;
        }
    }
    rs->t_gen += now_s() - t0;
    free(logits);
    return rc;
}

static void print_stats(const run_stats *rs, size_t rss) {
    fprintf(stderr, "\nprompt: %d tokens in %.3f s (%.2f tokens/s)\n", rs->n_prompt, rs->t_prompt,
            rs->t_prompt > 0 ? rs->n_prompt / rs->t_prompt : 0.0);
    fprintf(stderr, "generation: %d tokens in %.3f s (%.2f tokens/s)\n", rs->n_gen, rs->t_gen,
            rs->t_gen > 0 ? rs->n_gen / rs->t_gen : 0.0);
    fprintf(stderr, "peak memory (max RSS): %.1f MiB\n", (double)rss / (1024.0 * 1024.0));
}

static int run_prompt(qgl_setup *su, qgl_sampler *smp, const run_opts *o) {
    qgl_tokens toks = {0}, gen = {0};
    char *text = NULL;
    size_t text_len = 0;
    run_stats rs = {0};
    char *formatted = NULL;
    const char *prompt = o->prompt;
    if (o->chat) { /* one turn: the prompt is the user's message */
        const qgl_chat_msg msg = {"user", o->prompt};
        if (qgl_chat_apply(su->tok, &msg, 1, true, &formatted) != QG_OK) {
            fprintf(stderr, "qg run: chat template: %s\n", qg_last_error());
            return 1;
        }
        prompt = formatted;
    }
    qg_status st = qgl_tokenize(su->tok, prompt, strlen(prompt), true, true, &toks);
    free(formatted);
    if (st != QG_OK) {
        fprintf(stderr, "qg run: tokenizing the prompt: %s\n", qg_last_error());
        qgl_tokens_free(&toks);
        return 1;
    }
    if (toks.n == 0 && qgl_tokens_push(&toks, qgl_token_bos(su->tok)) != QG_OK) return 1;
    if (!o->json && !o->chat) {
        fputs(o->prompt, stdout);
        fflush(stdout);
    }
    int rc = generate(su, smp, &toks, o->n_predict, o->json, &gen, &text, &text_len, &rs);
    size_t rss = qgl_peak_rss();
    if (o->json && rc == 0) {
        printf("{\"prompt_tokens\":[");
        for (size_t i = 0; i < toks.n; i++) printf("%s%d", i ? "," : "", toks.ids[i]);
        printf("],\"tokens\":[");
        for (size_t i = 0; i < gen.n; i++) printf("%s%d", i ? "," : "", gen.ids[i]);
        printf("],\"text\":");
        json_string(stdout, text ? text : "", text_len);
        printf(",\"seed\":%" PRIu64 ",\"timings\":{\"prompt_tokens\":%d,\"prompt_s\":%.6f,\"prompt_tokens_per_s\":%.3f,"
               "\"gen_tokens\":%d,\"gen_s\":%.6f,\"gen_tokens_per_s\":%.3f},\"peak_rss_bytes\":%zu,"
               "\"kv_cache_bytes\":%zu}\n",
               o->samp.seed, rs.n_prompt, rs.t_prompt, rs.t_prompt > 0 ? rs.n_prompt / rs.t_prompt : 0.0, rs.n_gen,
               rs.t_gen, rs.t_gen > 0 ? rs.n_gen / rs.t_gen : 0.0, rss, qgl_session_kv_bytes(su->session));
    } else if (rc == 0) {
        print_stats(&rs, rss);
    }
    qgl_tokens_free(&toks);
    qgl_tokens_free(&gen);
    free(text);
    return rc;
}

/* Interactive ChatML conversation. The whole conversation is re-rendered each turn and
 * only the tokens after the longest prefix already in the KV cache are evaluated. */
static int run_chat(qgl_setup *su, qgl_sampler *smp, const run_opts *o) {
    qgl_chat_msg *msgs = NULL;
    size_t n_msgs = 0;
    run_stats rs = {0};
    char *line = NULL;
    size_t line_cap = 0;
    int rc = 0;
    if (!qgl_chat_template(su->tok)) {
        fprintf(stderr, "qg run: the model has no chat template\n");
        return 1;
    }
    bool tty = isatty(STDIN_FILENO);
    for (;;) {
        if (tty) {
            fputs("> ", stdout);
            fflush(stdout);
        }
        ssize_t got = getline(&line, &line_cap, stdin);
        if (got < 0) break;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
        if (got == 0) continue;
        qgl_chat_msg *nm = realloc(msgs, (n_msgs + 2) * sizeof *msgs);
        if (!nm) {
            rc = 1;
            break;
        }
        msgs = nm;
        char *content = strdup(line);
        if (!content) {
            rc = 1;
            break;
        }
        msgs[n_msgs++] = (qgl_chat_msg){"user", content};
        char *prompt = NULL;
        qgl_tokens toks = {0}, gen = {0};
        if (qgl_chat_apply(su->tok, msgs, n_msgs, true, &prompt) != QG_OK ||
            qgl_tokenize(su->tok, prompt, strlen(prompt), true, true, &toks) != QG_OK) {
            fprintf(stderr, "qg run: chat template: %s\n", qg_last_error());
            free(prompt);
            qgl_tokens_free(&toks);
            rc = 1;
            break;
        }
        free(prompt);
        /* The session records what each cached position holds (it changes after a
         * context shift), so the reusable prefix is read from there. */
        size_t keep = 0;
        const int32_t *in_cache = qgl_session_tokens(su->session);
        while (keep < toks.n && keep < (size_t)qgl_session_n_past(su->session) && in_cache[keep] == toks.ids[keep])
            keep++;
        if (keep == toks.n) keep--; /* at least one token to evaluate for fresh logits */
        qgl_session_truncate(su->session, (int)keep);
        char *answer = NULL;
        size_t answer_len = 0;
        rc = generate(su, smp, &toks, o->n_predict, false, &gen, &answer, &answer_len, &rs);
        fputc('\n', stdout);
        fflush(stdout);
        qgl_tokens_free(&toks);
        qgl_tokens_free(&gen);
        msgs[n_msgs++] = (qgl_chat_msg){"assistant", answer ? answer : strdup("")};
        if (rc != 0 || !msgs[n_msgs - 1].content) {
            rc = 1;
            break;
        }
    }
    free(line);
    for (size_t i = 0; i < n_msgs; i++) free((char *)msgs[i].content);
    free(msgs);
    if (rc == 0) print_stats(&rs, qgl_peak_rss());
    return rc;
}

int cmd_run(int argc, char **argv) {
    run_opts o = {.n_predict = 128, .samp = qgl_sampler_default_params()};
    o.sp.n_ctx = 2048;
    o.sp.kv_type = QG_TYPE_F16;
    int r = parse_args(argc, argv, &o);
    if (r) return r == 1 ? 0 : 2;
    if (!o.seed_given) o.samp.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (!o.json) fprintf(stderr, "seed: %" PRIu64 "\n", o.samp.seed);

    qgl_setup su;
    if (qgl_setup_open(&o.sp, &su) != QG_OK) {
        fprintf(stderr, "qg run: %s\n", qg_last_error());
        return 1;
    }
    /* Generation may run past --ctx: the oldest half after BOS is dropped when full. */
    qgl_session_set_auto_shift(su.session, qgl_add_bos(su.tok) ? 1 : 0);
    qgl_sampler *smp = NULL;
    if (qgl_sampler_new(&o.samp, su.model->hp.n_vocab, &smp) != QG_OK) {
        fprintf(stderr, "qg run: %s\n", qg_last_error());
        qgl_setup_close(&su);
        return 1;
    }
    r = o.chat && !o.prompt ? run_chat(&su, smp, &o) : run_prompt(&su, smp, &o);
    qgl_sampler_free(smp);
    qgl_setup_close(&su);
    return r;
}
