#!/usr/bin/env python3
"""Forward time of the full-size ML-Decoder TResNets (Fixtures/full/mldecoder, `make fixtures-full`): tresnet-bench
(release build) beside PyTorch eager, both on 2 threads, batch 1, in alternating rounds; medians. Prints a
Markdown section for docs/BENCHMARKS.md.

    swift build -c release
    .venv/bin/python scripts/bench_mldecoder.py --bin "$(swift build -c release --show-bin-path)" [--rounds 3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Fixtures"))
import gen_mldecoder as M  # noqa: E402
from timm.models.tresnet import TResNet, checkpoint_filter_fn  # noqa: E402


def torch_model(name):
    cfg, classes, groups, size = M.FULL[name]
    m = TResNet(**{**cfg, "num_classes": 1})
    m.head = M.MLDecoderHead(classes, m.num_features, groups=groups)
    ckpt = torch.load(os.path.join(ROOT, "Fixtures", "full", "mldecoder", f"{name}.pth"), map_location="cpu")
    body = OrderedDict((k, v) for k, v in ckpt["model"].items() if not k.startswith("head."))
    sd = checkpoint_filter_fn(body, m)
    sd.update({k: v for k, v in ckpt["model"].items() if k.startswith("head.")})
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    return m.eval(), size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(2)
    tmp = tempfile.mkdtemp()
    rows = []
    for name in M.FULL:
        src = os.path.join(ROOT, "Fixtures", "full", "mldecoder", f"{name}.pth")
        if not os.path.exists(src):
            print(f"skip {name}: {src} absent", file=sys.stderr)
            continue
        tw = os.path.join(tmp, f"{name}.tw")
        subprocess.run([os.path.join(a.bin, "tresnet-convert"), src, tw, "--force"], check=True, capture_output=True)
        model, size = torch_model(name)
        x = torch.rand(1, 3, size, size)
        ours, theirs = [], []
        with torch.no_grad():
            model(x)
            for _ in range(a.rounds):
                out = subprocess.run([os.path.join(a.bin, "tresnet-bench"), tw, "--size", str(size), "--threads", "2",
                                      "--iterations", str(a.iterations), "--warmup", "1"],
                                     check=True, capture_output=True, text=True).stdout
                ours.append(out)
                for _ in range(a.iterations):
                    t = time.perf_counter()
                    model(x)
                    theirs.append(time.perf_counter() - t)
        rows.append((name, size, ours, float(np.median(theirs)) * 1000))
    import re
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| model | input | tresnet-kit median (ms) | PyTorch eager median (ms) | PyTorch / tresnet-kit |")
    print("|---|---|---|---|---|")
    for name, size, ours, torch_ms in rows:
        medians = [float(re.search(r"median ([0-9.]+) ms", o).group(1)) for o in ours]
        kit = float(np.median(medians))
        print(f"| {name} | {size}×{size} | {kit:.1f} | {torch_ms:.1f} | {torch_ms / kit:.2f} |")


if __name__ == "__main__":
    main()
