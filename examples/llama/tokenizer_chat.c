/* Chat prompts in the ChatML layout SmolLM2 and many others use:
 *   <|im_start|>{role}\n{content}<|im_end|>\n ... <|im_start|>assistant\n
 * The GGUF carries a Jinja template; we do not run Jinja, we recognise ChatML by its
 * "<|im_start|>" marker and read from the template the default system prompt it inserts
 * when the first message is not a system one (SmolLM2: "You are a helpful AI assistant
 * named SmolLM, trained by Hugging Face"). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

/* The default system prompt in the template: the text between "<|im_start|>system" plus
 * a newline (literal or written as \n) and the next "<|im_end|>", used only when the
 * template tests that the first message is not a system one. Unescapes \n; returns a
 * malloc'ed string, or NULL when there is none. */
static char *default_system(const char *tmpl)
{
    if (!strstr(tmpl, "!= 'system'") && !strstr(tmpl, "!= \"system\""))
        return NULL;
    const char *s = strstr(tmpl, "<|im_start|>system");
    if (!s)
        return NULL;
    s += strlen("<|im_start|>system");
    if (*s == '\n')
        s++;
    else if (s[0] == '\\' && s[1] == 'n')
        s += 2;
    else
        return NULL;
    const char *e = strstr(s, "<|im_end|>");
    if (!e)
        return NULL;
    char *r = malloc((size_t)(e - s) + 1);
    if (!r)
        return NULL;
    size_t n = 0;
    for (const char *p = s; p < e; p++) {
        if (p[0] == '\\' && p + 1 < e && p[1] == 'n') {
            r[n++] = '\n';
            p++;
        } else {
            r[n++] = *p;
        }
    }
    r[n] = 0;
    return r;
}

qg_status qgl_chat_apply_template(const char *tmpl, const qgl_chat_msg *msgs, size_t n,
                                  bool add_assistant, char **out)
{
    if (!out || (!msgs && n))
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_chat_apply: NULL argument");
    *out = NULL;
    if (!tmpl)
        return qg_set_error(QG_ERR_NOT_FOUND, "chat: the model has no tokenizer.chat_template");
    if (!strstr(tmpl, "<|im_start|>"))
        return qg_set_error(QG_ERR_UNSUPPORTED,
                            "chat: only ChatML templates (with <|im_start|>) are supported; "
                            "this template starts with \"%.60s\"",
                            tmpl);
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return qg_set_error(QG_ERR_INVALID_ARG, "chat: message %zu has no %s", i,
                                msgs[i].role ? "content" : "role");
    sbuf b = {0};
    if (n > 0 && strcmp(msgs[0].role, "system") != 0) {
        char *sys = default_system(tmpl);
        if (sys) {
            puts_(&b, "<|im_start|>system\n");
            puts_(&b, sys);
            puts_(&b, "<|im_end|>\n");
            free(sys);
        }
    }
    for (size_t i = 0; i < n; i++) {
        puts_(&b, "<|im_start|>");
        puts_(&b, msgs[i].role);
        puts_(&b, "\n");
        puts_(&b, msgs[i].content);
        puts_(&b, "<|im_end|>\n");
    }
    if (add_assistant)
        puts_(&b, "<|im_start|>assistant\n");
    if (!b.p && !b.oom)
        puts_(&b, "");
    if (b.oom) {
        free(b.p);
        return qg_set_error(QG_ERR_NO_MEMORY, "chat: out of memory");
    }
    *out = b.p;
    return QG_OK;
}

qg_status qgl_chat_apply(const qgl_tokenizer *t, const qgl_chat_msg *msgs, size_t n,
                         bool add_assistant, char **out)
{
    if (!t)
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_chat_apply: NULL tokenizer");
    return qgl_chat_apply_template(t->chat_template, msgs, n, add_assistant, out);
}
