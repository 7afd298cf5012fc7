#!/usr/bin/env python3
"""Writes the small seed inputs of tests/fuzz/corpus/ (run once; the outputs are kept in
the tree): GGUF files from the official `gguf` writer and safetensors files from the
official `safetensors` writer, each a few hundred bytes so that libFuzzer mutates them
quickly. Usage: st_gen_fuzz_seeds.py OUTDIR (OUTDIR/gguf, OUTDIR/safetensors)."""
import os
import sys

import gguf
import ml_dtypes
import numpy as np
import safetensors.numpy as stnp


def gguf_seeds(d):
    os.makedirs(d, exist_ok=True)
    w = gguf.GGUFWriter(os.path.join(d, "kv_only.gguf"), "llama")
    w.add_uint32("test.u32", 7)
    w.add_int8("test.i8", -3)
    w.add_float32("test.f32", 1.5)
    w.add_float64("test.f64", -2.25)
    w.add_bool("test.bool", True)
    w.add_string("test.str", "hello")
    w.add_array("test.arr_i32", [1, -2, 3])
    w.add_array("test.arr_str", ["a", "bc", ""])
    w.add_uint64("test.u64", 1 << 40)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    w = gguf.GGUFWriter(os.path.join(d, "tensors.gguf"), "llama")
    w.add_string("general.name", "seed")
    w.add_tensor("a", np.arange(4, dtype=np.float32))
    w.add_tensor("b", np.arange(6, dtype=np.float16).reshape(2, 3))
    w.add_tensor("c", np.arange(8, dtype=np.int8).reshape(2, 2, 2))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    w = gguf.GGUFWriter(os.path.join(d, "aligned_q8.gguf"), "llama")
    w.add_uint32("general.alignment", 64)
    w.add_array("tokenizer.ggml.scores", [0.5, -1.0])
    q = np.zeros((1, 34), dtype=np.uint8)  # one Q8_0 block: f16 scale + 32 int8
    q[0, 0:2] = np.array([1.0], dtype=np.float16).view(np.uint8)
    q[0, 2:] = np.arange(32, dtype=np.int8).view(np.uint8)
    w.add_tensor("q", q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("e", np.zeros((0,), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def st_seeds(d):
    os.makedirs(d, exist_ok=True)
    stnp.save_file({"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(3, dtype=np.float16)},
                   os.path.join(d, "basic.safetensors"), metadata={"format": "pt"})
    stnp.save_file({
        "f64": np.array([1.0]), "bf16": np.array([1, 2], dtype=ml_dtypes.bfloat16),
        "i64": np.array([-1], dtype=np.int64), "i32": np.array([2], dtype=np.int32),
        "i16": np.array([3], dtype=np.int16), "i8": np.array([-4], dtype=np.int8),
        "u8": np.array([200], dtype=np.uint8), "bool": np.array([True, False]),
        "e4m3": np.array([0.5], dtype=ml_dtypes.float8_e4m3fn), "e5m2": np.array([2.0], dtype=ml_dtypes.float8_e5m2),
        "scalar": np.array(1.0, dtype=np.float32), "empty": np.zeros((0, 2), dtype=np.float32),
    }, os.path.join(d, "all_dtypes.safetensors"), metadata={"k": "v", "note": 'q"\\\n'})
    stnp.save_file({}, os.path.join(d, "empty.safetensors"))


if __name__ == "__main__":
    out = sys.argv[1]
    gguf_seeds(os.path.join(out, "gguf"))
    st_seeds(os.path.join(out, "safetensors"))
