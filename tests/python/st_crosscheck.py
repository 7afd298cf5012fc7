#!/usr/bin/env python3
"""Cross-check qgraph's safetensors reader/writer against the official `safetensors`
package (with numpy and ml_dtypes for BF16 and FP8).

  py2c: python writes a file (and a sharded copy with an index); st_check_tool dump must
        report the same names, dtypes, shapes, sizes, FNV-1a hashes and metadata.
  c2py: st_check_tool write makes a file; safetensors must load it and every value must
        equal the formula the tool used (recomputed here with numpy).
  copy: python writes, st_check_tool copy rewrites it with our writer (also from the
        sharded directory), safetensors loads the copy: same tensors byte for byte.
Exits 77 when a package is missing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

try:
    import ml_dtypes
    import numpy as np
    import safetensors
    import safetensors.numpy as stnp
except ImportError as e:  # pragma: no cover
    print(f"SKIPPED: python package missing: {e}")
    sys.exit(77)

ST_NAME = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8",
    "bool": "BOOL", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
}
NP_OF = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": ml_dtypes.bfloat16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
    "BOOL": np.bool_, "F8_E4M3": ml_dtypes.float8_e4m3fn, "F8_E5M2": ml_dtypes.float8_e5m2,
}
META = {"format": "np", "note": 'quote " backslash \\ newline \n caf\u00e9', "empty": ""}


def fnv1a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def hexs(s: str) -> str:
    return s.encode().hex() if s else "-"


def random_set():
    rng = np.random.default_rng(1234)
    t = {
        "f64": rng.normal(size=(3, 4)),
        "f32": rng.normal(size=(2, 3, 4)).astype(np.float32),
        "f16": rng.normal(size=(5, 7)).astype(np.float16),
        "bf16": rng.normal(size=(4, 6)).astype(ml_dtypes.bfloat16),
        "i64": rng.integers(-2**62, 2**62, size=(6,), dtype=np.int64),
        "i32": rng.integers(-2**31, 2**31, size=(2, 5), dtype=np.int32),
        "i16": rng.integers(-2**15, 2**15, size=(3, 3), dtype=np.int16),
        "i8": rng.integers(-128, 128, size=(16,), dtype=np.int8),
        "u8": rng.integers(0, 256, size=(4, 4), dtype=np.uint8),
        "bool": rng.integers(0, 2, size=(7,)).astype(np.bool_),
        "e4m3": (rng.normal(size=(3, 8)) * 50).astype(ml_dtypes.float8_e4m3fn),
        "e5m2": (rng.normal(size=(8, 3)) * 1000).astype(ml_dtypes.float8_e5m2),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float16),
        "layers.0.attn/\u00fc \"q\"": np.arange(5, dtype=np.float32),
    }
    return t


def expected_lines(tensors, meta):
    lines = [f"meta {hexs(k)} {hexs(v)}" for k, v in meta.items()]
    for name, a in tensors.items():
        dims = ",".join(str(d) for d in a.shape) if a.ndim else "-"
        data = np.ascontiguousarray(a).tobytes()
        lines.append(f"tensor {hexs(name)} {ST_NAME[a.dtype.name]} {dims} {len(data)} {fnv1a(data):016x}")
    return sorted(lines)


def dump(tool, path):
    r = subprocess.run([tool, "dump", path], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: st_check_tool dump {path}: {r.stderr.strip()}")
    return sorted(r.stdout.splitlines())


def compare(what, got, want):
    if got != want:
        print(f"FAIL: {what}")
        for line in sorted(set(want) - set(got)):
            print("  missing:", line)
        for line in sorted(set(got) - set(want)):
            print("  unexpected:", line)
        sys.exit(1)
    print(f"ok: {what} ({len(want)} lines)")


def write_sharded(tensors, meta, d):
    os.makedirs(d, exist_ok=True)
    names = list(tensors)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
    weight_map = {}
    for i, (shard, part) in enumerate(shards.items()):
        stnp.save_file({n: tensors[n] for n in part}, os.path.join(d, shard), metadata=meta if i == 0 else None)
        weight_map.update({n: shard for n in part})
    total = sum(a.nbytes for a in tensors.values())
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f)


def load_raw(path):
    """name -> (dtype, shape, bytes) through the official deserializer, plus metadata."""
    with open(path, "rb") as f:
        raw = f.read()
    out = {name: (info["dtype"], list(info["shape"]), bytes(info["data"])) for name, info in safetensors.deserialize(raw)}
    with safetensors.safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
        keys = set(f.keys())
    if keys != set(out):
        raise SystemExit(f"FAIL: safe_open and deserialize disagree on the keys of {path}")
    return out, meta


def mode_py2c(tool, work):
    t = random_set()
    p = os.path.join(work, "py.safetensors")
    stnp.save_file(t, p, metadata=META)
    want = expected_lines(t, META)
    compare("python-written file read by qgraph", dump(tool, p), want)
    write_sharded(t, META, os.path.join(work, "sharded"))
    compare("python-written sharded checkpoint (directory) read by qgraph", dump(tool, os.path.join(work, "sharded")), want)
    compare("python-written sharded checkpoint (index) read by qgraph",
            dump(tool, os.path.join(work, "sharded", "model.safetensors.index.json")), want)


C_SET = [("f64", "F64", [3, 4]), ("f32", "F32", [2, 3, 4]), ("f16", "F16", [5, 7]), ("bf16", "BF16", [4, 6]),
         ("i64", "I64", [6]), ("i32", "I32", [2, 5]), ("i16", "I16", [3, 3]), ("i8", "I8", [16]),
         ("u8", "U8", [4, 4]), ("bool", "BOOL", [7]), ("e4m3", "F8_E4M3", [3, 8]), ("e5m2", "F8_E5M2", [8, 3]),
         ("scalar", "F32", []), ("empty", "F16", [0, 4])]


def formula(dtype, n):
    i = np.arange(n, dtype=np.int64)
    if dtype in ("F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"):
        return (((i * 7) % 17 - 8) * 0.25).astype(NP_OF[dtype])
    return {
        "I64": lambda: i * 1000000007 - 3000000000,
        "I32": lambda: (i * 100003 - 500000).astype(np.int32),
        "I16": lambda: ((i * 3001) % 65536 - 32768).astype(np.int16),
        "I8": lambda: ((i * 37) % 256 - 128).astype(np.int8),
        "U8": lambda: ((i * 37) % 256).astype(np.uint8),
        "BOOL": lambda: (i % 3 == 0),
    }[dtype]().astype(NP_OF[dtype])


def mode_c2py(tool, work):
    p = os.path.join(work, "c.safetensors")
    r = subprocess.run([tool, "write", p], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: st_check_tool write: {r.stderr.strip()}")
    got, meta = load_raw(p)
    want_meta = {"format": "pt", "note": 'quote " backslash \\ newline \n caf\u00e9'}
    if meta != want_meta:
        raise SystemExit(f"FAIL: metadata {meta!r} != {want_meta!r}")
    if set(got) != {n for n, _, _ in C_SET}:
        raise SystemExit(f"FAIL: tensor names {sorted(got)}")
    for name, dtype, shape in C_SET:
        gd, gs, data = got[name]
        n = int(np.prod(shape)) if shape else 1
        want = formula(dtype, n).tobytes()
        if gd != dtype or gs != shape or data != want:
            vals = np.frombuffer(data, dtype=NP_OF[gd])[:8] if gd in NP_OF else data[:16]
            raise SystemExit(f"FAIL: {name}: got {gd} {gs} {vals} want {dtype} {shape} {formula(dtype, n)[:8]}")
    # numpy's loader for the dtypes it knows (it has no BF16/FP8): values as arrays.
    with safetensors.safe_open(p, framework="numpy") as f:
        for name, dtype, shape in C_SET:
            if dtype in ("BF16", "F8_E4M3", "F8_E5M2"):
                continue
            a = f.get_tensor(name)
            if list(a.shape) != shape or not np.array_equal(a.reshape(-1), formula(dtype, a.size)):
                raise SystemExit(f"FAIL: safe_open get_tensor({name}) values differ")
    print(f"ok: qgraph-written file loaded by safetensors {safetensors.__version__}: {len(C_SET)} tensors, metadata equal")


def mode_copy(tool, work):
    t = random_set()
    src = os.path.join(work, "src.safetensors")
    stnp.save_file(t, src, metadata=META)
    write_sharded(t, META, os.path.join(work, "sharded"))
    for label, inp in (("file", src), ("sharded directory", os.path.join(work, "sharded"))):
        out = os.path.join(work, "copy.safetensors")
        r = subprocess.run([tool, "copy", inp, out], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"FAIL: st_check_tool copy {inp}: {r.stderr.strip()}")
        got, meta = load_raw(out)
        if meta != META:
            raise SystemExit(f"FAIL: copied metadata {meta!r}")
        if set(got) != set(t):
            raise SystemExit(f"FAIL: copied names {sorted(got)}")
        for name, a in t.items():
            gd, gs, data = got[name]
            if gd != ST_NAME[a.dtype.name] or gs != list(a.shape) or data != a.tobytes():
                raise SystemExit(f"FAIL: copied tensor {name!r} differs")
        with open(out, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
        if (8 + n) % 8:
            raise SystemExit(f"FAIL: header length {n} leaves the data unaligned")
        print(f"ok: {label} copied by qgraph's writer, reloaded by safetensors: {len(t)} tensors equal")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["py2c", "c2py", "copy"])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    {"py2c": mode_py2c, "c2py": mode_c2py, "copy": mode_copy}[a.mode](a.tool, a.workdir)


if __name__ == "__main__":
    main()
