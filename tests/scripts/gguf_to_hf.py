#!/usr/bin/env python3
"""Turn a llama-architecture GGUF into a Hugging Face style checkpoint directory.

No safetensors llama checkpoint ships on the test machines, so the tests make one from
the GGUF model with the official `gguf`, `safetensors` and `numpy` packages: every tensor
is dequantized (gguf.quants.dequantize) and written with its Hugging Face name, in the
Hugging Face layout (the rows of q_proj / k_proj un-permuted: llama.cpp's converter
interleaves the two rotary halves of each head, Hugging Face keeps them apart), plus
config.json, tokenizer.json (BPE vocab + merges + added tokens + the SmolLM pre-tokenizer)
and tokenizer_config.json (special tokens, chat template).

With --dtype f32 the weights are exactly the GGUF's dequantized values; f16/bf16 round
them. --shards N > 1 splits the tensors over N files with a model.safetensors.index.json.

    gguf_to_hf.py MODEL.gguf OUTDIR [--dtype f32|f16|bf16] [--shards N] [--merges strings|pairs]
"""
import argparse
import json
import os
import sys

import numpy as np
import gguf
from gguf.quants import dequantize
from safetensors.numpy import save_file


def field(reader, key):
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def unpermute(w, n_head):
    """Inverse of llama.cpp's convert permute: GGUF rows (h, i, pair) -> HF rows (h, pair, i)."""
    rows = w.shape[0]
    hd = rows // n_head
    return w.reshape(n_head, hd // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


HF_NAMES = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}


def hf_name(name):
    if name == "token_embd.weight":
        return "model.embed_tokens.weight"
    if name == "output_norm.weight":
        return "model.norm.weight"
    if name == "output.weight":
        return "lm_head.weight"
    parts = name.split(".")
    if len(parts) == 4 and parts[0] == "blk" and parts[2] in HF_NAMES and parts[3] == "weight":
        return "model.layers.%s.%s.weight" % (parts[1], HF_NAMES[parts[2]])
    raise SystemExit("gguf_to_hf: no Hugging Face name for tensor %s" % name)


def convert_tensors(reader, n_head, n_head_kv, dtype):
    out = {}
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type)
        shape = [int(x) for x in reversed(t.shape)]  # GGUF shape is innermost first
        w = np.asarray(w, dtype=np.float32).reshape(shape)
        if t.name.endswith("attn_q.weight"):
            w = unpermute(w, n_head)
        elif t.name.endswith("attn_k.weight"):
            w = unpermute(w, n_head_kv)
        if dtype == "f16":
            w = w.astype(np.float16)
        elif dtype == "bf16":
            import ml_dtypes
            w = w.astype(ml_dtypes.bfloat16)
        out[hf_name(t.name)] = np.ascontiguousarray(w)
    return out


def write_tensors(tensors, outdir, shards):
    names = list(tensors)
    if shards <= 1:
        save_file(tensors, os.path.join(outdir, "model.safetensors"), metadata={"format": "pt"})
        return
    weight_map, total = {}, 0
    for s in range(shards):
        part = {n: tensors[n] for n in names[s::shards]}
        fname = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
        save_file(part, os.path.join(outdir, fname), metadata={"format": "pt"})
        for n, v in part.items():
            weight_map[n] = fname
            total += v.nbytes
    with open(os.path.join(outdir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


def write_config(reader, tensors, outdir, dtype):
    a = "llama."
    n_embd = int(field(reader, a + "embedding_length"))
    n_head = int(field(reader, a + "attention.head_count"))
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": n_embd,
        "intermediate_size": int(field(reader, a + "feed_forward_length")),
        "num_hidden_layers": int(field(reader, a + "block_count")),
        "num_attention_heads": n_head,
        "num_key_value_heads": int(field(reader, a + "attention.head_count_kv") or n_head),
        "head_dim": n_embd // n_head,
        "max_position_embeddings": int(field(reader, a + "context_length")),
        "rms_norm_eps": float(field(reader, a + "attention.layer_norm_rms_epsilon")),
        "rope_theta": float(field(reader, a + "rope.freq_base") or 10000.0),
        "rope_scaling": None,
        "vocab_size": int(tensors["model.embed_tokens.weight"].shape[0]),
        "tie_word_embeddings": "lm_head.weight" not in tensors,
        "hidden_act": "silu",
        "torch_dtype": {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[dtype],
        "bos_token_id": field(reader, "tokenizer.ggml.bos_token_id"),
        "eos_token_id": field(reader, "tokenizer.ggml.eos_token_id"),
    }
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def write_tokenizer(reader, outdir, merges_format):
    if field(reader, "tokenizer.ggml.model") != "gpt2" or field(reader, "tokenizer.ggml.pre") != "smollm":
        raise SystemExit("gguf_to_hf: only the gpt2/smollm tokenizer is converted")
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = field(reader, "tokenizer.ggml.merges")
    added = []
    for i, (text, tt) in enumerate(zip(tokens, types)):
        if tt in (3, 4):  # control / user-defined tokens are "added tokens" in HF terms
            added.append({"id": i, "content": text, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": tt == 4, "special": tt == 3})
    if merges_format == "pairs":
        merges = [m.split(" ", 1) for m in merges]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, byte_level]},
        "post_processor": dict(byte_level, add_prefix_space=True, trim_offsets=False),
        "decoder": dict(byte_level, add_prefix_space=True),
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges},
    }
    with open(os.path.join(outdir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)

    def special(key):
        v = field(reader, key)
        return tokens[v] if v is not None and 0 <= v < len(tokens) else None

    cfg = {
        "add_bos_token": bool(field(reader, "tokenizer.ggml.add_bos_token")),
        "add_prefix_space": False,
        "bos_token": special("tokenizer.ggml.bos_token_id"),
        "eos_token": special("tokenizer.ggml.eos_token_id"),
        "unk_token": special("tokenizer.ggml.unknown_token_id"),
        "pad_token": special("tokenizer.ggml.padding_token_id"),
        "model_max_length": int(field(reader, "llama.context_length")),
        "tokenizer_class": "GPT2Tokenizer",
        "additional_special_tokens": [a["content"] for a in added if a["special"]],
    }
    tmpl = field(reader, "tokenizer.chat_template")
    if tmpl is not None:
        cfg["chat_template"] = tmpl
    with open(os.path.join(outdir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gguf")
    ap.add_argument("outdir")
    ap.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--merges", choices=["strings", "pairs"], default="strings")
    args = ap.parse_args()
    reader = gguf.GGUFReader(args.gguf)
    if field(reader, "general.architecture") != "llama":
        raise SystemExit("gguf_to_hf: %s is not a llama model" % args.gguf)
    n_head = int(field(reader, "llama.attention.head_count"))
    n_head_kv = int(field(reader, "llama.attention.head_count_kv") or n_head)
    os.makedirs(args.outdir, exist_ok=True)
    tensors = convert_tensors(reader, n_head, n_head_kv, args.dtype)
    write_tensors(tensors, args.outdir, args.shards)
    write_config(reader, tensors, args.outdir, args.dtype)
    write_tokenizer(reader, args.outdir, args.merges)
    print("gguf_to_hf: wrote %d tensors (%s) to %s" % (len(tensors), args.dtype, args.outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
