#!/usr/bin/env python3
"""Writes the zoo catalog (Zoo/catalog.json), the paper table (Zoo/paper_table.json) and their Swift embedding
(Sources/TResNetZoo/Generated/CatalogData.swift).

    .venv/bin/python Zoo/make_catalog.py

Two kinds of facts, kept apart:
  * read from the installed timm (`timm.models.get_pretrained_cfg`): hf_hub_id, input size, crop_pct, crop_mode,
    interpolation, mean/std, num_classes, and which tag is the default for a bare architecture name;
  * hand-written below, each with its public source in the entry's `sources` map: reported top-1 numbers,
    file names, URLs and their status, published checksums (full sha256 only where a page states one; the
    8-hex prefixes of timm's old release file names are recorded as prefixes, never as full hashes).
Nothing here is invented: a fact without a source is left null ("unknown"); `tresnet-zoo fetch` records the
sha256 of the first download in a cache-local pins file, never in this catalog.
"""
import json
import os
import sys

import timm
from timm.models import get_pretrained_cfg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------------------- sources
SRC_TIMM_CFG = f"timm {timm.__version__} timm/models/tresnet.py default_cfgs (read by Zoo/make_catalog.py)"
SRC_TIMM_RESULTS = ("huggingface/pytorch-image-models @ aa4b5850c1543fa488abf260f18390eda46cf85d "
                    "results/results-imagenet.csv (timm eval, timm cfg preprocessing)")
SRC_TIMM_HISTORY = ("huggingface/pytorch-image-models timm/models/tresnet.py history (commits 6209146, 0004f37, "
                    "80c9d9c, a08e5ae): old default_cfgs url / release file name")
SRC_TIMM_DEPRECATIONS = f"timm {timm.__version__} timm/models/tresnet.py register_model_deprecations"
SRC_MIIL_TRESNET = ("Alibaba-MIIL/TResNet @ aea5f0f96d0051800379160b994781cae2ad011c MODEL_ZOO.md, README.md, "
                    "infer.py")
SRC_MIIL_21K = "Alibaba-MIIL/ImageNet21K @ 6e4c6a45a79df46f7452d3ca87068c7f177979b2 README.md, MODEL_ZOO.md"
SRC_MIIL_USI = "Alibaba-MIIL/Solving_ImageNet README.md (USI teacher weights link tresnet_l_v2_83_9.pth)"
SRC_MIIL_HELPER = ("Alibaba-MIIL/TResNet src/helper_functions/helper_functions.py (448 validation: "
                   "squash Resize((448,448)), no crop, ToTensor only)")
SRC_MIIL_21K_PIPE = "Alibaba-MIIL/ImageNet21K train/val pipeline: squash Resize((224,224)), ToTensor only"
SRC_DEAD = ("the miil-public-eu.oss-eu-central-1.aliyuncs.com links answer HTTP 403 "
            "(TResNet#57, ML_Decoder#87, TResNet#33, #28)")
SRC_MIIL_TREE = ("Alibaba-MIIL/ImageNet21K visualize_detector.py (the fall11 tree the 11221-class heads were trained "
                 "with; the README's training section links the same file name under resources/)")
SRC_PAPER = "Ridnik et al., TResNet: High Performance GPU-Dedicated Architecture, arXiv:2003.13630, Table 1"

HF = "https://huggingface.co/{hub}/resolve/main/{file}"
HF_BLOB = "https://huggingface.co/{hub}/blob/main/{file}"
RELEASE = "https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-tresnet/{file}"
MIIL = "https://miil-public-eu.oss-eu-central-1.aliyuncs.com/model-zoo/{path}"

# Full sha256 digests stated by the HF file pages ("Git LFS Details: SHA256: …"), cited by URL.
HF_SHA256 = {
    ("timm/tresnet_v2_l.miil_in21k_ft_in1k", "model.safetensors"):
        "c9c65a12d4d20e71162143eecc7346913c1d12b79cd55ab22b6ee719f3b53eba",
    ("timm/tresnet_m.miil_in21k", "model.safetensors"):
        "f0c4dba14875e71f2fbd03f463ad475f0c708a9810be3ec0cc8ec5cfb1e35f24",
    ("timm/tresnet_l.miil_in1k", "model.safetensors"):
        "283febdbd4169e586d93a4ed769087157fe2079a7c390def0d28c59f8ef97c7f",
    ("timm/tresnet_m.miil_in21k_ft_in1k", "pytorch_model.bin"):
        "5122e23986895cf7dfbd05fc41ae431f2c7026e9bd4f7532c38ede454681e20a",
}
# Where no public page or repository quoting a file's LFS pointer (`oid sha256:`) was found, the catalog says so per
# file (`sha256_note`) and the digest stays null: the first fetch pins it (trust on first use), never this catalog.
SHA256_NOT_FOUND = ("no published SHA-256 found: the LFS pointer of {hub}/{file} is not quoted by any public page or "
                    "repository searched (2026-12-04: HF file pages, model cards, code and issue search for the hub id, "
                    "file name and 'oid sha256'); pinned on first fetch")
# Approximate sizes as the HF "Files and versions" pages show them (https://huggingface.co/<hub>/tree/main).
HF_APPROX_SIZE = {
    "timm/tresnet_m.miil_in21k_ft_in1k": ("126 MB", "126 MB"),
    "timm/tresnet_m.miil_in21k": ("210 MB", "210 MB"),
    "timm/tresnet_m.miil_in1k": ("126 MB", "126 MB"),
    "timm/tresnet_l.miil_in1k": ("224 MB", None),
    "timm/tresnet_l.miil_in1k_448": ("224 MB", "225 MB"),
    "timm/tresnet_xl.miil_in1k": ("314 MB", "315 MB"),
    "timm/tresnet_xl.miil_in1k_448": ("314 MB", "315 MB"),
    "timm/tresnet_v2_l.miil_in21k_ft_in1k": ("185 MB", "185 MB"),
}

# ------------------------------------------------------------------------------------- hand-written facts
# Per timm tag: reported numbers, dataset, old names and files. top-1 / top-5 from timm results-imagenet.csv.
TIMM = {
    "tresnet_m.miil_in21k_ft_in1k": dict(
        dataset="imagenet-1k", pretrain="imagenet-21k-p", top1=83.090, top5=96.112,
        reported=83.1, reported_src=SRC_MIIL_21K, official_resize="shorter-side-then-center-crop",
        aliases=["tresnet_m_1k_miil_83_1"],
        old=[("tresnet_m_1k_miil_83_1-d236afcb.pth", "d236afcb"),],
        miil=[("ImageNet_21K_P/models/timm/tresnet_m_1k_miil_83_1.pth", "timm (pre-0.9) default_cfgs url")]),
    "tresnet_m.miil_in21k": dict(
        dataset="imagenet-21k-p", pretrain=None, top1=None, top5=None, semantic=76.4,
        reported=None, official_resize="squash",
        old=[("tresnet_m_miil_in21k-901b6ed4.pth", "901b6ed4")],
        miil=[("ImageNet_21K_P/models/timm/tresnet_m_miil_in21k.pth", "timm (pre-0.9) default_cfgs url")]),
    "tresnet_m.miil_in1k": dict(
        dataset="imagenet-1k", pretrain=None, top1=80.816, top5=94.862, reported=80.8,
        reported_src=SRC_MIIL_TRESNET + " (README; paper v1 Table 3 says 80.7)",
        official_resize="shorter-side-then-center-crop",
        aliases=["tresnet_m_80_8"], old=[("tresnet_m_80_8-dbc13962.pth", "dbc13962")]),
    "tresnet_m.miil_in1k_448": dict(
        dataset="imagenet-1k", pretrain=None, top1=81.710, top5=95.562, reported=None,
        reported_note="about 83.2 read off paper Fig. 4 (squash resize); no exact number published",
        official_resize="squash", old=[("tresnet_m_448-bc359d10.pth", "bc359d10")]),
    "tresnet_l.miil_in1k": dict(
        dataset="imagenet-1k", pretrain=None, top1=81.498, top5=95.652, reported=81.5,
        reported_src=SRC_MIIL_TRESNET + " (README; paper Table 1 says 81.4)",
        official_resize="shorter-side-then-center-crop",
        aliases=["tresnet_l_81_5"], old=[("tresnet_l_81_5-235b486c.pth", "235b486c")]),
    "tresnet_l.miil_in1k_448": dict(
        dataset="imagenet-1k", pretrain=None, top1=82.278, top5=95.988, reported=None,
        reported_note="about 83.8 read off paper Fig. 4 (squash resize); no exact number published",
        official_resize="squash", old=[("tresnet_l_448-940d0cd1.pth", "940d0cd1")]),
    "tresnet_xl.miil_in1k": dict(
        dataset="imagenet-1k", pretrain=None, top1=82.060, top5=95.932, reported=82.0,
        reported_src=SRC_MIIL_TRESNET, official_resize="shorter-side-then-center-crop",
        aliases=["tresnet_xl_82_0"], old=[("tresnet_xl_82_0-a2d51b00.pth", "a2d51b00")]),
    "tresnet_xl.miil_in1k_448": dict(
        dataset="imagenet-1k", pretrain=None, top1=83.066, top5=96.180, reported=None,
        reported_note="84.3 read off paper Fig. 4 (PapersWithCode lists 84.3); squash resize",
        official_resize="squash", old=[("tresnet_xl_448-8c1815de.pth", "8c1815de")]),
    "tresnet_v2_l.miil_in21k_ft_in1k": dict(
        dataset="imagenet-1k", pretrain="imagenet-21k-p", top1=83.910, top5=96.492, reported=83.9,
        reported_src=SRC_MIIL_21K, official_resize="shorter-side-then-center-crop",
        aliases=["tresnet_l_v2_83_9", "tresnet_v2_l.miil_in1k"],
        old=[("tresnet_l_v2_83_9-f36e4445.pth", "f36e4445")],
        miil=[("USI/tresnet_l_v2_83_9.pth", SRC_MIIL_USI)]),
    "tresnet_v2_l.miil_in21k": dict(
        dataset="imagenet-21k-p", pretrain=None, top1=None, top5=None, semantic=76.7, reported=None,
        official_resize="squash", old=[]),
}

# The original MIIL repository checkpoints (old naming, InPlaceABN weights; all links dead).
MIIL_ENTRIES = [
    # tag, arch, classes, size, file path, wrapper, same weights as, reported top-1, source, resize, semantic
    ("miil/tresnet_m", "tresnet_m", 1000, 224, "tresnet/tresnet_m.pth", "model", "tresnet_m.miil_in1k",
     80.8, SRC_MIIL_TRESNET, "shorter-side-then-center-crop", None),
    ("miil/tresnet_l", "tresnet_l", 1000, 224, "tresnet/tresnet_l.pth", "model", "tresnet_l.miil_in1k",
     81.5, SRC_MIIL_TRESNET, "shorter-side-then-center-crop", None),
    ("miil/tresnet_xl", "tresnet_xl", 1000, 224, "tresnet/tresnet_xl.pth", "model", "tresnet_xl.miil_in1k",
     82.0, SRC_MIIL_TRESNET, "shorter-side-then-center-crop", None),
    ("miil/tresnet_m_448", "tresnet_m", 1000, 448, "tresnet/tresnet_m_448.pth", "model",
     "tresnet_m.miil_in1k_448", None, None, "squash", None),
    ("miil/tresnet_l_448", "tresnet_l", 1000, 448, "tresnet/tresnet_l_448.pth", "model",
     "tresnet_l.miil_in1k_448", None, None, "squash", None),
    ("miil/tresnet_xl_448", "tresnet_xl", 1000, 448, "tresnet/tresnet_xl_448.pth", "model",
     "tresnet_xl.miil_in1k_448", None, None, "squash", None),
    ("miil/tresnet_m_miil_21k", "tresnet_m", 11221, 224, "ImageNet_21K_P/models/tresnet_m_miil_21k.pth",
     "state_dict", "tresnet_m.miil_in21k", None, SRC_MIIL_21K, "squash", 76.4),
    ("miil/tresnet_l_v2_miil_21k", "tresnet_v2_l", 11221, 224, "ImageNet_21K_P/models/tresnet_l_v2_miil_21k.pth",
     "state_dict", "tresnet_v2_l.miil_in21k", None, SRC_MIIL_21K, "squash", 76.7),
]

LABEL_SET = {1000: "imagenet-1k", 11221: "imagenet-21k-miil"}


def semantic_tree_resources(dataset):
    """The semantic tree published beside the ImageNet-21K-P weights (docs/SEMANTIC.md); no checksum is published."""
    if dataset != "imagenet-21k-p":
        return []
    path = "ImageNet_21K_P/resources/fall11/imagenet21k_miil_tree.pth"
    return [dict(
        name="imagenet21k_miil_tree.pth", url=MIIL.format(path=path), format="pytorch-zip", naming="semantic-tree",
        wrapper=None, status="dead", sha256=None, sha256_source=None, sha256_prefix=None, sha256_prefix_source=None,
        size=None, approx_size=None, approx_size_source=None, status_source=SRC_MIIL_TREE + "; " + SRC_DEAD)]


def resize_policy(kind, size, crop_pct):
    if kind == "squash":
        return dict(kind="squash", resize=[size, size], crop=None,
                    description=f"resize to {size}x{size} ignoring aspect ratio, no crop")
    short = int(size / crop_pct)
    return dict(kind="shorter-side-then-center-crop", resize_shorter=short, crop=[size, size],
                description=f"resize the shorter side to {short} (= int({size}/{crop_pct})), center crop {size}")


def official_source(kind, size, dataset):
    if dataset == "imagenet-21k-p":
        return SRC_MIIL_21K_PIPE
    if kind == "squash":
        return SRC_MIIL_HELPER
    return "Alibaba-MIIL/TResNet infer.py: Resize(int(224/0.875)=256), CenterCrop(224), ToTensor only"


def timm_entry(tag, default_for):
    cfg = get_pretrained_cfg(tag).to_dict()
    facts = TIMM[tag]
    hub = cfg["hf_hub_id"]
    arch = cfg["architecture"]
    size = cfg["input_size"][1]
    classes = cfg["num_classes"]
    files = []
    approx = HF_APPROX_SIZE.get(hub, (None, None))
    for i, (name, fmt) in enumerate([("model.safetensors", "safetensors"), ("pytorch_model.bin", "pytorch-zip")]):
        sha = HF_SHA256.get((hub, name))
        files.append(dict(
            name=name, url=HF.format(hub=hub, file=name), format=fmt, naming="timm", wrapper=None, status="live",
            sha256=sha, sha256_source=HF_BLOB.format(hub=hub, file=name) if sha else None,
            sha256_prefix=None, sha256_prefix_source=None, size=None, approx_size=approx[i],
            approx_size_source=f"https://huggingface.co/{hub}/tree/main" if approx[i] else None,
            status_source=SRC_TIMM_CFG + " (hf_hub_id)"))
        if not sha:
            files[-1]["sha256_note"] = SHA256_NOT_FOUND.format(hub=hub, file=name)
    for name, prefix in facts.get("old", []):
        files.append(dict(
            name=name, url=RELEASE.format(file=name), format="pytorch-zip", naming="miil", wrapper=None,
            status="unverified", sha256=None, sha256_source=None, sha256_prefix=prefix,
            sha256_prefix_source=SRC_TIMM_HISTORY + " (torch.hub convention: 8-hex sha256 prefix in the file name)",
            size=None, approx_size=None, approx_size_source=None,
            status_source="timm's pretrained_cfg: GitHub release v0.1-tresnet; not fetched here"))
    for path, src in facts.get("miil", []):
        files.append(dict(
            name=path.rsplit("/", 1)[1], url=MIIL.format(path=path), format="pytorch-zip", naming="miil",
            wrapper=None, status="dead", sha256=None, sha256_source=None, sha256_prefix=None,
            sha256_prefix_source=None, size=None, approx_size=None, approx_size_source=None,
            status_source=src + "; " + SRC_DEAD))
    aliases = list(facts.get("aliases", []))
    aliases += [old for old, new in DEPRECATIONS.items() if new == tag]
    if default_for:
        aliases.append(default_for)
    for f in files:
        if f["naming"] == "miil":
            aliases.append(f["name"])
    kind = facts["official_resize"]
    entry = dict(
        tag=tag, publisher="timm", architecture=arch, dataset=facts["dataset"],
        pretrain_dataset=facts.get("pretrain"), num_classes=classes, label_set=LABEL_SET[classes],
        input_size=size, hub_id=hub,
        preprocessing=dict(
            mean=list(cfg["mean"]), std=list(cfg["std"]), scale="rgb/255", crop_pct=cfg["crop_pct"],
            crop_mode=cfg["crop_mode"], interpolation=cfg["interpolation"],
            resize=resize_policy("shorter-side-then-center-crop", size, cfg["crop_pct"]),
            official_resize=resize_policy(kind, size, cfg["crop_pct"])),
        top1=facts.get("top1"), top5=facts.get("top5"), reported_top1=facts.get("reported"),
        reported_note=facts.get("reported_note"), semantic_top1=facts.get("semantic"),
        same_weights_as=None, aliases=aliases, files=files, resources=semantic_tree_resources(facts["dataset"]),
        sources=dict(
            architecture=SRC_TIMM_CFG, num_classes=SRC_TIMM_CFG, input_size=SRC_TIMM_CFG, hub_id=SRC_TIMM_CFG,
            preprocessing=SRC_TIMM_CFG, official_resize=official_source(kind, size, facts["dataset"]),
            top1=SRC_TIMM_RESULTS if facts.get("top1") is not None else None,
            reported_top1=facts.get("reported_src") if facts.get("reported") is not None else None,
            semantic_top1=SRC_MIIL_21K if facts.get("semantic") is not None else None,
            dataset="timm's tag naming (miil_in1k / miil_in21k / miil_in21k_ft_in1k)",
            aliases=SRC_TIMM_DEPRECATIONS + "; " + SRC_TIMM_HISTORY,
            label_set="timm ImageNetInfo: 1000 -> imagenet-1k, 11221 -> imagenet-21k-miil"))
    return entry


def miil_entry(row):
    tag, arch, classes, size, path, wrapper, same, reported, rsrc, kind, semantic = row
    name = path.rsplit("/", 1)[1]
    dataset = "imagenet-21k-p" if classes == 11221 else "imagenet-1k"
    policy = resize_policy(kind, size, 0.875)
    return dict(
        tag=tag, publisher="Alibaba-MIIL", architecture=arch, dataset=dataset, pretrain_dataset=None,
        num_classes=classes, label_set=LABEL_SET[classes], input_size=size, hub_id=None,
        preprocessing=dict(
            mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0], scale="rgb/255",
            crop_pct=1.0 if kind == "squash" else 0.875, crop_mode="squash" if kind == "squash" else "center",
            interpolation="bilinear", resize=policy, official_resize=policy),
        top1=None, top5=None, reported_top1=reported, reported_note=TIMM[same].get("reported_note"),
        semantic_top1=semantic,
        same_weights_as=same, aliases=[name], files=[dict(
            name=name, url=MIIL.format(path=path), format="pytorch-zip", naming="miil", wrapper=wrapper,
            status="dead", sha256=None, sha256_source=None, sha256_prefix=None, sha256_prefix_source=None,
            size=None, approx_size=None, approx_size_source=None,
            status_source=(SRC_MIIL_21K if classes == 11221 else SRC_MIIL_TRESNET) + "; " + SRC_DEAD)],
        resources=semantic_tree_resources(dataset),
        sources=dict(
            architecture=SRC_MIIL_21K + " (tresnet_l in that repo builds the v2 layout)" if arch == "tresnet_v2_l"
            else SRC_MIIL_TRESNET,
            num_classes=SRC_MIIL_21K if classes == 11221 else SRC_MIIL_TRESNET,
            input_size=SRC_MIIL_TRESNET if classes == 1000 else SRC_MIIL_21K,
            preprocessing=official_source(kind, size, dataset) + "; mean/std: none (docs/TRESNET.md, Preprocessing)",
            official_resize=official_source(kind, size, dataset),
            reported_top1=rsrc if reported is not None else None,
            semantic_top1=rsrc if semantic is not None else None,
            same_weights_as="timm's pretrained_cfg history (timm tags were converted from these originals)",
            wrapper="the MIIL checkpoints as published (['model'] in the TResNet zoo, ['state_dict'] in the 21K zoo)"))


def multilabel_entries():
    """The multi-label TResNets (ML-Decoder and ASL heads; docs/MULTILABEL.md) from Zoo/multilabel.json, written by
    Zoo/make_multilabel.py, in the catalog's schema plus the multi-label facts: `head` (`ml_decoder` or `fc`),
    `groups` (ML-Decoder queries), `threshold` (the authors' inference threshold) and `reported_map`."""
    with open(os.path.join(ROOT, "Zoo", "multilabel.json"), encoding="utf-8") as f:
        data = json.load(f)
    out = []
    for e in data["entries"]:
        size = e["input_size"]
        p = dict(e["preprocessing"])
        p.pop("description")
        policy = resize_policy("squash", size, p["crop_pct"])
        files = [dict(f, format="pytorch", sha256_prefix=None, sha256_prefix_source=None, size=None,
                      approx_size=None, approx_size_source=None,
                      status_source=e["sources"]["url"] + "; not fetched here") for f in e["files"]]
        for f in files:
            f.pop("class_names", None)
        out.append(dict(
            tag=e["tag"], publisher=e["publisher"], architecture=e["architecture"], dataset=e["dataset"],
            pretrain_dataset=None, num_classes=e["num_classes"], label_set=e["label_set"] or "", input_size=size,
            hub_id=None, preprocessing=dict(p, resize=policy, official_resize=policy),
            top1=None, top5=None, reported_top1=None, reported_note=e["note"], semantic_top1=None,
            same_weights_as=None, aliases=[f["name"] for f in files], files=files, resources=[],
            head=e["head"], groups=e["groups"], threshold=e["threshold"], reported_map=e["reported_map"],
            sources=dict(e["sources"], official_resize=e["sources"]["preprocessing"],
                         num_classes=e["sources"]["reported_map"] or e["sources"]["url"],
                         input_size=e["sources"]["reported_map"] or e["sources"]["url"],
                         label_set="Zoo/make_multilabel.py: the 80 MS-COCO categories in category-id order"
                         if e["label_set"] else "the checkpoint's idx_to_class")))
    return out, data["label_sets"]


def paper_table():
    return dict(
        note="V100, mixed precision, 224 px. Throughput and max batch as the authors report them.",
        tresnet_paper=dict(
            source=SRC_PAPER + "; " + SRC_MIIL_TRESNET + " (README updates: M 80.8, L 81.5)",
            columns=["model", "train_img_per_s", "infer_img_per_s", "max_train_batch", "top1", "flops_g"],
            rows=[
                ["ResNet50", 805, 2830, 288, 79.0, 4.1],
                ["TResNet-M", 730, 2930, 512, 80.7, 5.5],
                ["TResNet-L", 345, 1390, 316, 81.4, None],
                ["TResNet-XL", 250, 1060, 240, 82.0, None],
            ]),
        imagenet21k_model_zoo=dict(
            source=SRC_MIIL_21K,
            columns=["model", "semantic_top1", "top1_1k_finetuned", "max_train_batch", "train_img_per_s",
                     "infer_img_per_s"],
            rows=[
                ["TResNet-M", 76.4, 83.1, 520, 670, 2970],
                ["TResNet-L (V2)", 76.7, 83.9, 240, 300, 1460],
            ]))


DEPRECATIONS = {}


def main():
    global DEPRECATIONS
    import timm.models._registry as reg
    DEPRECATIONS = {k: v for k, v in reg._deprecated_models.items() if k.startswith("tresnet")}
    tags = timm.list_pretrained("tresnet*")
    if sorted(tags) != sorted(TIMM):
        sys.exit(f"timm lists {sorted(tags)}, the hand-written facts cover {sorted(TIMM)}")
    # timm's default tag for a bare architecture name is the first pretrained cfg of that architecture.
    defaults = {}
    for tag in get_default_order():
        arch = tag.split(".")[0]
        defaults.setdefault(arch, tag)
    entries = []
    for tag in get_default_order():
        arch = tag.split(".")[0]
        entries.append(timm_entry(tag, arch if defaults[arch] == tag else None))
    entries += [miil_entry(r) for r in MIIL_ENTRIES]
    multilabel, multilabel_sets = multilabel_entries()
    entries += multilabel
    seen = {}
    for e in entries:
        for key in [e["tag"]] + e["aliases"]:
            if key in seen and seen[key] != e["tag"]:
                sys.exit(f"alias {key} names both {seen[key]} and {e['tag']}")
            seen[key] = e["tag"]
    catalog = dict(
        schema=1, generated_by="Zoo/make_catalog.py", timm_version=timm.__version__,
        label_sets={"imagenet-1k": 1000, "imagenet-21k-miil": 11221, "imagenet-21k-miil-w21": 10450,
                    **multilabel_sets},
        entries=entries)
    with open(os.path.join(ROOT, "Zoo", "catalog.json"), "w", encoding="utf-8") as f:
        json.dump(catalog, f, indent=2)
        f.write("\n")
    table = paper_table()
    with open(os.path.join(ROOT, "Zoo", "paper_table.json"), "w", encoding="utf-8") as f:
        json.dump(table, f, indent=2)
        f.write("\n")
    write_swift(catalog, table)


def get_default_order():
    import timm.models.tresnet as t
    return [f"{arch}.{tag}" for arch, dc in t.default_cfgs.items() for tag in dc.tags]


def write_swift(catalog, table):
    gen_dir = os.path.join(ROOT, "Sources", "TResNetZoo", "Generated")
    os.makedirs(gen_dir, exist_ok=True)
    cat = json.dumps(catalog, indent=1)
    tab = json.dumps(table, indent=1)
    for text in (cat, tab):
        if '"#' in text:
            sys.exit("JSON would end the raw string literal")
    src = "\n".join([
        "// GENERATED by Zoo/make_catalog.py from Zoo/catalog.json and Zoo/paper_table.json — do not edit.",
        "// Embedded as source (not a SwiftPM resource) so the library works from any install location.",
        "",
        "enum CatalogData {",
        '    static let catalogJSON = #"""',
        cat,
        '"""#',
        "",
        '    static let paperTableJSON = #"""',
        tab,
        '"""#',
        "}",
        ""])
    with open(os.path.join(gen_dir, "CatalogData.swift"), "w", encoding="utf-8") as f:
        f.write(src)


if __name__ == "__main__":
    main()
