#!/usr/bin/env python3
"""Perplexity table for a llama GGUF and its `qg quantize` variants (docs/models.md).

For each row: `qg quantize SOURCE OUT TYPE` (the source itself for the "as shipped"
row), then `qg perplexity -m OUT -f TEXT --ctx N`; the size column is the tensor data
(MiB) and bits per weight = 8 * tensor bytes / parameters, as llama.cpp reports them.
With --llama ROWS the same files are also scored by llama.cpp through llama-cpp-python,
with llama.cpp's perplexity procedure (windows of N tokens from an empty cache, BOS
first when the model adds one, second half scored with a float64 log-softmax): that
both cross-checks the numbers and shows that qg quantize's output loads in llama.cpp.

    tools/ppl-table.py --qg build/bin/qg --source MODEL.gguf --text tests/data/llama/ppl_text.txt \
        --ctx 128 --out /tmp/ppl --llama q8_0,q4_k_m
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import gguf

ROWS = ["shipped", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "q3_k_m", "q2_k"]


def sizes(path):
    r = gguf.GGUFReader(path)
    nbytes = sum(int(t.n_bytes) for t in r.tensors)
    nparams = sum(int(t.n_elements) for t in r.tensors)
    ftypes = sorted({t.tensor_type.name for t in r.tensors})
    return nbytes, nparams, ftypes


def qg_ppl(qg, model, text, ctx, threads):
    t0 = time.time()
    out = subprocess.run([qg, "perplexity", "-m", model, "-f", text, "--ctx", str(ctx), "--threads", str(threads)],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", out)
    if not m:
        raise SystemExit("no PPL in qg perplexity output:\n" + out)
    return float(m.group(1)), float(m.group(2)), time.time() - t0


def llama_ppl(model, text, ctx, threads):
    from llama_cpp import Llama
    import llama_cpp
    llm = Llama(model_path=model, n_ctx=ctx, n_threads=threads, n_threads_batch=threads, n_batch=ctx,
                logits_all=True, seed=0, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
    with open(text, encoding="utf-8") as f:
        tokens = llm.tokenize(f.read().encode("utf-8"), add_bos=True, special=False)
    nll, nll2, count = 0.0, 0.0, 0
    for i in range(len(tokens) // ctx):
        chunk = list(tokens[i * ctx:(i + 1) * ctx])
        if add_bos:
            chunk[0] = llama_cpp.llama_vocab_bos(vocab)
        llm.reset()
        llm.eval(chunk)
        logits = np.array(llm.scores[:ctx], dtype=np.float64)
        for j in range(ctx // 2, ctx - 1):
            row = logits[j]
            mx = row.max()
            v = mx + np.log(np.exp(row - mx).sum()) - row[tokens[i * ctx + j + 1]]
            nll += v
            nll2 += v * v
            count += 1
    mean = nll / count
    var = nll2 / count - mean * mean
    ppl = float(np.exp(mean))
    return ppl, ppl * float(np.sqrt(var / (count - 1))), llama_cpp.__version__


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qg", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--llama", default="", help="rows also scored with llama-cpp-python")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    llama_rows = [r for r in args.llama.split(",") if r]
    results = []
    for row in args.rows.split(","):
        path = args.source
        q_s = 0.0
        if row != "shipped":
            path = os.path.join(args.out, "model-%s.gguf" % row)
            t0 = time.time()
            subprocess.run([args.qg, "quantize", args.source, path, row, "--threads", str(args.threads)],
                           check=True, capture_output=True)
            q_s = time.time() - t0
        nbytes, nparams, ftypes = sizes(path)
        ppl, err, p_s = qg_ppl(args.qg, path, args.text, args.ctx, args.threads)
        res = {"row": row, "file": path, "file_bytes": os.path.getsize(path), "tensor_bytes": nbytes,
               "params": nparams, "bpw": 8.0 * nbytes / nparams, "types": ftypes, "ppl": ppl, "ppl_err": err,
               "quantize_s": q_s, "perplexity_s": p_s}
        if row in llama_rows:
            lp, le, ver = llama_ppl(path, args.text, args.ctx, args.threads)
            res.update({"llama_ppl": lp, "llama_ppl_err": le, "llama_cpp_python": ver})
        results.append(res)
        print(json.dumps(res), flush=True)
    base = results[0]["ppl"] if results and results[0]["row"] == "shipped" else None
    print("\n| type | size (MiB) | bits/weight | PPL (qg) | vs shipped | PPL (llama.cpp) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        rel = "%+.2f%%" % (100.0 * (r["ppl"] / base - 1.0)) if base else ""
        lc = "%.4f +/- %.4f" % (r["llama_ppl"], r["llama_ppl_err"]) if "llama_ppl" in r else ""
        print("| %s | %.2f | %.2f | %.4f +/- %.4f | %s | %s |" % (
            r["row"], r["tensor_bytes"] / 2**20, r["bpw"], r["ppl"], r["ppl_err"], rel, lc))
    with open(os.path.join(args.out, "ppl-table.json"), "w") as f:
        json.dump({"ctx": args.ctx, "text": args.text, "source": args.source, "rows": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
