#!/usr/bin/env python3
"""Cross-checks qgraph's GGUF reader and writer against the official `gguf` package.

Modes (each one ctest case, see tests/gguf_python.cmake):
  py2c  gguf.GGUFWriter writes files with every value type (nested arrays and arrays
        of strings included) and several tensors; our reader (gguf_check_tool check)
        must see exactly what was written; then our writer copies each file
        (gguf_check_tool copy) and GGUFReader must find the copy identical in every
        field part and tensor byte (this is what checks nested array contents).
  c2py  our writer writes a file (gguf_check_tool write) together with a JSON of its
        inputs; GGUFReader must read back every kv and tensor byte.
  ref   for every ggml-written tests/data/ref/quant/*.gguf, GGUFReader's view is dumped
        to JSON and our reader must agree field by field and byte by byte.

The JSON format is described in tests/gguf_check_tool.c. Exits 77 with "SKIPPED: ..."
when the gguf package cannot be imported, 1 on any mismatch.
"""
import argparse
import glob
import json
import os
import struct
import subprocess
import sys

try:
    import numpy as np
    import gguf
except ImportError:
    print("SKIPPED: python gguf package not installed")
    sys.exit(77)

VT = gguf.GGUFValueType
FLOATS = {VT.FLOAT32, VT.FLOAT64}
INTS = {VT.UINT8, VT.INT8, VT.UINT16, VT.INT16, VT.UINT32, VT.INT32, VT.UINT64, VT.INT64}
failures = []


def fail(msg):
    failures.append(msg)
    print("MISMATCH:", msg)


def jscalar(vtype, v):
    """A python/numpy scalar in the JSON form of tests/gguf_check_tool.c."""
    vtype = VT(vtype)
    if vtype == VT.BOOL:
        return bool(v)
    if vtype in FLOATS:
        return float(v).hex()
    if vtype in INTS:
        return str(int(v))
    if vtype == VT.STRING:
        return (v.encode() if isinstance(v, str) else bytes(v)).hex()
    raise ValueError(vtype)


def jvalue(vtype, v, sub=None):
    """JSON for a value given as python data (arrays as lists, nested as lists of lists)."""
    if vtype != VT.ARRAY:
        return jscalar(vtype, v)
    if sub == VT.ARRAY:
        return {"elem": int(VT.ARRAY), "items": [jvalue(VT.ARRAY, x, inner_type(x)) for x in v]}
    return {"elem": int(sub), "items": [jscalar(sub, x) for x in v]}


def inner_type(v):
    return VT.get_type(v[0])


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    sys.stdout.write(r.stderr)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)} exited {r.returncode}")
    return r.returncode == 0


def field_value(f):
    """A GGUFReader field in the JSON form (arrays of arrays: element type and count)."""
    vtype = VT(f.types[0])
    if vtype == VT.ARRAY:
        elem = VT(int(f.parts[3][0]))
        n = int(f.parts[4][0])
        if elem == VT.ARRAY:
            return {"elem": int(elem), "items": [{} for _ in range(n)]}
        if elem == VT.STRING:
            return {"elem": int(elem), "items": [bytes(f.parts[i]).hex() for i in f.data]}
        return {"elem": int(elem), "items": [jscalar(elem, f.parts[i][0]) for i in f.data]}
    if vtype == VT.STRING:
        return bytes(f.parts[f.data[0]]).hex()
    return jscalar(vtype, f.parts[f.data[0]][0])


def user_fields(r):
    return [f for k, f in r.fields.items() if not k.startswith("GGUF.")]


# gguf-py's size table gives Q8_1 40 bytes per block (float d and s), but ggml's
# block_q8_1 is {fp16 d; fp16 s; i8 qs[32]} = 36 bytes (spec/quant-formats.md), and the
# ggml-written ref-q8_1.gguf agrees: its quant tensor (512 blocks) is followed by the
# next tensor 18432 = 512 * 36 bytes later, too little room for 512 * 40. For such types
# the size comes from this table, and dump_reader checks it fits the file's layout.
PY_SIZE_FIXES = {int(gguf.GGMLQuantizationType.Q8_1): (32, 36)}


def dump_reader(path):
    """What GGUFReader sees in a file, as expectation JSON."""
    r = gguf.GGUFReader(path)
    kvs = [{"key": f.name, "type": int(f.types[0]), "value": field_value(f)} for f in user_fields(r)]
    tensors = []
    starts = sorted(int(t.data_offset) for t in r.tensors) + [os.path.getsize(path)]
    for t in r.tensors:
        size = int(t.n_bytes)
        if int(t.tensor_type) in PY_SIZE_FIXES:
            bs, ts = PY_SIZE_FIXES[int(t.tensor_type)]
            size = int(t.n_elements) // bs * ts
            room = next(x for x in starts if x > int(t.data_offset)) - int(t.data_offset)
            if not (size <= room < int(t.n_bytes)):
                fail(f"{path}: {t.name}: size fix for type {int(t.tensor_type)} does not match the file layout")
            print(f"note: {t.name}: gguf-py says {int(t.n_bytes)} bytes, ggml layout {size} (fits the {room}-byte gap)")
        with open(path, "rb") as fp:
            fp.seek(int(t.data_offset))
            data = fp.read(size)
        tensors.append({"name": t.name, "type": int(t.tensor_type), "ne": [str(int(x)) for x in t.shape],
                        "offset": str(int(t.data_offset) - r.data_offset), "size": str(size),
                        "hex": data.hex()})
    return {"alignment": int(r.alignment), "kvs": kvs, "tensors": tensors}


def same_value(vtype, want, got):
    """Compare JSON values; floats bit-exactly at their own width."""
    if isinstance(want, dict):
        return (want["elem"] == got["elem"] and len(want["items"]) == len(got["items"]) and
                all(same_value(VT(want["elem"]), a, b) for a, b in zip(want["items"], got["items"])))
    if vtype in FLOATS:
        fmt = "<f" if vtype == VT.FLOAT32 else "<d"
        return struct.pack(fmt, float.fromhex(want)) == struct.pack(fmt, float.fromhex(got))
    return want == got


def verify_with_reader(path, expect):
    """GGUFReader's view of path must match the expectation JSON (c2py)."""
    got = dump_reader(path)
    r = gguf.GGUFReader(path)
    if got["alignment"] != expect["alignment"]:
        fail(f"{path}: alignment {got['alignment']} != {expect['alignment']}")
    if r.data_offset % expect["alignment"]:
        fail(f"{path}: data offset {r.data_offset} not aligned")
    if [k["key"] for k in got["kvs"]] != [k["key"] for k in expect["kvs"]]:
        fail(f"{path}: keys {[k['key'] for k in got['kvs']]}")
    for g, e in zip(got["kvs"], expect["kvs"]):
        if g["type"] != e["type"]:
            fail(f"{path}: key {e['key']}: type {g['type']} != {e['type']}")
        elif not same_value(VT(e["type"]), e["value"], g["value"]):
            fail(f"{path}: key {e['key']}: {g['value']} != {e['value']}")
    if len(got["tensors"]) != len(expect["tensors"]):
        fail(f"{path}: {len(got['tensors'])} tensors, expected {len(expect['tensors'])}")
    for g, e in zip(got["tensors"], expect["tensors"]):
        for k in ("name", "type", "ne", "offset", "size", "hex"):
            if g[k] != e[k]:
                fail(f"{path}: tensor {e['name']}: {k} differs ({str(g[k])[:60]} vs {str(e[k])[:60]})")
    print(f"{path}: GGUFReader checked {len(got['kvs'])} kvs, {len(got['tensors'])} tensors")


def same_files(a, b):
    """Every field part and tensor byte of b equals a's, by GGUFReader (py2c copy)."""
    ra, rb = gguf.GGUFReader(a), gguf.GGUFReader(b)
    fa, fb = user_fields(ra), user_fields(rb)
    if [f.name for f in fa] != [f.name for f in fb]:
        fail(f"{b}: keys differ from {a}")
    for x, y in zip(fa, fb):
        if x.types != y.types or len(x.parts) != len(y.parts) or any(
                p.tobytes() != q.tobytes() for p, q in zip(x.parts, y.parts)):
            fail(f"{b}: key {x.name} differs from {a}")
    if ra.alignment != rb.alignment:
        fail(f"{b}: alignment {rb.alignment} != {ra.alignment}")
    ta, tb = dump_reader(a)["tensors"], dump_reader(b)["tensors"]
    if ta != tb:
        fail(f"{b}: tensors differ from {a}")
    with open(a, "rb") as p, open(b, "rb") as q:
        identical = p.read() == q.read()
    print(f"{b}: {len(fb)} kvs and {len(tb)} tensors equal to {a}; files byte-identical: {identical}")


def py_write(path, alignment):
    """Write with gguf.GGUFWriter; returns the expectation JSON built from the inputs."""
    w = gguf.GGUFWriter(path, arch="pytest")
    kvs = [("general.architecture", VT.STRING, "pytest", None)]
    if alignment != 32:
        w.add_custom_alignment(alignment)
        kvs.append(("general.alignment", VT.UINT32, alignment, None))
    spec = [
        ("s.u8", VT.UINT8, 255, None), ("s.i8", VT.INT8, -128, None),
        ("s.u16", VT.UINT16, 65535, None), ("s.i16", VT.INT16, -32768, None),
        ("s.u32", VT.UINT32, 2**32 - 1, None), ("s.i32", VT.INT32, -2**31, None),
        ("s.f32", VT.FLOAT32, float(np.float32(0.1)), None), ("s.bool", VT.BOOL, True, None),
        ("s.false", VT.BOOL, False, None), ("s.str", VT.STRING, "hello gguf", None),
        ("s.empty", VT.STRING, "", None), ("s.unicode", VT.STRING, "na\u00efve \u65e5\u672c \U0001F600", None),
        ("s.u64", VT.UINT64, 2**64 - 1, None), ("s.i64", VT.INT64, -2**63, None),
        ("s.f64", VT.FLOAT64, 1.0 / 3.0, None),
        ("a.u8", VT.ARRAY, [0, 7, 255], VT.UINT8), ("a.i8", VT.ARRAY, [-1, 2], VT.INT8),
        ("a.u16", VT.ARRAY, [1, 65535], VT.UINT16), ("a.i16", VT.ARRAY, [-5, 5], VT.INT16),
        ("a.u32", VT.ARRAY, [3, 4, 5], VT.UINT32), ("a.i32", VT.ARRAY, [-7, 0, 7], VT.INT32),
        ("a.f32", VT.ARRAY, [0.5, -1.25, 1e10], VT.FLOAT32), ("a.bool", VT.ARRAY, [True, False, True], VT.BOOL),
        ("a.u64", VT.ARRAY, [2**64 - 1, 0], VT.UINT64), ("a.i64", VT.ARRAY, [-2**63, 2**63 - 1], VT.INT64),
        ("a.f64", VT.ARRAY, [2.5, -1e-300], VT.FLOAT64),
        ("a.str", VT.ARRAY, ["<unk>", "", "\u2581the", "\u00fc"], VT.STRING),
        ("a.nested", VT.ARRAY, [[1, 2, 3], [4]], VT.ARRAY),
        ("a.nested_str", VT.ARRAY, [["a", "bc"], ["d"], ["", "e"]], VT.ARRAY),
    ]
    for key, vtype, val, sub in spec:
        w.add_key_value(key, val, vtype, sub_type=sub)
    kvs += spec
    rng = np.random.default_rng(1)
    tensors = [
        ("p.f32", rng.standard_normal((3, 5)).astype(np.float32), None, 0),
        ("p.f16", rng.standard_normal(7).astype(np.float16), None, 1),
        ("p.q8_0", rng.integers(0, 256, (2, 68), dtype=np.uint8), gguf.GGMLQuantizationType.Q8_0, 8),
        ("p.q4_K", rng.integers(0, 256, (3, 144), dtype=np.uint8), gguf.GGMLQuantizationType.Q4_K, 12),
        ("p.i16", rng.integers(-999, 999, (2, 2, 3)).astype(np.int16), None, 25),
        ("p.bf16", rng.integers(0, 256, (4, 12), dtype=np.uint8), gguf.GGMLQuantizationType.BF16, 30),
    ]
    block = {8: (32, 34), 12: (256, 144), 30: (1, 2)}
    texp, off = [], 0
    for name, arr, raw, tid in tensors:
        w.add_tensor(name, arr, raw_dtype=raw)
        shape = list(arr.shape)
        if raw is not None:
            bs, ts = block[tid]
            shape[-1] = shape[-1] // ts * bs
        ne = [str(x) for x in reversed(shape)]
        texp.append({"name": name, "type": tid, "ne": ne, "offset": str(off), "size": str(arr.nbytes),
                     "hex": arr.tobytes().hex()})
        off += (arr.nbytes + alignment - 1) // alignment * alignment
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return {"alignment": alignment,
            "kvs": [{"key": k, "type": int(t), "value": jvalue(t, v, s)} for k, t, v, s in kvs],
            "tensors": texp}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["py2c", "c2py", "ref"])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--data")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    checked = 0
    if a.mode == "py2c":
        for align in (32, 64):
            src = os.path.join(a.workdir, f"py-{align}.gguf")
            exp = os.path.join(a.workdir, f"py-{align}.json")
            with open(exp, "w") as fp:
                json.dump(py_write(src, align), fp)
            run([a.tool, "check", src, exp])
            dst = os.path.join(a.workdir, f"copy-{align}.gguf")
            if run([a.tool, "copy", src, dst]):
                same_files(src, dst)
            checked += 1
    elif a.mode == "c2py":
        out = os.path.join(a.workdir, "c.gguf")
        exp = os.path.join(a.workdir, "c.json")
        if run([a.tool, "write", out, exp]):
            with open(exp) as fp:
                verify_with_reader(out, json.load(fp))
            checked += 1
    else:
        files = sorted(glob.glob(os.path.join(a.data, "ref", "quant", "ref-*.gguf")))
        for path in files:
            exp = os.path.join(a.workdir, os.path.basename(path) + ".json")
            with open(exp, "w") as fp:
                json.dump(dump_reader(path), fp)
            run([a.tool, "check", path, exp])
            checked += 1
    if checked == 0:
        fail("nothing was checked")
    print(f"{a.mode}: {checked} file(s) checked, {len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
