#!/usr/bin/env python3
"""Semantic vs plain prediction on a full-size ImageNet-21K head (issue 21), written into docs/BENCHMARKS.md
between the `<!-- semantic -->` markers (scripts/bench.py keeps that section as it is).

    .venv/bin/python Fixtures/gen_semantic.py --full       # Fixtures/full/tresnet_m_21k_random.pth + tree
    swift build -c release
    .venv/bin/python scripts/bench_semantic.py --bin $(swift build -c release --show-bin-path)

Three end-to-end `tresnet-predict` runs on the same batch of images, measured in alternating rounds (so the
shared machine's noise hits all three alike), medians of the wall times:
  plain     WEIGHTS.tw IMAGES --batch N
  tree      WEIGHTS.tw IMAGES --batch N --semantic-tree TREE.pth   (the tree read from MIIL's pickle layout)
  embedded  WEIGHTS_TREE.tw IMAGES --batch N                       (the tree carried by the .tw)
Every run includes opening the weights, compiling the network, decoding and preprocessing the images, the
forward pass and printing; the semantic runs add reading the tree and the per-level softmax.
"""
import argparse
import glob
import json
import re
import os
import resource
import statistics
import subprocess
import sys
import time

from ours_json import bench_result

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


CPU = []  # user + system seconds of each run, in the order of the runs


def run(cmd):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr}")
    return dt, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--full", default=os.path.join(ROOT, "Fixtures", "full"))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--output", default=os.path.join(ROOT, "docs", "BENCHMARKS.md"))
    a = ap.parse_args()
    weights = os.path.join(a.full, "tresnet_m_21k_random.pth")
    tree = os.path.join(a.full, "semantic_tree_11221.pth")
    out = os.path.join(a.full, "bench_semantic")
    os.makedirs(out, exist_ok=True)
    plain_tw, tree_tw = os.path.join(out, "m21k.tw"), os.path.join(out, "m21k_tree.tw")
    conv = os.path.join(a.bin, "tresnet-convert")
    run([conv, weights, plain_tw, "--force", "--quiet"])
    run([conv, weights, tree_tw, "--force", "--quiet", "--semantic-tree", tree])
    images = sorted(p for p in glob.glob(os.path.join(ROOT, "Fixtures", "tiny", "images", "*.jpg")) if "corrupt" not in p)
    images = (images * a.batch)[:a.batch]
    predict = os.path.join(a.bin, "tresnet-predict")
    cmds = {
        "plain": [predict, plain_tw, *images, "--batch-size", str(a.batch)],
        "tree": [predict, plain_tw, *images, "--batch-size", str(a.batch), "--semantic-tree", tree],
        "embedded": [predict, tree_tw, *images, "--batch-size", str(a.batch)],
    }
    warm = {k: run(c)[1] for k, c in cmds.items()}  # warm-up (page cache); the semantic runs print levels
    for k in ("tree", "embedded"):
        assert "  level " in warm[k] or "  semantic: " in warm[k], warm[k][:500]
    # In-process (tresnet-bench): plain forwards alternating with forward + labels, the labels step alone,
    # and reading the tree file.
    bench = run([os.path.join(a.bin, "tresnet-bench"), plain_tw, "--batch-size", str(a.batch), "--iterations", "10",
                 "--warmup", "2", "--threads", "2", "--semantic-tree", tree, "--json"])[1]
    b = bench_result(json.loads(bench))
    fwd, sem = b["median_s"], b["semantic_median_s"]
    lab, read = b["semantic_labels_median_s"], b["semantic_tree_read_s"]
    times = {k: [] for k in cmds}
    cpu = {k: [] for k in cmds}
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()
    for _ in range(a.rounds):
        for k, c in cmds.items():
            times[k].append(run(c)[0])
            cpu[k].append(CPU[-1])
    load1 = os.getloadavg()
    med = {k: statistics.median(v) for k, v in times.items()}
    lo = {k: min(v) for k, v in times.items()}
    cmed = {k: statistics.median(v) for k, v in cpu.items()}
    lines = [
        "## Semantic softmax on an ImageNet-21K head (issue 21)",
        "",
        f"`tresnet-predict` end to end on a batch of {a.batch} images (the readable Fixtures/tiny/images/*.jpg, 224×224 after "
        "preprocessing) with tresnet_m and an 11221-class head (random init, `Fixtures/gen_semantic.py --full`) and a "
        "generated 11221-class tree in MIIL's layout (11 levels). Wall time per run (open the weights, compile, "
        "decode, forward, print), "
        f"{a.rounds} alternating rounds after a warm-up; run {start}, load average {load0[0]:.2f} → {load1[0]:.2f}.",
        "",
        "| run | median s | min s | median / plain | median CPU s (user + sys) | CPU / plain |",
        "|---|---|---|---|---|---|",
    ]
    names = {"plain": "plain softmax (top-5)", "tree": "semantic, `--semantic-tree TREE.pth`",
             "embedded": "semantic, tree embedded in the .tw"}
    for k in cmds:
        lines.append(f"| {names[k]} | {med[k]:.3f} | {lo[k]:.3f} | {med[k] / med['plain']:.3f} | {cmed[k]:.3f} | "
                     f"{cmed[k] / cmed['plain']:.3f} |")
    lines += [
        "",
        f"In process (`tresnet-bench m21k.tw --batch {a.batch} --iterations 10 --warmup 2 --threads 2 "
        "--semantic-tree TREE.pth`: plain forwards alternating with forward + semantic labels of the batch):",
        "",
        "| step | ms | share of the plain forward |",
        "|---|---|---|",
        f"| plain forward, median | {fwd * 1000:.1f} | 100 % |",
        f"| forward + semantic labels, median | {sem * 1000:.1f} | {100 * sem / fwd:.1f} % |",
        f"| semantic labels alone (11 per-level softmaxes × {a.batch} images), median | {lab * 1000:.3f} | "
        f"{100 * lab / fwd:.3f} % |",
        f"| reading the 11221-class tree file (once per run) | {read * 1000:.1f} | {100 * read / fwd:.2f} % |",
        "",
        "The labels step and the tree read are what semantic prediction adds; the medians of whole runs differ by "
        "the machine's noise (both sides run the same forward). On a loaded machine the tree read's wall time is "
        "mostly waiting for a core: its CPU cost is the difference of the CPU columns above. The pickle is read "
        "with the inert pickle machine (about 1 MB, 11221 lists); a `.tw` that embeds the tree reads three typed "
        "arrays instead.",
    ]
    lines += [
        "",
        "Commands: `.venv/bin/python Fixtures/gen_semantic.py --full`, then "
        "`.venv/bin/python scripts/bench_semantic.py --bin $(swift build -c release --show-bin-path)` "
        f"(`--batch {a.batch} --rounds {a.rounds}`).",
    ]
    section = "\n".join(lines)
    text = open(a.output).read()
    begin, end = "<!-- semantic -->\n", "\n<!-- /semantic -->"
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + begin + section + end + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + begin + section + end + "\n"
    with open(a.output + ".tmp", "w") as f:
        f.write(text)
    os.replace(a.output + ".tmp", a.output)
    print(section)


if __name__ == "__main__":
    main()
