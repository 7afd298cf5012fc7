#!/usr/bin/env python3
"""CLI checks of `qg quantize` and `qg info` against independent references.

Inputs are written with the official `gguf` package's GGUFWriter; outputs are parsed by
the small GGUF reader below (gguf-py's reader rejects qgraph's FP8 type ids) and decoded
with gguf-py's numpy dequantizers, ml_dtypes (FP8) or numpy (F16, Q8_1, MXFP8). The
ggml-written tests/data/ref/quant/ref-<type>.gguf files give the expected bytes and the
error ggml's own quantizer reaches on the same input.

usage: cli_quant.py MODE --qg PATH --data DIR --workdir DIR
modes: roundtrip refbytes mix bad info safetensors
Exits 77 when numpy / gguf / ml_dtypes are missing.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import time

try:
    import numpy as np
    import gguf
    import gguf.quants
    import ml_dtypes
except ImportError as e:  # pragma: no cover
    print(f"SKIPPED: python module missing: {e}")
    sys.exit(77)

# qgraph type ids (GGUF ids, plus 1000+ for FP8) and block geometry
TYPES = {
    "f32": (0, 1, 4), "f16": (1, 1, 2), "q4_0": (2, 32, 18), "q4_1": (3, 32, 20), "q5_0": (6, 32, 22),
    "q5_1": (7, 32, 24), "q8_0": (8, 32, 34), "q8_1": (9, 32, 36), "q2_K": (10, 256, 84), "q3_K": (11, 256, 110),
    "q4_K": (12, 256, 144), "q5_K": (13, 256, 176), "q6_K": (14, 256, 210), "iq4_nl": (20, 32, 18),
    "iq4_xs": (23, 256, 136), "bf16": (30, 1, 2), "tq1_0": (34, 256, 54), "tq2_0": (35, 256, 66),
    "mxfp4": (39, 32, 17), "nvfp4": (40, 64, 36), "f8_e4m3": (1000, 1, 1), "f8_e5m2": (1001, 1, 1),
    "mxfp8_e4m3": (1002, 32, 33), "mxfp8_e5m2": (1003, 32, 33),
}
ID_TO_NAME = {v[0]: k for k, v in TYPES.items()}
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


# ---- a minimal GGUF reader (spec: header, kvs, tensor infos, aligned data) ----
def read_gguf(path):
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = buf[pos:pos + n].decode()
        pos += n
        return s

    scal = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(scal[t])

    assert buf[:4] == b"GGUF", "bad magic"
    pos = 4
    take("I")
    n_t, n_kv = take("Q"), take("Q")
    kv = {}
    for _ in range(n_kv):
        k = string()
        kv[k] = value(take("I"))
    infos = []
    for _ in range(n_t):
        name = string()
        nd = take("I")
        ne = [take("Q") for _ in range(nd)]
        infos.append((name, ne, take("I"), take("Q")))
    align = kv.get("general.alignment", 32)
    start = (pos + align - 1) // align * align
    tensors = {}
    for name, ne, t, off in infos:
        tname = ID_TO_NAME[t]
        _, bs, ts = TYPES[tname]
        nel = int(np.prod(ne))
        nbytes = nel // bs * ts
        tensors[name] = (tname, ne, buf[start + off:start + off + nbytes])
    return kv, tensors


def decode(tname, raw, n):
    a = np.frombuffer(raw, dtype=np.uint8)
    if tname == "f32":
        return a.view(np.float32).astype(np.float64)
    if tname == "f16":
        return a.view(np.float16).astype(np.float64)
    if tname == "bf16":
        return a.view(ml_dtypes.bfloat16).astype(np.float64)
    if tname == "f8_e4m3":
        return a.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
    if tname == "f8_e5m2":
        return a.view(ml_dtypes.float8_e5m2).astype(np.float64)
    if tname.startswith("mxfp8"):
        blocks = a.reshape(-1, 33)
        el = ml_dtypes.float8_e4m3fn if tname.endswith("e4m3") else ml_dtypes.float8_e5m2
        scale = np.exp2(blocks[:, 0].astype(np.float64) - 127)
        q = np.ascontiguousarray(blocks[:, 1:]).view(el).astype(np.float64)
        return (q * scale[:, None]).reshape(-1)
    if tname == "q8_1":
        blocks = a.reshape(-1, 36)
        d = np.ascontiguousarray(blocks[:, 0:2]).view(np.float16).astype(np.float64)
        q = np.ascontiguousarray(blocks[:, 4:]).view(np.int8).astype(np.float64)
        return (q * d).reshape(-1)
    qt = gguf.GGMLQuantizationType[tname.upper()]
    return gguf.quants.dequantize(a, qt).astype(np.float64).reshape(-1)[:n]


def ref_file(data, tname):
    p = os.path.join(data, "ref", "quant", f"ref-{tname}.gguf")
    return p if os.path.exists(p) else None


def ref_tensors(path):
    r = gguf.GGUFReader(path)
    out = {t.name: t for t in r.tensors}
    meta = {}
    for f in r.fields.values():
        if f.name.startswith("ref.") and f.types and f.types[0] == gguf.GGUFValueType.FLOAT32:
            meta[f.name] = float(f.parts[f.data[0]][0])
    return out, meta


def write_f32(path, tensors, kv=None):
    w = gguf.GGUFWriter(path, arch="llama")
    for k, v in (kv or {}).items():
        if isinstance(v, int):
            w.add_uint32(k, v)
        else:
            w.add_string(k, v)
    for name, arr in tensors:
        w.add_tensor(name, np.ascontiguousarray(arr, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def qg(args, qgpath, check_rc=True):
    p = subprocess.run([qgpath] + args, capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        print(p.stdout, p.stderr)
    return p


def ref_input(data):
    t, _ = ref_tensors(ref_file(data, "q4_0"))
    return np.array(t["input"].data, dtype=np.float32).reshape(8, 2048)


def mode_roundtrip(a):
    x = ref_input(a.data)
    src = os.path.join(a.workdir, "rt-in.gguf")
    write_f32(src, [("input.weight", x)])
    targets = ["f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q8_1", "q2_K", "q3_K", "q4_K", "q5_K",
               "q6_K", "iq4_nl", "iq4_xs", "tq1_0", "tq2_0", "mxfp4", "nvfp4", "f8_e4m3", "f8_e5m2", "mxfp8_e4m3",
               "mxfp8_e5m2"]
    fp8_bound = {"f8_e4m3": 2.0 ** -8, "f8_e5m2": 2.0 ** -6, "mxfp8_e4m3": 2.0 ** -8, "mxfp8_e5m2": 2.0 ** -6}
    for tn in targets:
        out = os.path.join(a.workdir, f"rt-{tn}.gguf")
        p = qg(["quantize", src, out, tn.lower(), "--threads", "2"], a.qg)
        if p.returncode != 0:
            check(False, f"roundtrip {tn}: qg quantize exit {p.returncode}")
            continue
        kv, ts = read_gguf(out)
        tname, ne, raw = ts["input.weight"]
        check(tname == tn and ne == [2048, 8], f"roundtrip {tn}: stored as {tname} {ne}")
        if tname != tn:
            continue
        y = decode(tname, raw, x.size)
        xd = x.reshape(-1).astype(np.float64)
        nmse = float(np.sum((y - xd) ** 2) / np.sum(xd ** 2))
        rf = ref_file(a.data, tn)
        if rf:
            rt, meta = ref_tensors(rf)
            rx = np.array(rt["input"].data, dtype=np.float64).reshape(-1)
            same_input = np.array_equal(rx, xd)
            bound = meta["ref.nmse"] * 1.02 + 1e-12 if same_input else None
        else:
            bound = fp8_bound.get(tn, 0.0 if tn == "f32" else None)
        if bound is None:
            check(False, f"roundtrip {tn}: no reference bound")
            continue
        check(nmse <= bound, f"roundtrip {tn}: nmse {nmse:.3e} <= {bound:.3e} (ggml's reference error)")
        if tn in ("f8_e4m3", "f8_e5m2"):
            el = ml_dtypes.float8_e4m3fn if tn == "f8_e4m3" else ml_dtypes.float8_e5m2
            check(np.array_equal(x.reshape(-1).astype(el).view(np.uint8), np.frombuffer(raw, np.uint8)),
                  f"roundtrip {tn}: bytes equal ml_dtypes' round-to-nearest-even conversion")
        if tn.startswith(("f8", "mxfp8")):
            check(kv.get("qgraph.fp8") is True, f"roundtrip {tn}: qgraph.fp8 = true")
    # threads split rows only: the bytes must not depend on the thread count
    outs = []
    for n in ("1", "5"):
        out = os.path.join(a.workdir, f"rt-threads{n}.gguf")
        qg(["quantize", src, out, "q4_k", "--threads", n], a.qg)
        outs.append(read_gguf(out)[1]["input.weight"][2])
    check(outs[0] == outs[1], "q4_K output identical with 1 and 5 threads")


def mode_refbytes(a):
    for tn in ["f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q8_1"]:
        rt, _ = ref_tensors(ref_file(a.data, tn))
        x = np.array(rt["input"].data, dtype=np.float32).reshape(8, 2048)
        src = os.path.join(a.workdir, f"ref-in-{tn}.gguf")
        out = os.path.join(a.workdir, f"ref-out-{tn}.gguf")
        write_f32(src, [("input.weight", x)])
        p = qg(["quantize", src, out, tn], a.qg)
        if p.returncode != 0:
            check(False, f"refbytes {tn}: exit {p.returncode}")
            continue
        _, ts = read_gguf(out)
        # the ref's bytes through our reader: gguf-py sizes Q8_1 blocks as 40 bytes, ggml as 36
        want = read_gguf(ref_file(a.data, tn))[1]["quant"][2]
        check(ts["input.weight"][2] == want, f"refbytes {tn}: {len(want)} bytes identical to ggml's quant")


def llama_like(n_layer=8, d=256, ff=512, vocab=512):
    rng = np.random.default_rng(1)
    ts = [("token_embd.weight", rng.standard_normal((vocab, d)))]
    for i in range(n_layer):
        for nm, shape in [("attn_norm.weight", (d,)), ("attn_q.weight", (d, d)), ("attn_k.weight", (d // 4, d)),
                          ("attn_v.weight", (d // 4, d)), ("attn_output.weight", (d, d)), ("ffn_norm.weight", (d,)),
                          ("ffn_gate.weight", (ff, d)), ("ffn_up.weight", (ff, d)), ("ffn_down.weight", (d, ff))]:
            ts.append((f"blk.{i}.{nm}", rng.standard_normal(shape) * 0.1))
    ts += [("output_norm.weight", np.ones(d)), ("output.weight", rng.standard_normal((vocab, d)) * 0.1)]
    return ts


def mode_mix(a):
    n_layer = 8
    src = os.path.join(a.workdir, "llama8.gguf")
    # 8 heads over 8 kv heads: GQA factor 1, so Q2_K-style GQA rules stay off
    write_f32(src, llama_like(n_layer), {"llama.block_count": n_layer, "llama.attention.head_count": 8,
                                         "llama.attention.head_count_kv": 8})
    more_bits = [i < n_layer // 8 or i >= 7 * n_layer // 8 or (i - n_layer // 8) % 3 == 2 for i in range(n_layer)]
    expect = {"token_embd.weight": "q4_K", "output.weight": "q6_K", "output_norm.weight": "f32"}
    for i in range(n_layer):
        expect.update({f"blk.{i}.attn_norm.weight": "f32", f"blk.{i}.ffn_norm.weight": "f32",
                       f"blk.{i}.attn_q.weight": "q4_K", f"blk.{i}.attn_k.weight": "q4_K",
                       f"blk.{i}.attn_output.weight": "q4_K", f"blk.{i}.ffn_gate.weight": "q4_K",
                       f"blk.{i}.ffn_up.weight": "q4_K",
                       f"blk.{i}.attn_v.weight": "q6_K" if more_bits[i] else "q4_K",
                       f"blk.{i}.ffn_down.weight": "q6_K" if more_bits[i] else "q4_K"})
    out = os.path.join(a.workdir, "llama8-q4_k_m.gguf")
    p = qg(["quantize", src, out, "q4_k_m"], a.qg)
    check(p.returncode == 0, "mix q4_k_m: exit 0")
    if p.returncode != 0:
        return
    kv, ts = read_gguf(out)
    bad = [f"{n}: {ts[n][0]} (want {t})" for n, t in expect.items() if ts[n][0] != t]
    check(not bad, f"mix q4_k_m: {len(expect)} tensor types as llama.cpp chooses {bad[:4]}")
    check(kv.get("general.file_type") == 15 and kv.get("general.quantization_version") == 2,
          "mix q4_k_m: general.file_type 15, quantization_version 2")
    check(kv.get("llama.block_count") == n_layer, "mix q4_k_m: metadata copied")
    # --keep: matching tensors stay in their source type
    out2 = os.path.join(a.workdir, "llama8-keep.gguf")
    p = qg(["quantize", src, out2, "q4_k_m", "--keep", "^blk\\.0\\.|^output\\.weight$"], a.qg)
    _, ts2 = read_gguf(out2)
    check(p.returncode == 0 and ts2["blk.0.attn_q.weight"][0] == "f32" and ts2["output.weight"][0] == "f32"
          and ts2["blk.1.attn_q.weight"][0] == "q4_K", "--keep keeps matching tensors as f32")
    # a row length that divides 32 but not 256 falls back (q4_K -> q5_0) and is listed
    src3 = os.path.join(a.workdir, "odd.gguf")
    write_f32(src3, [("blk.0.ffn_up.weight", np.ones((4, 96)))])
    out3 = os.path.join(a.workdir, "odd-q4_k_m.gguf")
    p = qg(["quantize", src3, out3, "q4_k_m"], a.qg)
    _, ts3 = read_gguf(out3)
    check(p.returncode == 0 and ts3["blk.0.ffn_up.weight"][0] == "q5_0" and "fallback" in p.stdout,
          "fallback q4_K -> q5_0 for a 96-wide row, listed in the summary")


def mode_bad(a):
    bad = os.path.join(a.workdir, "bad.gguf")
    with open(bad, "wb") as f:
        f.write(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
    out = os.path.join(a.workdir, "bad-out.gguf")
    for args, what in [([bad, out, "q4_0"], "malformed GGUF"), ([bad + ".missing", out, "q4_0"], "missing file"),
                       ([ref_file(a.data, "q4_0"), out, "no_such_type"], "unknown type")]:
        p = qg(["quantize"] + args, a.qg, check_rc=False)
        left = [f for f in os.listdir(a.workdir) if f.startswith("bad-out")]
        check(p.returncode != 0 and not left and p.stderr.strip() != "",
              f"bad input ({what}): exit {p.returncode}, message '{p.stderr.strip()[:80]}', no output file")


def mode_info(a):
    rf = ref_file(a.data, "q4_K")
    p = qg(["info", rf], a.qg)
    check(p.returncode == 0 and "q4_K" in p.stdout and "parameters" in p.stdout, "info on a ref file")
    p = qg(["info", rf, "--json"], a.qg)
    try:
        d = json.loads(p.stdout)
        ok = d["format"] == "gguf" and len(d["tensors"]) == 5 and d["n_params"] == 8 * 2048 * 3 + 2048 + 8
    except (ValueError, KeyError):
        ok = False
    check(p.returncode == 0 and ok, "info --json on a ref file parses and counts parameters")
    # a GGUF whose one tensor claims 1 GiB: the header is real, the data a sparse extension
    big = os.path.join(a.workdir, "sparse-1g.gguf")
    name = b"big.weight"
    hdr = b"GGUF" + struct.pack("<IQQ", 3, 1, 1)
    key = b"general.architecture"
    hdr += struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, 5) + b"llama"
    hdr += struct.pack("<Q", len(name)) + name + struct.pack("<I", 2) + struct.pack("<QQ", 16384, 16384)
    hdr += struct.pack("<IQ", 0, 0)
    data_off = (len(hdr) + 31) // 32 * 32
    with open(big, "wb") as f:
        f.write(hdr + b"\0" * (data_off - len(hdr)))
        f.truncate(data_off + 16384 * 16384 * 4)
    t0 = time.monotonic()
    p = qg(["info", big], a.qg)
    dt = time.monotonic() - t0
    print(f"qg info on a 1 GiB sparse GGUF: {dt * 1000:.1f} ms")
    check(p.returncode == 0 and "268435456" in p.stdout, "info on a 1 GiB file")
    p = qg(["info", big, "--json"], a.qg)
    try:
        d = json.loads(p.stdout)
        est = {e["target"]: e["bytes"] for e in d["memory_estimates"]}
        n = 16384 * 16384
        ok = (est["f32"] == 4 * n and est["f16"] == 2 * n and est["q8_0"] == n // 32 * 34
              and est["q4_0"] == n // 32 * 18 and est["mxfp8_e4m3"] == n // 32 * 33)
    except (ValueError, KeyError):
        ok = False
    check(p.returncode == 0 and ok, "info --json on the 1 GiB file: block-exact estimates")
    os.unlink(big)


def mode_safetensors(a):
    try:
        from safetensors.numpy import save_file
    except ImportError:
        print("SKIPPED: python safetensors missing")
        sys.exit(77)
    n_layer, d = 8, 256
    rng = np.random.default_rng(3)
    ts = {"model.embed_tokens.weight": rng.standard_normal((512, d)).astype(np.float16),
          "lm_head.weight": rng.standard_normal((512, d)).astype(np.float32),
          "model.norm.weight": np.ones(d, dtype=np.float16)}
    for i in range(n_layer):
        p = f"model.layers.{i}."
        ts[p + "self_attn.q_proj.weight"] = rng.standard_normal((d, d)).astype(np.float16)
        ts[p + "self_attn.v_proj.weight"] = rng.standard_normal((d // 4, d)).astype(np.float16)
        ts[p + "mlp.down_proj.weight"] = rng.standard_normal((d, 2 * d)).astype(np.float16)
        ts[p + "input_layernorm.weight"] = np.ones(d, dtype=np.float16)
    ckpt = os.path.join(a.workdir, "hf")
    os.makedirs(ckpt)
    save_file(ts, os.path.join(ckpt, "model.safetensors"), metadata={"format": "pt"})
    cfg = {"model_type": "llama", "num_hidden_layers": n_layer, "num_attention_heads": 8,
           "num_key_value_heads": 8, "rms_norm_eps": 1e-5, "tie_word_embeddings": False,
           "eos_token_id": [1, 2], "rope_scaling": {"type": "linear"}}
    with open(os.path.join(ckpt, "config.json"), "w") as f:
        json.dump(cfg, f)
    out = os.path.join(a.workdir, "hf-q4_k_m.gguf")
    p = qg(["quantize", ckpt, out, "q4_k_m"], a.qg)
    check(p.returncode == 0, "safetensors directory -> q4_k_m: exit 0")
    if p.returncode != 0:
        return
    kv, got = read_gguf(out)
    check(set(got) == set(ts), "safetensors: every tensor name kept")
    more_bits = [i < n_layer // 8 or i >= 7 * n_layer // 8 or (i - n_layer // 8) % 3 == 2 for i in range(n_layer)]
    want = {"model.embed_tokens.weight": "q4_K", "lm_head.weight": "q6_K", "model.norm.weight": "f32"}
    for i in range(n_layer):
        q = "q6_K" if more_bits[i] else "q4_K"
        want.update({f"model.layers.{i}.self_attn.v_proj.weight": q, f"model.layers.{i}.mlp.down_proj.weight": q,
                     f"model.layers.{i}.self_attn.q_proj.weight": "q4_K",
                     f"model.layers.{i}.input_layernorm.weight": "f32"})
    bad = [f"{n}: {got[n][0]} (want {t})" for n, t in want.items() if got[n][0] != t]
    check(not bad, f"safetensors: llama.cpp roles from Hugging Face names {bad[:4]}")
    ne = got["lm_head.weight"][1]
    check(ne == [d, 512], f"safetensors: shape reversed into ne {ne}")
    y = decode("f32", got["model.norm.weight"][2], d)
    check(np.array_equal(y, np.ones(d)), "safetensors: 1-D f16 tensor converted to f32 exactly")
    check(kv.get("qgraph.config.num_hidden_layers") == n_layer and kv.get("qgraph.config.model_type") == "llama"
          and abs(kv.get("qgraph.config.rms_norm_eps", 0) - 1e-5) < 1e-12
          and kv.get("qgraph.config.tie_word_embeddings") is False
          and kv.get("qgraph.config.eos_token_id") == [1, 2] and "qgraph.config.rope_scaling" not in kv,
          "safetensors: config.json scalars and number arrays copied as qgraph.config.*")
    p = qg(["info", os.path.join(ckpt, "model.safetensors"), "--json"], a.qg)
    try:
        dj = json.loads(p.stdout)
        ok = dj["format"] == "safetensors" and len(dj["tensors"]) == len(ts)
        ok = ok and dj["n_params"] == sum(v.size for v in ts.values())
    except (ValueError, KeyError):
        ok = False
    check(p.returncode == 0 and ok, "info --json on safetensors")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["roundtrip", "refbytes", "mix", "bad", "info", "safetensors"])
    ap.add_argument("--qg", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    globals()["mode_" + a.mode](a)
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
