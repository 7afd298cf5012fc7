#!/usr/bin/env python3
"""Write the llama.cpp reference fixtures under tests/data/llama/ for SmolLM2-135M-Instruct
(Q4_1 GGUF), using llama-cpp-python (which builds and wraps llama.cpp):

  tokenizer_cases.json  token ids of many strings, add_bos on/off, parse_special on/off,
                        and llama.cpp's own detokenization of them
  greedy.json           greedy 32-token continuations of 5 prompts, prompt ids, top-10
                        logits at the last prompt position
  speed.json            prompt-processing / generation tokens per second on this machine
  perplexity.json       perplexity of ppl_text.txt at n_ctx 128, second half of each window

Run once (takes a few minutes on 2 cores):
  python3 tests/python/make_llama_fixtures.py [--model PATH] [--only tokenizer,greedy,...]
    [--llama-commit HASH]   (the llama.cpp commit vendored by the installed package)
"""
import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import time

import numpy as np
import llama_cpp
from llama_cpp import Llama

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "data", "llama"))
DEFAULT_MODEL = os.path.join(os.environ.get("QG_MODEL_DIR",
                                            os.path.expanduser("~/.cache/qgraph/models")),
                             "SmolLM2-135M-Instruct.Q4_1.gguf")

# Strings for the tokenizer cases. Bytes entries are deliberately invalid UTF-8.
CASES = [
    "",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n\n",
    "Hello",
    "Hello world",
    " Hello world",
    "Hello world!",
    "Hello, world! How are you today?",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure it's fine, they're here, we've done it, you'll see, he'd know.",
    "DON'T SHOUT, IT'S LOUD",
    "trailing spaces   ",
    "  leading spaces",
    "multiple    internal     spaces",
    "tabs\tand\t\ttabs",
    "line one\nline two\r\nline three\n",
    "mixed \t \n whitespace \n\n  end",
    "0",
    "42",
    "12345",
    "3.14159265358979",
    "1,000,000 and 1 000 000",
    "Call 555-0123 or +1 (800) 555-0199.",
    "In 2024, 73% of 1500 people said 9/10.",
    "99999999999999999999999999999999",
    "version 1.2.3-rc4",
    "café naïve résumé façade",
    "Ærøskøbing Straße Œuvre",
    "Привет, как дела?",
    "Γειά σου Κόσμε",
    "日本語のテキストです。",
    "中文分词测试：你好，世界！",
    "한국어 문장입니다",
    "שלום עולם",
    "مرحبا بالعالم",
    "हिन्दी पाठ",
    "ไทย ภาษา",
    "emoji 😀🎉👍🏽 and 👨‍👩‍👧‍👦 family",
    "🦀🐍🚀",
    "math: ∑ x² ≤ ∞, ½ + ¼ = ¾, Ⅻ",
    "arrows → ← ↑ ↓ and symbols © ® ™ §",
    "full-width ＡＢＣ１２３",
    "zero\u200bwidth\u200djoiner",
    "non\u00a0breaking\u2003em space\u3000ideographic",
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; i++) {\n\tsum += x[i];\n}",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); }",
    "fn main() { let v: Vec<u32> = (0..10).collect(); println!(\"{:?}\", v); }",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
    "const x = () => { return `template ${value}`; };",
    "<div class=\"box\">Text &amp; more</div>",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "$ ls -la | grep '^d' && echo \"done\"",
    "x += 1 if y != 0 else -1  # comment",
    "https://example.com/path?query=1&b=two#frag",
    "user@example.org",
    "!!!???...,,,;;;:::",
    "----====____****",
    "''''\"\"\"\"``",
    "a'b c's d'll e're f've g'm h'd",
    "'s 't 're 've 'm 'll 'd",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are helpful.<|im_end|>",
    "text before <|endoftext|> text after",
    "<|im_end|><|im_end|>",
    "<|im_start|",
    "<repo_name>qgraph<file_sep>main.c",
    "Mixed CASE words AND Acronyms like NASA, GPU, HTTP2",
    "a" * 200,
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    b"invalid \xff byte",
    b"truncated \xe2\x82",
    b"\xc3\x28 bad continuation",
    b"\x80\x81\x82 stray continuations",
    b"nul\x00byte",
    b"\xf0\x9f\x98 cut emoji",
    b"overlong \xc0\x80 and surrogate \xed\xa0\x80",
    "abc123def 4567ghi",
    " 123  456\t789\n0",
    "Arabic-Indic ٣٤٥ and Devanagari ४२ digits",
    "x²³ ⅻ Ⅻ ①②③ １２３ 一二三",
    "e\u0301 combining a\u0308 and n\u0303",
    "\n   word\n\tword \r\n\r\n end \n ",
    "\u3000abc\u00a0def\u2003 ghi",
    "'S 'T 'RE 'Ve ''s ''",
    "<|im_start|><|im_start|>x<|im_end|>>",
    "<<|im_end|> <|im_end|><",
    "<|endoftext|>\n\n<|endoftext|>",
]

# Deterministic random strings over a mixed pool (letters, digits of several scripts,
# spaces of several kinds, punctuation, CJK, emoji, marks, control tokens).
POOL = (list("aAbBzZ09 '.,!?-_\t\n\r") + ["  ", "'s", "'ll", "\u00e9", "\u00df", "\u0416",
        "\u05d0", "\u0661", "\u0968", "\u00b2", "\u2167", "\u4e2d", "\u3042", "\u30ab",
        "\uac00", "\U0001F600", "\U0001F44D\U0001F3FD", "\u200d", "\u0301", "\u00a0",
        "\u3000", "\u2028", "\u0085", "\ufffd", "\u00ad", "\u2014", "\u201c", "\u20ac",
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "\\", "{", "}", "(", ")", "<", ">", "=",
        "\x00", "\x7f", "Hello", " world", "123", "0.5"])


def random_cases(n, seed=20261122):
    import random
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(rng.randint(1, 40))) for _ in range(n)]


CASES += random_cases(60)


def as_bytes(c):
    return c if isinstance(c, bytes) else c.encode("utf-8")


def llama_detok(vocab, ids, remove_special, unparse_special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    cap = 64 + 64 * len(ids)
    buf = ctypes.create_string_buffer(cap)
    n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, cap, remove_special,
                                   unparse_special)
    if n < 0:
        raise RuntimeError("llama_detokenize buffer too small")
    return buf.raw[:n]


def build_info(args):
    info = {
        "llama_cpp_python_version": llama_cpp.__version__,
        "llama_cpp_commit": args.llama_commit or "unknown",
        "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    return info


def uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", path)


def make_tokenizer(args):
    llm = Llama(model_path=args.model, vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    cases = []
    for c in CASES:
        b = as_bytes(c)
        entry = {"hex": b.hex()}
        if not isinstance(c, bytes):
            entry["text"] = c
        for add_bos in (False, True):
            for special in (False, True):
                ids = llm.tokenize(b, add_bos=add_bos, special=special)
                entry["ids%s%s" % ("_bos" if add_bos else "", "_special" if special else "")] = ids
        plain = entry["ids"]
        entry["detok"] = llama_detok(vocab, plain, False, False).hex()
        entry["detok_special"] = llama_detok(vocab, entry["ids_special"], False, True).hex()
        entry["roundtrip"] = entry["detok"] == entry["hex"]
        cases.append(entry)
    meta = build_info(args)
    meta.update({
        "model": os.path.basename(args.model),
        "how": "Llama(model_path, vocab_only=True).tokenize(bytes, add_bos, special); keys: "
               "ids (add_bos False, special False), ids_bos, ids_special, ids_bos_special. "
               "detok = llama_detokenize(ids, remove_special=False, unparse_special=False), "
               "detok_special = llama_detokenize(ids_special, False, True), both hex.",
        "bos": llama_cpp.llama_vocab_bos(vocab),
        "eos": llama_cpp.llama_vocab_eos(vocab),
        "eot": llama_cpp.llama_vocab_eot(vocab),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "add_eos": bool(llama_cpp.llama_vocab_get_add_eos(vocab)),
        "eog_ids": [i for i in range(llama_cpp.llama_vocab_n_tokens(vocab))
                    if llama_cpp.llama_vocab_is_eog(vocab, i)],
    })
    write("tokenizer_cases.json", {"meta": meta, "cases": cases})


PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "def fibonacci(n):\n",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n<|im_start|>user\nWhat is the boiling point of water?<|im_end|>\n"
    "<|im_start|>assistant\n",
    "List of prime numbers: 2, 3, 5, 7,",
]


def make_greedy(args):
    settings = {"n_ctx": 512, "n_threads": 2, "n_threads_batch": 2, "n_batch": 512,
                "logits_all": True, "seed": 0, "type_k": "f16 (default)",
                "type_v": "f16 (default)", "flash_attn": "default"}
    llm = Llama(model_path=args.model, n_ctx=512, n_threads=2, n_threads_batch=2, n_batch=512,
                logits_all=True, seed=0, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    runs = []
    for p in PROMPTS:
        # chat-style prompts carry control tokens, so parse specials for all prompts
        ids = llm.tokenize(p.encode("utf-8"), add_bos=True, special=True)
        llm.reset()
        llm.eval(ids)
        first = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        top = np.argsort(-first, kind="stable")[:10]
        gen = []
        for _ in range(32):
            logits = llm.scores[llm.n_tokens - 1]
            tok = int(np.argmax(logits))
            gen.append(tok)
            llm.eval([tok])
        runs.append({
            "prompt": p,
            "prompt_ids": ids,
            "generated_ids": gen,
            "generated_text": llama_detok(vocab, gen, False, True).decode("utf-8", "replace"),
            "eog_in_generated": [i for i, t in enumerate(gen)
                                 if llama_cpp.llama_vocab_is_eog(vocab, t)],
            "top10_first_step": [[int(i), float(first[i])] for i in top],
        })
    meta = build_info(args)
    meta.update({
        "model": os.path.basename(args.model),
        "settings": settings,
        "how": "tokenize(prompt, add_bos=True, special=True) (SmolLM2 adds no BOS); eval(prompt); "
               "then 32 times: argmax of the last logits (greedy = temperature 0 / top_k 1, no "
               "repeat penalty), eval([token]); generation does not stop at EOG tokens. "
               "top10_first_step: (id, logit) at the last prompt position.",
    })
    write("greedy.json", {"meta": meta, "runs": runs})


def speed_runs(args, ids, n_threads, n_gen, reps):
    llm = Llama(model_path=args.model, n_ctx=512, n_threads=n_threads,
                n_threads_batch=n_threads, n_batch=512, logits_all=False, seed=0, verbose=False)
    n_vocab = llm.n_vocab()
    ctx = llm.ctx
    results = []
    for _ in range(reps):
        llm.reset()
        llama_cpp.llama_perf_context_reset(ctx)
        t0 = time.perf_counter()
        llm.eval(ids)
        t1 = time.perf_counter()
        for _ in range(n_gen):
            lp = llama_cpp.llama_get_logits_ith(ctx, -1)
            logits = np.ctypeslib.as_array(lp, shape=(n_vocab,))
            llm.eval([int(np.argmax(logits))])
        t2 = time.perf_counter()
        perf = llama_cpp.llama_perf_context(ctx)
        results.append({
            "pp_wall_s": t1 - t0, "tg_wall_s": t2 - t1,
            "pp_tok_per_s_wall": len(ids) / (t1 - t0), "tg_tok_per_s_wall": n_gen / (t2 - t1),
            "perf_t_p_eval_ms": perf.t_p_eval_ms, "perf_n_p_eval": perf.n_p_eval,
            "perf_t_eval_ms": perf.t_eval_ms, "perf_n_eval": perf.n_eval,
            "load_after": uptime(),
        })
    return {
        "n_threads": n_threads,
        "runs": results,
        "median_pp_tok_per_s": statistics.median(r["pp_tok_per_s_wall"] for r in results),
        "median_tg_tok_per_s": statistics.median(r["tg_tok_per_s_wall"] for r in results),
    }


def make_speed(args):
    n_prompt, n_gen, reps = 128, 64, 3
    with open(os.path.join(OUT, "ppl_text.txt"), encoding="utf-8") as f:
        text = f.read()
    vocab_llm = Llama(model_path=args.model, vocab_only=True, verbose=False)
    ids = vocab_llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)[:n_prompt]
    assert len(ids) == n_prompt
    load_before = uptime()
    main_cfg = speed_runs(args, ids, 2, n_gen, reps)
    one_thread = speed_runs(args, ids, 1, n_gen, reps)
    meta = build_info(args)
    meta.update({
        "model": os.path.basename(args.model),
        "settings": {"n_ctx": 512, "n_threads": 2, "n_threads_batch": 2, "n_batch": 512,
                     "kv_cache": "f16 (default)", "n_prompt": n_prompt, "n_gen": n_gen,
                     "repetitions": reps},
        "how": "wall clock (time.perf_counter) around Llama.eval(prompt) and around 64 greedy "
               "single-token evals (argmax in numpy included); perf_* are llama.cpp's own "
               "llama_perf_context counters for the same calls (n_p_eval may include the "
               "first generated token). Prompt: first 128 tokens of ppl_text.txt. "
               "'one_thread' repeats the measurement with 1 thread for comparison.",
        "machine_load_before": load_before,
        "machine_load_after": uptime(),
        "note": "shared 2-core machine loaded by other jobs (see load averages); llama.cpp's "
                "OpenMP threads suffer badly from oversubscription, so these figures are far "
                "below what an idle machine gives and vary run to run",
    })
    write("speed.json", {"meta": meta, "runs": main_cfg["runs"],
                         "median_pp_tok_per_s": main_cfg["median_pp_tok_per_s"],
                         "median_tg_tok_per_s": main_cfg["median_tg_tok_per_s"],
                         "one_thread": one_thread})


def make_perplexity(args):
    n_ctx = 128
    with open(os.path.join(OUT, "ppl_text.txt"), encoding="utf-8") as f:
        text = f.read()
    llm = Llama(model_path=args.model, n_ctx=n_ctx, n_threads=2, n_threads_batch=2,
                n_batch=n_ctx, logits_all=True, seed=0, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    n_chunk = len(tokens) // n_ctx
    first = n_ctx // 2
    nll, count, chunk_ppl = 0.0, 0, []
    for i in range(n_chunk):
        chunk = list(tokens[i * n_ctx:(i + 1) * n_ctx])
        if add_bos:
            chunk[0] = llama_cpp.llama_vocab_bos(vocab)
        llm.reset()
        llm.eval(chunk)
        logits = np.array(llm.scores[:n_ctx], dtype=np.float64)
        for j in range(first, n_ctx - 1):
            row = logits[j]
            m = row.max()
            lse = m + np.log(np.exp(row - m).sum())
            nll += lse - row[tokens[i * n_ctx + j + 1]]
            count += 1
        chunk_ppl.append(float(np.exp(nll / count)))
    meta = build_info(args)
    meta.update({
        "model": os.path.basename(args.model),
        "text": "ppl_text.txt",
        "how": "as llama.cpp's perplexity tool: tokenize the whole text (add_special=True, no "
               "special parsing), cut into n_ctx windows, evaluate each from an empty KV cache "
               "(first token replaced by BOS when the model adds BOS), score the tokens after "
               "positions n_ctx/2 .. n_ctx-2 with log-softmax in float64; ppl = exp(mean nll).",
        "settings": {"n_ctx": n_ctx, "n_batch": n_ctx, "n_threads": 2, "kv_cache": "f16 (default)"},
    })
    write("perplexity.json", {"meta": meta, "n_tokens": len(tokens), "n_chunks": n_chunk,
                              "scored_per_chunk": n_ctx - 1 - first, "count": count,
                              "ppl": float(np.exp(nll / count)), "running_ppl": chunk_ppl,
                              "tokens": tokens})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--only", default="tokenizer,greedy,speed,perplexity")
    ap.add_argument("--llama-commit", default="")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    parts = args.only.split(",")
    if "tokenizer" in parts:
        make_tokenizer(args)
    if "greedy" in parts:
        make_greedy(args)
    if "perplexity" in parts:
        make_perplexity(args)
    if "speed" in parts:
        make_speed(args)


if __name__ == "__main__":
    main()
