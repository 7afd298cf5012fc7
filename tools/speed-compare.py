#!/usr/bin/env python3
"""Prompt and generation speed of `qg run` next to llama.cpp (llama-cpp-python), same
model, same prompt, same thread count, runs interleaved (qg, llama.cpp, qg, ...) so both
see the same machine load; the load average is recorded around every run.

qg's figures are the timings `qg run --json` reports (prompt batch; greedy tokens, each
sampled token evaluated). llama.cpp's are wall-clock around Llama.eval(prompt) and
around n greedy single-token evals (argmax in numpy), the same work.

    tools/speed-compare.py --qg build/bin/qg --model MODEL.gguf --text tests/data/llama/ppl_text.txt
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_qg(qg, model, prompt, n_gen, threads):
    out = subprocess.run([qg, "run", "-m", model, "-p", prompt, "-n", str(n_gen), "--temp", "0", "--ctx", "512",
                          "--threads", str(threads), "--json"], check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    t = j["timings"]
    return {"n_prompt": t["prompt_tokens"], "pp": t["prompt_tokens_per_s"], "n_gen": t["gen_tokens"],
            "tg": t["gen_tokens_per_s"], "rss_mib": j["peak_rss_bytes"] / 2**20}


def run_llama(llm, ids, n_gen):
    import llama_cpp
    n_vocab = llm.n_vocab()
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(ids)
    t1 = time.perf_counter()
    n = 0
    for _ in range(n_gen):
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(n_vocab,))
        tok = int(np.argmax(logits))
        n += 1
        if n == n_gen:
            break  # as qg run: the last sampled token is not evaluated
        llm.eval([tok])
    t2 = time.perf_counter()
    return {"n_prompt": len(ids), "pp": len(ids) / (t1 - t0), "n_gen": n, "tg": n / (t2 - t1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qg", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--chars", type=int, default=600, help="prompt: this many characters of the text")
    ap.add_argument("--n-gen", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    from llama_cpp import Llama
    import llama_cpp
    with open(args.text, encoding="utf-8") as f:
        prompt = f.read()[:args.chars]
    llm = Llama(model_path=args.model, n_ctx=512, n_threads=args.threads, n_threads_batch=args.threads, n_batch=512,
                seed=0, verbose=False)
    ids = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
    runs = []
    for _ in range(args.reps):
        l0 = load()
        q = run_qg(args.qg, args.model, prompt, args.n_gen, args.threads)
        lc = run_llama(llm, ids, args.n_gen)
        runs.append({"qg": q, "llama": lc, "load_before": l0, "load_after": load()})
        print(json.dumps(runs[-1]), flush=True)
    med = lambda who, k: statistics.median(r[who][k] for r in runs)
    summary = {"llama_cpp_python": llama_cpp.__version__, "threads": args.threads, "prompt_tokens": len(ids),
               "n_gen": args.n_gen, "qg_pp": med("qg", "pp"), "qg_tg": med("qg", "tg"),
               "llama_pp": med("llama", "pp"), "llama_tg": med("llama", "tg"),
               "load_min": min(r["load_before"] for r in runs), "load_max": max(r["load_after"] for r in runs)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
