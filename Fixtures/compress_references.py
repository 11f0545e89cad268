#!/usr/bin/env python3
"""Rewrites the committed reference archives (*.reference*.npz, ops.npz) with np.savez_compressed: the same
arrays under the same names, deflated; and packs the image references (tiny/images/ref/<name>.npy, written by
gen_images.py) into one deflated tiny/images/ref.npz whose members keep those names (images.json still lists
`ref/<name>.npy`: read it as member <name> of ref.npz). Keeps the committed fixtures under 8 MB; readers of
.npz handle stored and deflated members alike. Run by `make fixtures` after the generators.

    .venv/bin/python Fixtures/compress_references.py     # idempotent
"""
import os
import sys
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def compress(path):
    with zipfile.ZipFile(path) as z:
        if all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist()):
            return 0
    before = os.path.getsize(path)
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    with np.load(tmp, allow_pickle=False) as g:  # lossless: the same names, dtypes, shapes and bytes
        assert list(g.files) == list(arrays), path
        for k, v in arrays.items():
            assert g[k].dtype == v.dtype and g[k].shape == v.shape and g[k].tobytes() == v.tobytes(), (path, k)
    os.replace(tmp, path)
    return before - os.path.getsize(path)


def pack_image_refs(folder):
    """tiny/images/ref/*.npy -> tiny/images/ref.npz (deflated), losslessly; the folder is removed."""
    ref = os.path.join(folder, "ref")
    if not os.path.isdir(ref):
        return 0
    files = sorted(f for f in os.listdir(ref) if f.endswith(".npy"))
    arrays = {f[:-4]: np.load(os.path.join(ref, f), allow_pickle=False) for f in files}
    before = sum(os.path.getsize(os.path.join(ref, f)) for f in files)
    np.savez_compressed(os.path.join(folder, "ref.npz"), **arrays)
    with np.load(os.path.join(folder, "ref.npz"), allow_pickle=False) as g:
        for k, v in arrays.items():
            assert g[k].dtype == v.dtype and g[k].shape == v.shape and g[k].tobytes() == v.tobytes(), k
    for f in os.listdir(ref):
        os.remove(os.path.join(ref, f))
    os.rmdir(ref)
    return before - os.path.getsize(os.path.join(folder, "ref.npz"))


def main():
    saved = pack_image_refs(os.path.join(HERE, "tiny", "images"))
    for root, _, files in os.walk(HERE):
        if "/full" in root or "/.venv" in root:
            continue
        for f in sorted(files):
            if f.endswith(".npz") and (".reference" in f or f == "ops.npz"):
                saved += compress(os.path.join(root, f))
    print(f"compress_references: {saved} bytes saved")


if __name__ == "__main__":
    sys.exit(main())
