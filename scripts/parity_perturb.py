#!/usr/bin/env python3
"""Does the default tolerance still catch real errors on full-size models? For each model and size, writes
references with one tap scaled by 1 % and with one channel of a tap off by 1 % (the channel of median peak
magnitude), runs `tresnet-verify` with default settings and records the exit code and the first failing tap.

    python scripts/parity_perturb.py --bin .build/release [--full Fixtures/full] [--backend winograd]
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np

TAPS = ["body.conv1", "body.layer1", "body.layer2", "body.layer3", "body.layer4", "head.global_pool", "head.fc"]


def run(bin_dir, weights, ref, backend):
    r = subprocess.run([os.path.join(bin_dir, "tresnet-verify"), weights, "--reference", ref, "--backend", backend],
                       capture_output=True, text=True)
    first = next((l.split("is ")[-1] for l in r.stdout.splitlines() if l.startswith("FAILED")), "—")
    return r.returncode, first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--full", default="Fixtures/full")
    ap.add_argument("--backend", default="winograd")
    ap.add_argument("--cases", default="tresnet_m_224,tresnet_l_224,tresnet_xl_224,tresnet_v2_l_224,tresnet_m_448")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    print("| model | perturbation | " + " | ".join(TAPS) + " |")
    print("|---|---|" + "---|" * len(TAPS))
    for case in args.cases.split(","):
        name = case.rsplit("_", 1)[0]
        ref_path = os.path.join(args.full, f"trained_{case}.reference.npz")
        if not os.path.exists(ref_path):
            continue
        weights = os.path.join(args.full, f"trained_{name}.pth")
        ref = dict(np.load(ref_path))
        for kind in ("tap × 1.01", "one channel × 1.01"):
            cells = []
            for tap in TAPS:
                arrays = dict(ref)
                t = ref[tap].copy()
                if kind.startswith("tap"):
                    t *= np.float32(1.01)
                else:
                    peaks = np.abs(t).reshape(t.shape[0], t.shape[1], -1).max(axis=(0, 2))
                    channel = int(np.argsort(peaks, kind="stable")[len(peaks) // 2])
                    t[:, channel] *= np.float32(1.01)
                arrays[tap] = t
                path = os.path.join(tmp, "p.npz")
                np.savez(path, **arrays)
                code, first = run(args.bin, weights, path, args.backend)
                cells.append(f"exit {code}, {first}" if first != tap else f"exit {code} ✓")
            print(f"| {case} | {kind} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
