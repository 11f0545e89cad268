#!/usr/bin/env python3
"""Semantic-softmax fixtures (issue 21): small ImageNet-21K-style semantic trees in the published layout, a
synset-named ImageFolder made of links to committed images, and what the rules below make of the tiny model's
PyTorch logits on it.

    .venv/bin/python Fixtures/gen_semantic.py          # -> Fixtures/tiny/semantic/   (needs tiny_v1.pth, imagefolder/)
    .venv/bin/python Fixtures/gen_semantic.py --full   # -> Fixtures/full/ (not committed): tresnet_m with an
                                                       #    11221-class head (random init) and an 11221-class tree

Writes only new files (never touches another generator's output).

The tree layout is the one of MIIL's imagenet21k_miil_tree.pth: torch.save of a dict with
  class_list        synset ids in class-index order
  class_description synset -> readable name
  class_tree_list   per class: [class, parent, grandparent, ..., root]

The rules (restated in docs/SEMANTIC.md), implemented here independently of the Swift code:
  depth(i) = len(class_tree_list[i]) - 1; the levels are the depths 0 .. max_depth-1 that hold more than one
  class; a level's classes in index order form one softmax group. Inference: per level softmax, report the
  level's top-1 when its probability exceeds 0.5. Semantic accuracy: for every image and every level where the
  target class has an ancestor (or itself) at the level's depth, the level's argmax must be that ancestor;
  accuracy = correct / valid pairs.

Fixtures/tiny/semantic/
  tree10.pth             valid tree for tiny_v1 (10 classes): levels at depths 0, 2 (4 classes), 3; depth 1 holds
                         one class (skipped); depth 4 is the maximum depth (its class belongs to no level); classes are
                         numbered in a shuffled order so no level is a contiguous range
  bad_count.pth          9 classes (the model has 10)
  bad_cycle.pth          two classes (D, H) listing each other as parent
  bad_range.pth          an ancestor index 10 in a 10-class tree
  imagefolder/<synset>/  symbolic links to Fixtures/tiny/imagefolder/* (no image bytes of its own)
  expected.json          per image: target, PyTorch logits, per-level top-1 and probability, the semantic labels
                         (> 0.5); totals: semantic correct / valid / accuracy, top-1 / top-5 against synset targets
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

OUT = os.path.join(HERE, "tiny", "semantic")

# Structure of the tiny tree by letter: letter -> parent letter (None = root).
STRUCTURE = {
    "A": None, "B": None,                     # depth 0: level
    "C": "A",                                 # depth 1: one class, skipped
    "D": "C", "E": "C", "F": "C", "G": "C",   # depth 2: level
    "H": "D", "I": "E",                       # depth 3: level
    "J": "H",                                 # depth 4: the maximum depth, in no level
}
# Letter -> class index (shuffled, so parents may have larger indices than children).
INDEX = {"A": 7, "B": 2, "C": 9, "D": 0, "E": 5, "F": 3, "G": 8, "H": 1, "I": 4, "J": 6}
NAMES = {"A": "organism", "B": "artifact", "C": "animal", "D": "bird", "E": "mammal", "F": "fish",
         "G": "reptile", "H": "songbird", "I": "dog", "J": "finch"}
# The ImageFolder: synset folder (by letter) -> images of Fixtures/tiny/imagefolder linked into it.
FOLDER = {
    "B": ["alpha/img0.jpg", "alpha/img1.png"],
    "C": ["alpha/img2.jpg"],
    "F": ["beta/img0.jpg", "beta/broken.jpg"],
    "H": ["beta/img1.jpg", "beta/img2.png"],
    "I": ["gamma/img0.jpg"],
    "J": ["gamma/img1.jpg", "gamma/img2.png"],
}


def synset(i):
    return f"n9{i:07d}"  # fictional WordNet-style ids (real ones start n0 / n1)


def tree_lists(parent_of, n):
    out = []
    for i in range(n):
        chain = [i]
        while parent_of[chain[-1]] is not None:
            chain.append(parent_of[chain[-1]])
        out.append(chain)
    return out


def tiny_tree():
    n = len(STRUCTURE)
    parent_of = [None] * n
    for letter, parent in STRUCTURE.items():
        parent_of[INDEX[letter]] = None if parent is None else INDEX[parent]
    class_list = [synset(i) for i in range(n)]
    description = {synset(INDEX[k]): NAMES[k] for k in sorted(STRUCTURE, key=lambda k: INDEX[k])}
    description["n98888888"] = "not a class of this head (the published dict may hold extra names)"
    return dict(class_list=class_list, class_description=description,
                class_tree_list=tree_lists(parent_of, n))


# ----------------------------------------------------------------------------------------- the rules, in numpy

class Rules:
    def __init__(self, tree):
        self.tree = tree
        lists = tree["class_tree_list"]
        self.depth = np.array([len(x) - 1 for x in lists])
        max_depth = int(self.depth.max())
        self.levels = []  # (depth, class indices in index order)
        for d in range(max_depth):
            members = np.nonzero(self.depth == d)[0]
            if len(members) > 1:
                self.levels.append((d, members))

    def level_tops(self, logits):
        out = []
        for d, members in self.levels:
            x = np.asarray(logits, dtype=np.float64)[members]
            e = np.exp(x - x.max())
            p = e / e.sum()
            k = int(np.argmax(p))  # first maximum
            out.append(dict(level=d, class_index=int(members[k]), probability=float(p[k]),
                            margin=float(np.sort(x)[-1] - np.sort(x)[-2])))
        return out

    def labels(self, logits):
        tree = self.tree
        return [dict(level=t["level"], class_index=t["class_index"], synset=tree["class_list"][t["class_index"]],
                     description=tree["class_description"][tree["class_list"][t["class_index"]]],
                     probability=t["probability"])
                for t in self.level_tops(logits) if t["probability"] > 0.5]

    def score(self, logits, target):
        chain = self.tree["class_tree_list"][target]
        correct = valid = 0
        for top in self.level_tops(logits):
            k = len(chain) - 1 - top["level"]
            if k < 0:
                continue
            valid += 1
            correct += int(top["class_index"] == chain[k])
        return correct, valid


# ------------------------------------------------------------------------------------------------- tiny fixtures

def make_tiny():
    import gen_images
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    tree = tiny_tree()
    torch.save(tree, os.path.join(OUT, "tree10.pth"))

    # 9 classes: the tree without J (a leaf), indices above J's closed up; valid in itself
    j = INDEX["J"]
    keep = [i for i in range(len(STRUCTURE)) if i != j]
    renumber = {old: new for new, old in enumerate(keep)}
    bad = dict(class_list=[synset(i) for i in keep], class_description=tree["class_description"],
               class_tree_list=[[renumber[c] for c in tree["class_tree_list"][i]] for i in keep])
    torch.save(bad, os.path.join(OUT, "bad_count.pth"))

    bad = tiny_tree()  # D and G name each other as parent
    d, g = INDEX["D"], INDEX["H"]
    bad["class_tree_list"][d] = [d, g]
    bad["class_tree_list"][g] = [g, d]
    torch.save(bad, os.path.join(OUT, "bad_cycle.pth"))

    bad = tiny_tree()  # an ancestor index past the end
    bad["class_tree_list"][INDEX["F"]] = [INDEX["F"], 10, INDEX["A"]]
    torch.save(bad, os.path.join(OUT, "bad_range.pth"))

    # The synset-named ImageFolder: links into Fixtures/tiny/imagefolder.
    root = os.path.join(OUT, "imagefolder")
    for letter, files in FOLDER.items():
        folder = os.path.join(root, synset(INDEX[letter]))
        os.makedirs(folder)
        for rel in files:
            name = rel.replace("/", "_")
            os.symlink(os.path.join("..", "..", "..", "imagefolder", rel), os.path.join(folder, name))

    rules = Rules(tree)
    model = gen_images.tiny_model()
    tf = gen_images.transform(gen_images.MODEL_POLICY)
    per_image, unreadable = [], []
    correct = valid = top1 = top5 = 0
    for folder in sorted(os.listdir(root)):  # torchvision ImageFolder order: sorted folders, sorted files
        target = tree["class_list"].index(folder)
        for name in sorted(os.listdir(os.path.join(root, folder))):
            rel = f"{folder}/{name}"
            try:
                x = tf(gen_images.load_rgb(os.path.join(root, rel)))
            except Exception as e:  # noqa: BLE001 - listed, as the Swift run lists it
                unreadable.append(dict(path=rel, error=f"{type(e).__name__}: {e}"))
                continue
            with torch.no_grad():
                logits = model(x[None])[0].double().tolist()
            tops = rules.level_tops(logits)
            for t in tops:  # the Swift run's f32 logits differ from PyTorch's in the last bits: keep clear margins
                assert abs(t["probability"] - 0.5) > 1e-3 and t["margin"] > 1e-3, (rel, t)
            c, v = rules.score(logits, target)
            correct += c
            valid += v
            order = sorted(range(len(logits)), key=lambda i: (-logits[i], i))
            top1 += int(order[0] == target)
            top5 += int(target in order[:5])
            per_image.append(dict(path=rel, target=target, logits=logits, level_tops=tops,
                                  semantic=rules.labels(logits), semantic_correct=c, semantic_valid=v))
    n = len(per_image)
    result = dict(
        tree="tree10.pth", model="tiny_v1.pth", policy=gen_images.MODEL_POLICY,
        levels=[dict(depth=d, classes=[int(i) for i in m]) for d, m in rules.levels],
        images=n, unreadable=unreadable, semantic_correct=correct, semantic_valid=valid,
        semantic_accuracy=100.0 * correct / valid, top1_correct=top1, top5_correct=top5,
        top1=100.0 * top1 / n, top5=100.0 * top5 / n, per_image=per_image)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"semantic: {n} images, levels at depths {[d for d, _ in rules.levels]}, semantic accuracy "
          f"{result['semantic_accuracy']:.2f}% ({correct}/{valid}), "
          f"{sum(len(p['semantic']) for p in per_image)} labels above 0.5")


# ------------------------------------------------------------------------------------------------- full size

def full_tree(n=11221, depths=12, seed=21):
    """A random tree in the published layout over the imagenet-21k-miil synsets: `depths` depths (0 .. 11), so
    11 levels (the maximum depth is no level), every depth but the last holding many classes."""
    labels = os.path.join(os.path.dirname(HERE), "Zoo", "labels", "imagenet-21k-miil.txt")
    with open(labels, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
    assert len(rows) == n, len(rows)
    rng = np.random.default_rng(seed)
    # classes per depth: grows, then shrinks at the bottom (as WordNet's does)
    weights = np.array([2, 8, 30, 90, 200, 400, 600, 700, 600, 400, 150, 20], dtype=np.float64)[:depths]
    counts = np.maximum(2, np.floor(weights / weights.sum() * n).astype(int))
    counts[5] += n - counts.sum()
    order = rng.permutation(n)  # class indices by depth, shuffled
    parent_of = [None] * n
    start = 0
    previous = None
    for d, c in enumerate(counts):
        members = order[start:start + c]
        if previous is not None:
            for m in members:
                parent_of[int(m)] = int(previous[rng.integers(len(previous))])
        previous = members
        start += c
    return dict(class_list=[r[0] for r in rows], class_description={r[0]: r[1] for r in rows},
                class_tree_list=tree_lists(parent_of, n))


def make_full():
    from timm.models.tresnet import TResNet
    out = os.path.join(HERE, "full")
    os.makedirs(out, exist_ok=True)
    tree = full_tree()
    rules = Rules(tree)
    assert len(rules.levels) == 11, [d for d, _ in rules.levels]
    torch.save(tree, os.path.join(out, "semantic_tree_11221.pth"))
    torch.manual_seed(21)
    model = TResNet(layers=[3, 4, 11, 3], num_classes=11221).eval()  # tresnet_m body, 21K head, random init
    torch.save(model.state_dict(), os.path.join(out, "tresnet_m_21k_random.pth"))
    print(f"full: tresnet_m_21k_random.pth (11221 classes), semantic_tree_11221.pth "
          f"({len(rules.levels)} levels, depths {[int((rules.depth == d).sum()) for d in range(12)]})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="write the full-size model and tree to Fixtures/full/")
    args = ap.parse_args()
    if args.full:
        make_full()
    else:
        make_tiny()
