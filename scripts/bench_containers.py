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
    """Median wall time and median CPU time (user + system, from wait4) of `runs` runs after one warm-up. The CPU
    time is the figure compared: this machine's 2 cores are shared with other jobs, and wall time under load
    measures the load."""
    walls, cpus = [], []
    for i in range(runs + 1):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        if status != 0:
            raise SystemExit(f"{cmd} failed")
        if i:
            walls.append(time.perf_counter() - t)
            cpus.append(ru.ru_utime + ru.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def pickle_bytes(path):
    import zipfile
    if os.path.isdir(path) or not zipfile.is_zipfile(path):
        return 0
    with zipfile.ZipFile(path) as z:
        return sum(i.file_size for i in z.infolist() if i.filename.endswith("data.pkl"))


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
        rows.append((f, size(src), pickle_bytes(src), ti, tc))
    _, pb, _, (_, pi), (_, pc) = rows[0]
    print("| file | bytes | data.pkl bytes | inspect wall / CPU (ms) | CPU × plain | × plain per byte "
          "| convert wall / CPU (ms) | CPU × plain | × plain per byte |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for f, b, k, (wi, ti), (wc, tc) in rows:
        print(f"| `{f}` | {b:,} | {k:,} | {wi * 1e3:.1f} / {ti * 1e3:.1f} | {ti / pi:.2f} | {(ti / b) / (pi / pb):.2f} "
              f"| {wc * 1e3:.0f} / {tc * 1e3:.0f} | {tc / pc:.2f} | {(tc / b) / (pc / pb):.2f} |")


if __name__ == "__main__":
    main()
