#!/usr/bin/env python3
"""NumPy fixtures for the .npy / .npz readers: small arrays written by numpy itself, plus a sidecar
`npy/expected.json` (also written from numpy's own view of each file) with every array's dtype, shape,
Fortran flag and full flat C-order values.

    python Fixtures/gen_numpy.py           # -> Fixtures/tiny/npy/   (generate.py's tiny() calls make() too)
"""
import io
import json
import os
import shutil
import warnings
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def arrays():
    rng = np.random.default_rng(20261129)
    base = rng.standard_normal((2, 3, 4)).astype(np.float32)
    return {
        "f32_c": base,
        "f32_fortran": np.asfortranarray(base),
        "f64_fortran_2d": np.asfortranarray(rng.standard_normal((3, 5))),
        "f16": rng.standard_normal((3, 4)).astype(np.float16),
        "f64": rng.standard_normal((5,)),
        "i64": np.array([[-3, 0, 2**40], [7, -2**40, 2**62]], dtype=np.int64),
        "i32": np.array([-70000, 0, 70000], dtype=np.int32),
        "i16": np.array([-300, 0, 300], dtype=np.int16),
        "i8": np.array([-100, 0, 100], dtype=np.int8),
        "u8": np.array([0, 128, 255], dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "scalar_0d": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "big_endian_f4": rng.standard_normal((2, 3)).astype(">f4"),
        "big_endian_i2_fortran": np.asfortranarray(np.array([[1, -2, 300], [-4000, 5, 6]], dtype=">i2")),
    }


def header_of(path):
    """(version, header dict) exactly as numpy reads it back."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    return version, shape, fortran, dtype


def record(path, name):
    """What numpy says the file holds."""
    version, shape, fortran, dtype = header_of(path)
    arr = np.load(path, allow_pickle=False)
    return {
        "file": name,
        "version": f"{version[0]}.{version[1]}",
        "descr": dtype.str,
        "dtype": arr.dtype.name,
        "shape": list(shape),
        "fortran_order": bool(fortran),
        "values": arr.ravel(order="C").tolist(),
    }


def npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def make(folder):
    out = os.path.join(folder, "npy")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    expected = {"numpy": np.__version__, "arrays": [], "refused": [], "npz": []}

    arrs = arrays()
    for name, arr in arrs.items():
        np.save(os.path.join(out, f"{name}.npy"), arr)
        expected["arrays"].append(record(os.path.join(out, f"{name}.npy"), f"{name}.npy"))

    # explicit format versions 2.0 and 3.0 (u32 header length)
    for version in [(2, 0), (3, 0)]:
        name = f"f32_v{version[0]}.npy"
        with open(os.path.join(out, name), "wb") as f:
            np.lib.format.write_array(f, arrs["f32_c"], version=version)
        expected["arrays"].append(record(os.path.join(out, name), name))

    # an object array: numpy itself needs allow_pickle=True to read it; a safe reader refuses it
    obj = np.array([1, "a", None], dtype=object)
    np.save(os.path.join(out, "object.npy"), obj, allow_pickle=True)
    version, shape, fortran, dtype = header_of(os.path.join(out, "object.npy"))
    expected["refused"].append({"file": "object.npy", "descr": dtype.str, "reason": "object arrays need pickle"})

    # archives: stored (np.savez) and deflated (np.savez_compressed)
    members = {"weight": arrs["f32_c"], "bias": arrs["f64"], "count": arrs["i64"], "tcol": arrs["f32_fortran"]}
    for name, save in [("stored.npz", np.savez), ("compressed.npz", np.savez_compressed)]:
        save(os.path.join(out, name), **members)
        with np.load(os.path.join(out, name), allow_pickle=False) as z:
            listed = []
            for member in z.files:
                arr = z[member]
                listed.append({"name": member, "dtype": arr.dtype.name, "shape": list(arr.shape),
                               "values": arr.ravel(order="C").tolist()})
        expected["npz"].append({"file": name, "members": listed})

    # archives a strict .npz reader refuses: a member that is not .npy, and the same member name twice
    with zipfile.ZipFile(os.path.join(out, "not_npy_member.npz"), "w") as z:
        z.writestr(zipfile.ZipInfo("weight.npy", date_time=(1980, 1, 1, 0, 0, 0)), npy_bytes(arrs["f32_c"]))
        z.writestr(zipfile.ZipInfo("notes.txt", date_time=(1980, 1, 1, 0, 0, 0)), b"not an array")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name; that is the point
        with zipfile.ZipFile(os.path.join(out, "duplicate_member.npz"), "w") as z:
            for arr in (arrs["f32_c"], arrs["f64"]):
                z.writestr(zipfile.ZipInfo("weight.npy", date_time=(1980, 1, 1, 0, 0, 0)), npy_bytes(arr))
    np.savez(os.path.join(out, "object_member.npz"), weight=arrs["f32_c"], obj=obj)  # savez pickles objects
    expected["refused_npz"] = [{"file": "object_member.npz", "reason": "member obj.npy is an object array"},
                               {"file": "not_npy_member.npz", "reason": "member notes.txt is not .npy"},
                               {"file": "duplicate_member.npz", "reason": "member weight.npy appears twice"}]

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, allow_nan=False)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"npy fixtures: {len(os.listdir(out))} files, {total / 1e3:.1f} kB in {out}")


if __name__ == "__main__":
    make(os.path.join(HERE, "tiny"))
