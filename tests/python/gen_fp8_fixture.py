#!/usr/bin/env python3
"""Write tests/data/fp8_fixture.bin: float32 values and the FP8 codes ml_dtypes gives
them (float8_e4m3fn, float8_e5m2), an independent reference for test_fp8.c.

ml_dtypes turns out-of-range values into NaN (E4M3FN) or infinity (E5M2) instead of
saturating, so only values that round to a finite code are kept. Each section holds
every code's value, the exact midpoints between neighbouring codes (ties) and their
float32 neighbours, all with both signs, then log-uniform random magnitudes over the
format's whole range (subnormals included) up to 4096 values.

Layout (little endian): b"QGF8", u32 version = 1, then two sections (E4M3, E5M2), each
u32 count followed by count records {f32 value; u8 code}.

Run: python3 tests/python/gen_fp8_fixture.py [output path]
"""
import struct
import sys
from pathlib import Path

import ml_dtypes
import numpy as np

N_TOTAL = 4096


def encodable(vals, dtype):
    """The values (both signs) that ml_dtypes encodes to a finite code, and the codes."""
    vals = np.concatenate([vals, -vals]).astype(np.float32)
    enc = vals.astype(dtype)
    keep = np.isfinite(enc.astype(np.float32))
    return vals[keep], enc[keep].view(np.uint8)


def section(dtype, lo_exp, hi_exp, rng):
    codes = np.arange(256, dtype=np.uint8).view(dtype).astype(np.float32)
    finite = np.sort(np.unique(codes[np.isfinite(codes) & (codes >= 0)]))
    mids = ((finite[:-1].astype(np.float64) + finite[1:]) / 2).astype(np.float32)
    ties = np.concatenate([mids, np.nextafter(mids, np.float32(0)),
                           np.nextafter(mids, np.float32(np.inf)), finite])
    tv, tc = encodable(ties, dtype)
    mags = np.exp2(rng.uniform(lo_exp, hi_exp, N_TOTAL)).astype(np.float32)
    rv, rc = encodable(mags, dtype)
    n_rand = N_TOTAL - len(tv)
    vals = np.concatenate([tv, rv[:n_rand]])
    enc = np.concatenate([tc, rc[:n_rand]])
    out = struct.pack("<I", len(vals))
    for v, c in zip(vals, enc):
        out += struct.pack("<fB", float(v), int(c))
    return out


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parent.parent / "data" / "fp8_fixture.bin"
    rng = np.random.default_rng(20240607)
    data = b"QGF8" + struct.pack("<I", 1)
    data += section(ml_dtypes.float8_e4m3fn, -12, 9, rng)   # 2^-12 .. 512
    data += section(ml_dtypes.float8_e5m2, -18, 16, rng)    # 2^-18 .. 65536
    path.write_bytes(data)
    print(f"wrote {path} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
