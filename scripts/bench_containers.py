#!/usr/bin/env python3
"""Inspect and convert times of tresnet_m in every container (issue 15), against the plain state dict of the same
weights. Needs `make fixtures-full` (Fixtures/full/containers, written by Fixtures/gen_containers.py --full).

    python3 scripts/bench_containers.py --bin "$(swift build -c release --show-bin-path)"

Each command runs in its own process, one untimed warm-up then --runs timed runs; medians are reported. The
"per byte" ratio divides each time by the file's size first: a training checkpoint holds three copies of the
weights (state_dict, state_dict_ema, optimizer state) and the .tw records the SHA-256 of the whole source, so its
extra bytes cost time by themselves; the per-byte ratio is the comparison "apart from the extra bytes".
"""
import argparse
import os
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ["plain.pth", "timm_train.pth.tar", "lightning.ckpt", "module_timm.pth", "module_dataparallel.pth",
         "module_miil.pth", "hub"]


def size(path):
    if os.path.isdir(path):
        return os.path.getsize(os.path.join(path, "model.safetensors"))
    return os.path.getsize(path)


def timed(cmd, runs):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--folder", default=os.path.join(ROOT, "Fixtures/full/containers"))
    ap.add_argument("--scratch", default=os.path.join(ROOT, "out/bench"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    os.makedirs(a.scratch, exist_ok=True)
    rows = []
    for f in FILES:
        src = os.path.join(a.folder, f)
        tw = os.path.join(a.scratch, "container.tw")
        ti = timed([os.path.join(a.bin, "tresnet-inspect"), src], a.runs)
        tc = timed([os.path.join(a.bin, "tresnet-convert"), src, tw, "--force", "--quiet"], a.runs)
        rows.append((f, size(src), ti, tc))
    _, pb, pi, pc = rows[0]
    print("| file | bytes | inspect (ms) | × plain | × plain per byte | convert (ms) | × plain | × plain per byte |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for f, b, ti, tc in rows:
        print(f"| `{f}` | {b:,} | {ti * 1e3:.1f} | {ti / pi:.2f} | {(ti / b) / (pi / pb):.2f} "
              f"| {tc * 1e3:.0f} | {tc / pc:.2f} | {(tc / b) / (pc / pb):.2f} |")


if __name__ == "__main__":
    main()
