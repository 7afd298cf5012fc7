#!/usr/bin/env python3
"""Writes the seed corpus of the tokenizer fuzz target (tests/fuzz/corpus/tokenizer).

Each seed is one fuzz input: a mode byte followed by the payload (see fuzz_tokenizer.c).
Mode 2 seeds carry whole GGUF images holding small tokenizer vocabularies written with
the official `gguf` package: a GPT-2 style byte-level BPE ("gpt2"/"smollm" with merges and
ChatML special tokens) and a SentencePiece style one ("llama", scores and byte tokens).
The same two files also serve as the fixed vocabularies for the text modes.
Run: python3 tests/fuzz/make_tokenizer_seeds.py  (rewrites the directory's seeds)
"""
import os
import tempfile

import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "tokenizer")
VOCAB = os.path.join(HERE, "vocab")

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
          "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def byte_chars():
    """GPT-2's printable stand-ins for the 256 byte values."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return out


def write(path, fill):
    w = gguf.GGUFWriter(path, "llama")
    fill(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def bpe(w):
    bc = byte_chars()
    tokens = [bc[b] for b in range(256)]
    merges = []
    for a, b in [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("e", "r"), ("Ġ", "a"),
                 ("o", "n"), ("Ġ", "s"), ("r", "e"), ("Ġ", "c"), ("1", "2"), ("Ġ", "Ġ"),
                 ("ĠĠ", "ĠĠ"), ("Ċ", "Ċ"), ("in", "g"), ("Ġa", "nd")]:
        merges.append(a + " " + b)
        if a + b not in tokens:
            tokens.append(a + b)
    types = [1] * len(tokens)
    for s in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]:
        tokens.append(s)
        types.append(3)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(len(tokens) - 2)
    w.add_eos_token_id(len(tokens) - 1)
    w.add_chat_template(CHATML)


def spm(w):
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    scores = [0.0] * len(tokens)
    pieces = ["▁", "▁t", "he", "▁the", "▁a", "in", "er", "on", "▁s", "ing", "▁and", "12", "▁▁"]
    pieces += [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)]
    for i, p in enumerate(pieces):
        tokens.append(p)
        types.append(1)
        scores.append(-float(i))
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_scores(scores)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(VOCAB, exist_ok=True)
    for name, fill in [("bpe", bpe), ("spm", spm)]:
        path = os.path.join(VOCAB, name + ".gguf")
        write(path, fill)
        with open(path, "rb") as f:
            image = f.read()
        with open(os.path.join(OUT, "load-" + name), "wb") as f:
            f.write(b"\x02" + image)
    texts = ["Hello world", "the  thing\n\n12345 and ing", "<|im_start|>user\nhi<|im_end|>",
             "caf\u00e9 \u65e5\u672c \U0001f600", "\t  x\r\n", "int main() { return 0; }"]
    for i, t in enumerate(texts):
        for mode in (0, 1):
            with open(os.path.join(OUT, "text-%d-%d" % (mode, i)), "wb") as f:
                f.write(bytes([mode, 3]) + t.encode("utf-8"))
    with open(os.path.join(OUT, "chat-0"), "wb") as f:
        f.write(b"\x03" + CHATML.encode() + b"\x00" + "hello \u00e9".encode())


if __name__ == "__main__":
    main()
