#!/usr/bin/env python3
"""An independent reader for the `.tw` format (docs/FORMAT.md), written from the spec alone.

    python scripts/tw_reader.py FILE.tw                      # validate (incl. checksums) and list
    python scripts/tw_reader.py FILE.tw --timm SOURCE.pth    # and compare with timm's own conversion of SOURCE

`--timm` loads SOURCE with torch (weights_only), unwraps `model` / `state_dict`, runs timm's
`checkpoint_filter_fn` (the MIIL → timm rename and InPlaceABN |w| + 1e-5 rule) and checks that the `.tw` holds
exactly those tensors (num_batches_tracked aside), bit for bit, and that timm loads them with strict=True.
Exit status 0 when everything holds, 1 otherwise.
"""
import struct
import sys
from collections import OrderedDict

import numpy as np

MAGIC = b"\x89TWF\r\n\x1a\n"
DTYPES = {1: np.float32, 2: np.float16, 3: "bfloat16"}


def align64(x):
    return (x + 63) // 64 * 64


def read_tw(path, verify=True):
    import xxhash

    b = open(path, "rb").read()
    if len(b) < 64 or b[:8] != MAGIC:
        raise ValueError("not a .tw file")
    version, hlen, align, flags, mcount, tcount, mlen, ilen, flen, hsum = struct.unpack_from("<IIIIIIQQQQ", b, 8)
    if (version, hlen, align, flags) != (1, 64, 64, 0):
        raise ValueError("unsupported header")
    if flen != len(b):
        raise ValueError(f"file_length {flen} != size {len(b)}")
    index_end = 64 + mlen + ilen
    if xxhash.xxh64_intdigest(b[64:index_end], seed=xxhash.xxh64_intdigest(b[:56])) != hsum:
        raise ValueError("header checksum mismatch")
    p = 64
    meta = OrderedDict()

    def u32():
        nonlocal p
        (v,) = struct.unpack_from("<I", b, p)
        p += 4
        return v

    def string():
        nonlocal p
        n = u32()
        s = b[p:p + n].decode("utf-8")
        p += n
        return s

    for _ in range(mcount):
        key_length = u32()
        key = b[p:p + key_length].decode("ascii")
        p += key_length
        tag = b[p]
        p += 1
        if tag in (1, 2):
            (v,) = struct.unpack_from("<q" if tag == 1 else "<d", b, p)
            p += 8
        elif tag == 3:
            v = bool(b[p])
            p += 1
        elif tag == 4:
            v = string()
        elif tag in (5, 6):
            n = u32()
            v = list(struct.unpack_from(f"<{n}{'q' if tag == 5 else 'd'}", b, p))
            p += 8 * n
        elif tag == 7:
            v = [string() for _ in range(u32())]
        else:
            raise ValueError(f"unknown metadata type {tag}")
        if meta and key <= next(reversed(meta)):
            raise ValueError("metadata keys not sorted")
        meta[key] = v
    if p != 64 + mlen:
        raise ValueError("metadata length mismatch")
    data = align64(index_end)
    tensors = OrderedDict()
    expected = 0
    cursor = data
    if any(b[index_end:data]):
        raise ValueError("non-zero padding before data")
    for _ in range(tcount):
        name = string()
        dt, rank, reserved = b[p], b[p + 1], struct.unpack_from("<H", b, p + 2)[0]
        p += 4
        dims = struct.unpack_from(f"<{rank}Q", b, p)
        p += 8 * rank
        off, length, checksum = struct.unpack_from("<QQQ", b, p)
        p += 24
        itemsize = 4 if dt == 1 else 2
        if reserved or dt not in DTYPES or off != expected or length != int(np.prod(dims, dtype=np.int64)) * itemsize:
            raise ValueError(f"bad index entry {name}")
        if any(b[cursor:data + off]):
            raise ValueError(f"non-zero padding before {name}")
        raw = b[data + off:data + off + length]
        if verify and xxhash.xxh64_intdigest(raw) != checksum:
            raise ValueError(f"checksum mismatch in {name}")
        tensors[name] = (DTYPES[dt], tuple(dims), raw)
        cursor = data + off + length
        expected = align64(cursor - data)
    if p != index_end or cursor != len(b):
        raise ValueError("index length or exact end mismatch")
    return meta, tensors


def to_torch(entry):
    import torch

    dtype, dims, raw = entry
    if dtype == "bfloat16":
        return torch.frombuffer(bytearray(raw), dtype=torch.bfloat16).reshape(dims)
    return torch.from_numpy(np.frombuffer(raw, dtype=dtype).reshape(dims).copy())


def compare_with_timm(meta, tensors, source):
    import torch
    from timm.models.tresnet import TResNet, checkpoint_filter_fn

    obj = torch.load(source, map_location="cpu", weights_only=True)
    sd = obj.get("model", obj.get("state_dict", obj)) if isinstance(obj, dict) else obj
    sd = OrderedDict((k.removeprefix("module.").removeprefix("_orig_mod."), v) for k, v in sd.items())
    layers = meta["arch.layers"]
    planes = meta["arch.planes"]
    v2 = meta["arch.layout"] == "v2"
    model = TResNet(layers=layers, num_classes=meta["arch.num_classes"], width_factor=planes / 64, v2=v2)
    ref = checkpoint_filter_fn(sd, model)
    ref = OrderedDict((k, v) for k, v in ref.items() if not k.endswith("num_batches_tracked"))
    got = OrderedDict((k, to_torch(e)) for k, e in tensors.items())
    ok = list(ref) == list(got)
    print(f"names: {'same' if set(ref) == set(got) else 'DIFFER'}, order: {'same' if ok else 'differs'}, {len(got)} tensors")
    bad = [k for k in ref if k not in got or got[k].dtype != ref[k].dtype or not torch.equal(got[k], ref[k])]
    print(f"bit-exact: {len(ref) - len(bad)}/{len(ref)}" + (f"; first differing: {bad[:3]}" if bad else ""))
    result = model.load_state_dict(got, strict=True)
    print(f"timm load_state_dict(strict=True): {result}")
    return ok and not bad


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    meta, tensors = read_tw(argv[0])
    for k, v in meta.items():
        print(f"{k} = {v!r}")
    print(f"{len(tensors)} tensors, checksums verified")
    if len(argv) >= 3 and argv[1] == "--timm":
        return 0 if compare_with_timm(meta, tensors, argv[2]) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
