/* llama.cpp's quantization mixes as data: which type each tensor of a model gets.
 *
 * Source of the facts: llama.cpp src/llama-quant.cpp (llama_tensor_get_type_impl,
 * tensor_type_fallback, tensor_allows_quantization, llama_ftype_get_default_type) and
 * include/llama.h (LLAMA_FTYPE_* numbers), read in November 2026 and re-expressed here
 * as tables: a tensor's role comes from its name, and the first rule of the role whose
 * mix and conditions match gives the type; no rule means the mix's base type.
 * Conditions mirror llama.cpp: "more bits" layers are the first and last eighth plus
 * every third layer in between; attn_v layers are counted in file order, ffn_down
 * layers by the block count. Not modelled: llama.cpp's extra Q5_K bump of attn_v for
 * 70B-class models (it needs llama.cpp's model-size detection) and the IQ1/IQ2/IQ3 mixes.
 */
#include "quant_mix.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum role { R_OTHER, R_OUTPUT, R_TOKEN_EMBD, R_ATTN_V, R_ATTN_K, R_ATTN_Q, R_ATTN_OUTPUT, R_FFN_UP,
            R_FFN_GATE, R_FFN_DOWN };

/* Name fragments giving a tensor's role, in order (GGUF names, then Hugging Face names). */
static const struct { const char *frag; bool exact; enum role role; } role_names[] = {
    {"output.weight", true, R_OUTPUT},
    {"lm_head.weight", true, R_OUTPUT},
    {"token_embd.weight", true, R_TOKEN_EMBD},
    {"per_layer_token_embd.weight", true, R_TOKEN_EMBD},
    {"model.embed_tokens.weight", true, R_TOKEN_EMBD},
    {"attn_qkv.weight", false, R_ATTN_V},
    {"attn_kv_b.weight", false, R_ATTN_V},
    {"attn_v.weight", false, R_ATTN_V},
    {"self_attn.v_proj.weight", false, R_ATTN_V},
    {"attn_k.weight", false, R_ATTN_K},
    {"self_attn.k_proj.weight", false, R_ATTN_K},
    {"attn_q.weight", false, R_ATTN_Q},
    {"self_attn.q_proj.weight", false, R_ATTN_Q},
    {"attn_output.weight", false, R_ATTN_OUTPUT},
    {"self_attn.o_proj.weight", false, R_ATTN_OUTPUT},
    {"ffn_up", false, R_FFN_UP},
    {"mlp.up_proj", false, R_FFN_UP},
    {"ffn_gate", false, R_FFN_GATE},
    {"mlp.gate_proj", false, R_FFN_GATE},
    {"ffn_down", false, R_FFN_DOWN},
    {"mlp.down_proj", false, R_FFN_DOWN},
};

/* Weights llama.cpp never quantizes (small or precision-critical). */
static const char *const never_quantized[] = {
    "_norm.weight", "ffn_gate_inp.weight", "pos_embd.weight", "token_types.weight", "ssm_conv1d",
    "attn_rel_b.weight", "altup", "laurel", "per_layer_model_proj", "time_mix_first.weight",
    "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight", ".position_embd", ".patch_embd", ".rel_pos",
};

enum { M_Q2_K = 1 << 0, M_Q3_K_S = 1 << 1, M_Q3_K_M = 1 << 2, M_Q3_K_L = 1 << 3, M_Q4_K_S = 1 << 4,
       M_Q4_K_M = 1 << 5, M_Q5_K_S = 1 << 6, M_Q5_K_M = 1 << 7, M_Q6_K = 1 << 8, M_ALL = 0x1ff };

static const struct { const char *name; int bit; qg_type base; int ftype; } mixes[] = {
    {"q2_k", M_Q2_K, QG_TYPE_Q2_K, 10},     {"q3_k_s", M_Q3_K_S, QG_TYPE_Q3_K, 11},
    {"q3_k_m", M_Q3_K_M, QG_TYPE_Q3_K, 12}, {"q3_k_l", M_Q3_K_L, QG_TYPE_Q3_K, 13},
    {"q4_k_s", M_Q4_K_S, QG_TYPE_Q4_K, 14}, {"q4_k_m", M_Q4_K_M, QG_TYPE_Q4_K, 15},
    {"q5_k_s", M_Q5_K_S, QG_TYPE_Q5_K, 16}, {"q5_k_m", M_Q5_K_M, QG_TYPE_Q5_K, 17},
    {"q6_k", M_Q6_K, QG_TYPE_Q6_K, 18},
};
#define N_MIXES (int)(sizeof mixes / sizeof mixes[0])

/* general.file_type of plain targets (LLAMA_FTYPE_ALL_F32, _MOSTLY_F16, ...). */
static const struct { qg_type type; int ftype; } plain_ftypes[] = {
    {QG_TYPE_F32, 0},     {QG_TYPE_F16, 1},    {QG_TYPE_Q4_0, 2},   {QG_TYPE_Q4_1, 3},
    {QG_TYPE_Q8_0, 7},    {QG_TYPE_Q5_0, 8},   {QG_TYPE_Q5_1, 9},   {QG_TYPE_IQ4_NL, 25},
    {QG_TYPE_IQ4_XS, 30}, {QG_TYPE_BF16, 32},  {QG_TYPE_TQ1_0, 36}, {QG_TYPE_TQ2_0, 37},
};
#define FTYPE_GUESSED 1024

/* Rule conditions: every bit set must hold. */
enum { C_FALCON = 1 << 0, C_NOT_FALCON = 1 << 1, C_EXPERT8 = 1 << 2, C_NOT_EXPERT8 = 1 << 3,
       C_GQA4 = 1 << 4, C_MORE_BITS = 1 << 5, C_FIRST_8TH = 1 << 6, C_FIRST_16TH = 1 << 7,
       C_FIRST_2 = 1 << 8, C_FIRST_4 = 1 << 9, C_ROW_NOT_256 = 1 << 10 };

static const struct { enum role role; int mixes; int conds; qg_type type; } rules[] = {
    /* output.weight (and token_embd.weight when the output shares it) */
    {R_OUTPUT, M_ALL, C_FALCON, QG_TYPE_Q8_0},
    {R_OUTPUT, M_ALL, C_ROW_NOT_256, QG_TYPE_Q8_0},
    {R_OUTPUT, M_ALL, 0, QG_TYPE_Q6_K},
    /* attn_v (also fused qkv and kv_b) */
    {R_ATTN_V, M_ALL, C_EXPERT8, QG_TYPE_Q8_0},
    {R_ATTN_V, M_Q2_K, C_GQA4, QG_TYPE_Q4_K},
    {R_ATTN_V, M_Q2_K, 0, QG_TYPE_Q3_K},
    {R_ATTN_V, M_Q3_K_M, C_FIRST_2, QG_TYPE_Q5_K},
    {R_ATTN_V, M_Q3_K_M, 0, QG_TYPE_Q4_K},
    {R_ATTN_V, M_Q3_K_L, 0, QG_TYPE_Q5_K},
    {R_ATTN_V, M_Q4_K_M | M_Q5_K_M, C_MORE_BITS, QG_TYPE_Q6_K},
    {R_ATTN_V, M_Q4_K_S, C_FIRST_4, QG_TYPE_Q5_K},
    /* attn_k */
    {R_ATTN_K, M_ALL, C_EXPERT8, QG_TYPE_Q8_0},
    /* ffn_down */
    {R_FFN_DOWN, M_Q2_K, 0, QG_TYPE_Q3_K},
    {R_FFN_DOWN, M_Q3_K_M, C_FIRST_16TH, QG_TYPE_Q5_K},
    {R_FFN_DOWN, M_Q3_K_M, C_NOT_FALCON, QG_TYPE_Q4_K},
    {R_FFN_DOWN, M_Q3_K_M, C_MORE_BITS, QG_TYPE_Q4_K},
    {R_FFN_DOWN, M_Q3_K_M, 0, QG_TYPE_Q3_K},
    {R_FFN_DOWN, M_Q3_K_L, C_FALCON, QG_TYPE_Q4_K},
    {R_FFN_DOWN, M_Q3_K_L, 0, QG_TYPE_Q5_K},
    {R_FFN_DOWN, M_Q4_K_M, C_FALCON | C_FIRST_16TH, QG_TYPE_Q6_K},
    {R_FFN_DOWN, M_Q4_K_M, C_FALCON | C_MORE_BITS, QG_TYPE_Q5_K},
    {R_FFN_DOWN, M_Q4_K_M, C_FALCON, QG_TYPE_Q4_K},
    {R_FFN_DOWN, M_Q4_K_M, C_MORE_BITS, QG_TYPE_Q6_K},
    {R_FFN_DOWN, M_Q5_K_M, C_MORE_BITS, QG_TYPE_Q6_K},
    {R_FFN_DOWN, M_Q4_K_S, C_NOT_FALCON | C_FIRST_8TH, QG_TYPE_Q5_K},
    /* attn_output */
    {R_ATTN_OUTPUT, M_Q2_K | M_Q3_K_S | M_Q3_K_M | M_Q4_K_S | M_Q4_K_M, C_NOT_FALCON | C_EXPERT8, QG_TYPE_Q5_K},
    {R_ATTN_OUTPUT, M_Q2_K, C_NOT_FALCON | C_NOT_EXPERT8, QG_TYPE_Q3_K},
    {R_ATTN_OUTPUT, M_Q3_K_M, C_NOT_FALCON | C_NOT_EXPERT8, QG_TYPE_Q4_K},
    {R_ATTN_OUTPUT, M_Q3_K_L, C_NOT_FALCON | C_NOT_EXPERT8, QG_TYPE_Q5_K},
    {R_ATTN_OUTPUT, M_Q3_K_L, C_FALCON, QG_TYPE_Q4_K},
};
#define N_RULES (int)(sizeof rules / sizeof rules[0])

/* Where a type goes when a row does not divide its block (then F16 if that fails too). */
static const struct { qg_type from, to; } fallbacks[] = {
    {QG_TYPE_Q2_K, QG_TYPE_Q4_0},  {QG_TYPE_Q3_K, QG_TYPE_Q4_0},     {QG_TYPE_TQ1_0, QG_TYPE_Q4_0},
    {QG_TYPE_TQ2_0, QG_TYPE_Q4_0}, {QG_TYPE_Q4_K, QG_TYPE_Q5_0},     {QG_TYPE_Q5_K, QG_TYPE_Q5_1},
    {QG_TYPE_Q6_K, QG_TYPE_Q8_0},  {QG_TYPE_Q8_K, QG_TYPE_Q8_0},     {QG_TYPE_IQ4_XS, QG_TYPE_IQ4_NL},
    {QG_TYPE_NVFP4, QG_TYPE_MXFP4}, {QG_TYPE_MXFP8_E4M3, QG_TYPE_F8_E4M3},
    {QG_TYPE_MXFP8_E5M2, QG_TYPE_F8_E5M2},
};

static void lower_copy(char *dst, size_t size, const char *src) {
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++) dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

bool quant_target_parse(const char *name, quant_target *out) {
    memset(out, 0, sizeof *out);
    if (!name || strlen(name) >= sizeof out->name) return false;
    lower_copy(out->name, sizeof out->name, name);
    for (int i = 0; i < N_MIXES; i++) {
        if (strcmp(out->name, mixes[i].name) != 0) continue;
        out->is_mix = true;
        out->mix = i;
        out->base = mixes[i].base;
        out->ftype = mixes[i].ftype;
        return true;
    }
    const qg_type_traits *tt = qg_type_by_name(out->name);
    if (!tt || !tt->from_float || tt->is_integer) return false;
    out->base = tt->type;
    out->ftype = FTYPE_GUESSED;
    for (size_t i = 0; i < sizeof plain_ftypes / sizeof plain_ftypes[0]; i++)
        if (plain_ftypes[i].type == tt->type) out->ftype = plain_ftypes[i].ftype;
    return true;
}

void quant_target_list(char *buf, size_t size) {
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_MIXES && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, "%s ", mixes[i].name);
    int n;
    const qg_type_traits *tab = qg_type_table(&n);
    for (int i = 0; i < n && off < size; i++) {
        if (!tab[i].from_float || tab[i].is_integer) continue;
        bool is_mix_name = false;
        char low[32];
        lower_copy(low, sizeof low, tab[i].name);
        for (int j = 0; j < N_MIXES; j++)
            if (strcmp(mixes[j].name, low) == 0) is_mix_name = true;
        if (!is_mix_name) off += (size_t)snprintf(buf + off, size - off, "%s ", low);
    }
    if (off > 0 && off <= size) buf[off - 1] = '\0';
}

uint64_t quant_tensor_bytes(qg_type type, const int64_t ne[4]) {
    return (uint64_t)qg_row_size(type, ne[0]) * (uint64_t)(ne[1] * ne[2] * ne[3]);
}

static enum role role_of(const char *name) {
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++) {
        bool hit = role_names[i].exact ? strcmp(name, role_names[i].frag) == 0 : strstr(name, role_names[i].frag) != NULL;
        if (hit) return role_names[i].role;
    }
    return R_OTHER;
}

static int effective_dims(const quant_tensor_in *t) {
    int d = 1;
    for (int i = 1; i < 4; i++)
        if (t->ne[i] > 1) d = i + 1;
    return d;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool allows_quantization(const quant_tensor_in *t) {
    const qg_type_traits *tt = qg_type_get(t->type);
    if (!tt || tt->is_integer) return false;
    if (effective_dims(t) < 2 || !ends_with(t->name, "weight")) return false;
    for (size_t i = 0; i < sizeof never_quantized / sizeof never_quantized[0]; i++)
        if (strstr(t->name, never_quantized[i])) return false;
    return true;
}

static bool more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* Layer number from "blk.N." or "layers.N.", or -1. */
static int64_t layer_of(const char *name) {
    const char *p = strstr(name, "blk.");
    size_t skip = 4;
    if (!p) {
        p = strstr(name, "layers.");
        skip = 7;
    }
    if (!p || !isdigit((unsigned char)p[skip])) return -1;
    int64_t v = 0;
    for (p += skip; isdigit((unsigned char)*p) && v < 1000000; p++) v = v * 10 + (*p - '0');
    return v;
}

static int conds_holding(const quant_hints *h, const quant_tensor_in *t, int64_t i, int64_t n) {
    int c = h->falcon ? C_FALCON : C_NOT_FALCON;
    c |= h->n_expert == 8 ? C_EXPERT8 : C_NOT_EXPERT8;
    if (h->n_head > 0 && h->n_head_kv > 0 && h->n_head / h->n_head_kv >= 4) c |= C_GQA4;
    if (n > 0 && more_bits(i, n)) c |= C_MORE_BITS;
    if (i < n / 8) c |= C_FIRST_8TH;
    if (i < n / 16) c |= C_FIRST_16TH;
    if (i < 2) c |= C_FIRST_2;
    if (i < 4) c |= C_FIRST_4;
    if (t->ne[0] % 256 != 0) c |= C_ROW_NOT_256;
    return c;
}

static qg_type apply_rules(int mix_bit, enum role role, int held, qg_type base) {
    for (int r = 0; r < N_RULES; r++)
        if (rules[r].role == role && (rules[r].mixes & mix_bit) && (rules[r].conds & held) == rules[r].conds)
            return rules[r].type;
    return base;
}

/* Plain targets that get llama.cpp's output-matrix rule (its legacy and IQ4 types). */
static bool output_rule_applies(qg_type base) {
    switch (base) {
    case QG_TYPE_Q4_0: case QG_TYPE_Q4_1: case QG_TYPE_Q5_0: case QG_TYPE_Q5_1:
    case QG_TYPE_Q8_0: case QG_TYPE_IQ4_NL: case QG_TYPE_IQ4_XS: return true;
    default: return false;
    }
}

static qg_type fit(qg_type want, int64_t ne0, bool *fell_back) {
    const qg_type_traits *tt = qg_type_get(want);
    *fell_back = false;
    if (tt && ne0 % tt->block_size == 0) return want;
    *fell_back = true;
    for (size_t i = 0; i < sizeof fallbacks / sizeof fallbacks[0]; i++) {
        if (fallbacks[i].from != want) continue;
        const qg_type_traits *ft = qg_type_get(fallbacks[i].to);
        if (ft && ne0 % ft->block_size == 0) return fallbacks[i].to;
    }
    return QG_TYPE_F16;
}

void quant_mix_plan(const quant_target *t, const quant_hints *h, const quant_tensor_in *in, int64_t n,
                    quant_choice *out) {
    int64_t n_attn_v = 0, n_ffn_down = 0, i_attn_v = 0, i_ffn_down = 0;
    bool has_output = false;
    for (int64_t i = 0; i < n; i++) {
        enum role r = role_of(in[i].name);
        if (r == R_ATTN_V) n_attn_v++;
        if (r == R_FFN_DOWN) n_ffn_down++;
        if (r == R_OUTPUT) has_output = true;
    }
    if (h->n_layer > 0) n_ffn_down = h->n_layer;
    int mix_bit = t->is_mix ? mixes[t->mix].bit : 0;
    for (int64_t i = 0; i < n; i++) {
        quant_choice *c = &out[i];
        const quant_tensor_in *ti = &in[i];
        memset(c, 0, sizeof *c);
        enum role r = role_of(ti->name);
        if (!allows_quantization(ti)) {
            const qg_type_traits *tt = qg_type_get(ti->type);
            bool to_f32 = tt && !tt->is_integer && effective_dims(ti) < 2;
            c->type = c->wanted = to_f32 ? QG_TYPE_F32 : ti->type;
            if (r == R_ATTN_V) i_attn_v++;
            if (r == R_FFN_DOWN) i_ffn_down++;
            continue;
        }
        c->quantizable = true;
        qg_type want = t->base;
        if (t->is_mix) {
            if (r == R_TOKEN_EMBD && !has_output) r = R_OUTPUT; /* tied embeddings */
            int64_t li = 0, ln = 0;
            if (r == R_ATTN_V) {
                li = i_attn_v++;
                ln = n_attn_v;
            } else if (r == R_FFN_DOWN) {
                li = i_ffn_down++;
                ln = n_ffn_down;
                if (h->n_expert > 1 && layer_of(ti->name) >= 0) li = layer_of(ti->name);
            }
            want = apply_rules(mix_bit, r, conds_holding(h, ti, li, ln), t->base);
        } else if (output_rule_applies(t->base)) {
            /* llama.cpp gives the output matrix (or the tied embedding) more bits for
             * every quantized target, not only the K mixes: Q8_0 where the rows do not
             * fit Q6_K's 256-blocks (or for falcon), else Q6_K unless already Q8_0. */
            if (r == R_TOKEN_EMBD && !has_output) r = R_OUTPUT;
            if (r == R_OUTPUT) {
                const int held = conds_holding(h, ti, 0, 0);
                want = (held & (C_FALCON | C_ROW_NOT_256)) || t->base == QG_TYPE_Q8_0 ? QG_TYPE_Q8_0 : QG_TYPE_Q6_K;
            }
        }
        c->wanted = want;
        c->type = fit(want, ti->ne[0], &c->fallback);
    }
}
