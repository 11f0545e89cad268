#!/usr/bin/env python3
"""Writes the crafted files of the hostile-input catalogue (docs/ROBUSTNESS.md) into Fixtures/hostile/.

Run with the project's Python (`/work/main/.venv/bin/python Fixtures/hostile/make_hostile.py` or
`.venv/bin/python ...`): the valid baselines are written by the real libraries (safetensors, numpy, torch), and
each hostile file is a baseline with one documented change, so every byte is explained here. Each file is small
(< 4 KiB). Tests assert the specific error each one gets; the fuzz targets use them as seeds.
"""
import gzip
import io
import os
import struct
import zipfile
import zlib

import numpy as np
import torch
from safetensors.numpy import save as st_save

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def small_state_dict():
    g = torch.Generator().manual_seed(7)
    return {
        "conv.weight": torch.randn(4, 3, 1, 1, generator=g),
        "bn.running_mean": torch.randn(4, generator=g),
        "fc.bias": torch.arange(3, dtype=torch.float32),
    }


def safetensors_files():
    sd = {k: v.numpy() for k, v in small_state_dict().items()}
    # A small valid file (sweep and fuzz seed), as the safetensors library writes it.
    write("small.safetensors", st_save(sd, metadata={"format": "pt"}))
    # A.0 #13: NaN, ±Inf and a denormal are data, not errors.
    special = np.array([np.nan, np.inf, -np.inf, np.float32(1e-45), 0.0, -0.0], dtype=np.float32)
    write("nan_inf.safetensors", st_save({"special": special}))


def torch_files():
    buf = io.BytesIO()
    torch.save(small_state_dict(), buf)
    small = buf.getvalue()
    write("small.pth", small)  # valid baseline
    # A.0 #7: a gzip-wrapped checkpoint (content sniffed by magic, never by extension).
    write("gzip_wrapped.pth", gzip.compress(small, mtime=0))
    # A.0 #7: a 7z-wrapped checkpoint (nullifAI): 7z signature + version, then the bytes.
    write("sevenzip_wrapped.pth", b"7z\xbc\xaf\x27\x1c\x00\x04" + small)
    # A small valid legacy (pre-1.6) checkpoint: one 1-element tensor; tests patch its storage count.
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(1)}, buf, _use_new_zipfile_serialization=False)
    write("small.legacy.pt", buf.getvalue())


def npz_files():
    # A.3 #46: a deflated member whose central and local headers declare fewer uncompressed bytes than the
    # deflate stream holds (inflate must stop at the declared size and refuse).
    member = io.BytesIO()
    np.save(member, np.arange(64, dtype=np.float32))
    payload = member.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.npy", payload)
    data = bytearray(out.getvalue())
    declared = len(payload) - 64
    # local header: uncompressed size at +22; central header: uncompressed size at +24
    lh = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, lh + 22, declared)
    ch = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, ch + 24, declared)
    write("inflate_overrun.npz", bytes(data))
    # A.3 #46 (other side): the deflate stream ends before the declared size.
    data2 = bytearray(out.getvalue())
    struct.pack_into("<I", data2, lh + 22, len(payload) + 64)
    struct.pack_into("<I", data2, ch + 24, len(payload) + 64)
    write("inflate_short.npz", bytes(data2))


if __name__ == "__main__":
    safetensors_files()
    torch_files()
    npz_files()
    for name in sorted(os.listdir(HERE)):
        if name != os.path.basename(__file__):
            print(f"{os.path.getsize(os.path.join(HERE, name)):6d}  {name}")
