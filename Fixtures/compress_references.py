#!/usr/bin/env python3
"""Rewrites the committed reference archives (*.reference*.npz, ops.npz) with np.savez_compressed: the same
arrays under the same names, deflated; and packs the image references (tiny/images/ref/<name>.npy, written by
gen_images.py) into one deflated tiny/images/ref.npz whose members keep those names (images.json still lists
`ref/<name>.npy`: read it as member <name> of ref.npz); and keeps each distinct reference input once: where
several committed references were computed from the same input tensor, only one (the keeper; the one `make
demo` and the README use where it is among them) keeps its `input` member, the others lose it, and
`Fixtures/shared_inputs.json` maps each of them to its keeper (the test support's FixturePaths puts the input
back, in a temporary copy, before a test sees the file). Keeps the committed fixtures under 8 MB; readers of
.npz handle stored and deflated members alike. Run by `make fixtures` after the generators.

    .venv/bin/python Fixtures/compress_references.py     # idempotent
"""
import json
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


def reference_input(path):
    """The `input` of a committed reference, from its keeper when shared_inputs.json lists it (for generators
    that check a reference's input)."""
    rel = os.path.relpath(os.path.abspath(path), HERE)
    table_path = os.path.join(HERE, "shared_inputs.json")
    if os.path.exists(table_path):
        with open(table_path) as f:
            rel = json.load(f).get(rel, rel)
    with np.load(os.path.join(HERE, rel), allow_pickle=False) as z:
        return z["input"]


KEEPERS = ["tiny/tiny_v1_miil.reference.npz"]  # the reference `make demo` and the README verify against


def share_inputs():
    """Drops the `input` member of every reference whose input another reference (its keeper) holds byte for
    byte; records reference -> keeper in shared_inputs.json (kept across runs: a reference already without its
    input keeps its entry). Returns the bytes saved."""
    table_path = os.path.join(HERE, "shared_inputs.json")
    table = {}
    if os.path.exists(table_path):
        with open(table_path) as f:
            table = json.load(f)
    refs = []
    for root, _, files in os.walk(HERE):
        if "/full" in root or "/.venv" in root:
            continue
        refs += [os.path.relpath(os.path.join(root, f), HERE) for f in files if f.endswith(".npz") and ".reference" in f]
    refs.sort(key=lambda r: (r not in KEEPERS, r))
    owners = {}  # input bytes -> keeper
    with_input = []
    for r in refs:
        with np.load(os.path.join(HERE, r), allow_pickle=False) as z:
            if "input" in z.files:
                with_input.append((r, z["input"].dtype.str + str(z["input"].shape), z["input"].tobytes()))
    saved = 0
    for r, kind, data in with_input:
        key = (kind, data)
        if key not in owners:
            owners[key] = r
            table.pop(r, None)
            continue
        path = os.path.join(HERE, r)
        before = os.path.getsize(path)
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files if k != "input"}
        tmp = path + ".tmp.npz"
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
        table[r] = owners[key]
        saved += before - os.path.getsize(path)
    for r, keeper in table.items():  # every entry names an existing reference without input and a keeper with one
        with np.load(os.path.join(HERE, r), allow_pickle=False) as z:
            assert "input" not in z.files, r
        with np.load(os.path.join(HERE, keeper), allow_pickle=False) as z:
            assert "input" in z.files, keeper
    with open(table_path, "w") as f:
        json.dump(dict(sorted(table.items())), f, indent=1)
        f.write("\n")
    return saved


def main():
    saved = pack_image_refs(os.path.join(HERE, "tiny", "images"))
    for root, _, files in os.walk(HERE):
        if "/full" in root or "/.venv" in root:
            continue
        for f in sorted(files):
            if f.endswith(".npz") and (".reference" in f or f == "ops.npz"):
                saved += compress(os.path.join(root, f))
    saved += share_inputs()
    print(f"compress_references: {saved} bytes saved")


if __name__ == "__main__":
    sys.exit(main())
