#!/usr/bin/env python3
"""Write a tiny random llama-architecture GGUF with the official `gguf` package.

The long-run and context-shift tests (tests/test_llama_long.c) and tools/valgrind-check.sh
need a model that loads through the same code as a real one (hyper-parameters, weights by
their llama.cpp names, an SPM vocabulary with byte tokens so the tokenizer loads) but
evaluates a token in well under a millisecond. Weights are seeded normal values scaled
like an initialised network, so logits are finite and sampling is not degenerate.

usage: make_tiny_llama.py OUT.gguf [--layers 2] [--embd 64] [--heads 4] [--kv-heads 2]
                          [--ff 128] [--ctx 128] [--seed 1]
Exits 77 (the tests' "skipped" code) when the gguf package is missing.
"""
import argparse
import sys

try:
    import numpy as np
    import gguf
except ImportError as e:  # the test that needs the file then skips
    print(f"SKIPPED: python package missing: {e}")
    sys.exit(77)

# Word pieces after the 3 control and 256 byte tokens: 300 tokens in all.
PIECES = ["▁", "e", "t", "a", "o", "i", "n", "s", "h", "r", "d", "l", "u", "▁t", "▁a", "he",
          "in", "er", "an", "▁the", "on", "re", "at", "en", "nd", "▁s", "▁o", "es", "▁w", "is",
          "▁c", "or", "ed", "it", "▁b", "ing", "▁f", "ar", "▁m", "▁p", "ll"]


def vocab():
    toks, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    for b in range(256):
        toks.append(f"<0x{b:02X}>")
        scores.append(0.0)
        types.append(6)
    for i, p in enumerate(PIECES):
        toks.append(p)
        scores.append(-float(i))  # earlier pieces merge first
        types.append(1)
    return toks, scores, types


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--embd", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ff", type=int, default=128)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    toks, scores, types = vocab()
    n_vocab, d, hd = len(toks), a.embd, a.embd // a.heads
    d_kv = hd * a.kv_heads
    rng = np.random.default_rng(a.seed)

    def mat(rows, cols):  # numpy (rows, cols) is a GGUF tensor [cols, rows]
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    def norm_w():
        return (1.0 + 0.1 * rng.standard_normal(d)).astype(np.float32)

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name("tiny-random-llama")
    w.add_context_length(a.ctx)
    w.add_embedding_length(d)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(a.ff)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.kv_heads)
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_tensor("token_embd.weight", mat(n_vocab, d) * 4.0)
    for il in range(a.layers):
        p = f"blk.{il}."
        w.add_tensor(p + "attn_norm.weight", norm_w())
        w.add_tensor(p + "attn_q.weight", mat(d, d))
        w.add_tensor(p + "attn_k.weight", mat(d_kv, d))
        w.add_tensor(p + "attn_v.weight", mat(d_kv, d))
        w.add_tensor(p + "attn_output.weight", mat(d, d))
        w.add_tensor(p + "ffn_norm.weight", norm_w())
        w.add_tensor(p + "ffn_gate.weight", mat(a.ff, d))
        w.add_tensor(p + "ffn_up.weight", mat(a.ff, d))
        w.add_tensor(p + "ffn_down.weight", mat(d, a.ff))
    w.add_tensor("output_norm.weight", norm_w())
    w.add_tensor("output.weight", mat(n_vocab, d))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {a.out}: {a.layers} layers, dim {d}, {a.heads} heads ({a.kv_heads} kv), vocab {n_vocab}, "
          f"ctx {a.ctx}")


if __name__ == "__main__":
    main()
