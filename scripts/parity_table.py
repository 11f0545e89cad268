#!/usr/bin/env python3
"""The measurements behind the parity error model (docs/PARITY.md): per tap, the distance of each float32
implementation from float64 — PyTorch, ONNX Runtime, ours on every backend — in the error model's units
(max |x − truth| / (rms(truth) + |truth|)), and as a multiple of 2⁻²⁴·√(depth + 1).

    python scripts/parity_table.py --bin .build/release [--full Fixtures/full] [--backends winograd,direct,blas]

Needs `make fixtures-full` (Fixtures/gen_trained.py --full). Runs `tresnet-verify --oracle --json` per model,
size and backend (ours↔float64 is measured against our float64 pass; the reference's `float64/<tap>` arrays
are PyTorch's float64 pass of the same model, against which PyTorch and ONNX Runtime are measured).
Prints Markdown tables and the largest ratio per pair of implementations.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

TAPS = ["body.conv1", "body.layer1", "body.layer2", "body.layer3", "body.layer4", "head.global_pool", "head.fc"]
U = 2.0 ** -24


def scaled(x, truth):
    x = x.astype(np.float64).ravel()
    t = truth.astype(np.float64).ravel()
    rms = np.sqrt(np.mean(t * t))
    d = np.abs(x - t)
    return float(np.max(d / np.maximum(rms + np.abs(t), np.finfo(np.float32).tiny))) if d.size else 0.0


def verify(bin_dir, weights, reference, backend, out):
    cmd = [os.path.join(bin_dir, "tresnet-verify"), weights, "--reference", reference, "--backend", backend,
           "--oracle", "--report", out, "--force"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    with open(out) as f:
        report = json.load(f)
    return run.returncode, report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--full", default="Fixtures/full")
    ap.add_argument("--backends", default="winograd,direct,blas")
    ap.add_argument("--cases", default="tresnet_m_224,tresnet_l_224,tresnet_xl_224,tresnet_v2_l_224,tresnet_m_448,"
                                       "tresnet_l_448,tresnet_xl_448,tresnet_v2_l_448")
    args = ap.parse_args()
    backends = args.backends.split(",")
    worst = {}
    tmp = tempfile.mkdtemp()
    for case in args.cases.split(","):
        name = case.rsplit("_", 1)[0]
        ref_path = os.path.join(args.full, f"trained_{case}.reference.npz")
        if not os.path.exists(ref_path):
            print(f"(skipping {case}: {ref_path} absent)", file=sys.stderr)
            continue
        ref = np.load(ref_path)
        ort_path = os.path.join(args.full, f"trained_{case}.onnxruntime.npz")
        ort = np.load(ort_path) if os.path.exists(ort_path) else None
        weights = os.path.join(args.full, f"trained_{name}.pth")
        ours, codes = {}, {}
        for b in backends:
            codes[b], report = verify(args.bin, weights, ref_path, b, os.path.join(tmp, "r.json"))
            ours[b] = {r["name"]: r for r in report["report"]["rows"]}
        print(f"\n#### trained {name} at {case.rsplit('_', 1)[1]}: verify exit codes "
              + ", ".join(f"{b} {codes[b]}" for b in backends))
        cols = ["max \\|ref\\|", "depth", "PyTorch↔f64", "ORT↔f64", "ORT↔PyTorch"] \
            + [f"ours ({b})↔f64" for b in backends] + [f"ours ({b})↔PyTorch" for b in backends] + ["budget"]
        print("\n| tap | " + " | ".join(cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
        for tap in TAPS:
            f64 = ref["float64/" + tap]
            depth = ours[backends[0]][tap]["depth"]
            unit = U * np.sqrt(depth + 1)
            vals = {"PyTorch↔f64": scaled(ref[tap], f64)}
            if ort is not None:
                vals["ORT↔f64"] = scaled(ort[tap], f64)
                vals["ORT↔PyTorch"] = scaled(ort[tap], ref[tap])
            for b in backends:
                vals[f"ours ({b})↔f64"] = ours[b][tap]["oracle"]["ours_to_float64"]
                vals[f"ours ({b})↔PyTorch"] = ours[b][tap]["scaled_error"]
            for k, v in vals.items():
                key = k if not k.startswith("ours") else ("ours↔f64" if k.endswith("f64") else "ours↔PyTorch")
                worst[key] = max(worst.get(key, (0, "")), (v / unit, f"{case} {tap}"))
            cells = [f"{np.abs(ref[tap]).max():.3g}", str(depth)]
            for c in cols[2:-1]:
                cells.append(f"{vals[c]:.2e} ({vals[c] / unit:.1f})" if c in vals else "—")
            cells.append(f"{ours[backends[0]][tap]['budget']:.2e}")
            print(f"| {tap} | " + " | ".join(cells) + " |")
    print("\nlargest ratio to 2⁻²⁴·√(depth + 1), per pair:")
    for k, (v, where) in sorted(worst.items()):
        print(f"  {k:16s} {v:6.2f}  ({where})")


if __name__ == "__main__":
    main()
