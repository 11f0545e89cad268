#!/usr/bin/env python3
"""ML-Decoder TResNets (multi-label heads) for tresnet-kit's tests, from this script's own PyTorch implementation
of the published ML-Decoder definition (docs/MULTILABEL.md restates it).

    python Fixtures/gen_mldecoder.py          # micro fixtures -> Fixtures/tiny/mldecoder/ (committed, < 150 kB)
    python Fixtures/gen_mldecoder.py --full   # full-size heads -> Fixtures/full/mldecoder/ (git-ignored)
    python Fixtures/gen_mldecoder.py --check-onnx OUT.onnx REFERENCE.npz [--save ORT.npz]
        # ONNX Runtime on the toolkit's own export (tresnet-convert X.pth OUT.onnx): logits vs PyTorch's, batch 2
        # (the image and its vertical mirror). The committed mld_v2_grouped.toolkit_onnx.ort.npz was made so:
        #   tresnet-convert Fixtures/tiny/mldecoder/mld_v2_grouped.pth /tmp/m.onnx
        #   python Fixtures/gen_mldecoder.py --check-onnx /tmp/m.onnx Fixtures/tiny/mldecoder/mld_v2_grouped.reference.npz \
        #       --save Fixtures/tiny/mldecoder/mld_v2_grouped.toolkit_onnx.ort.npz

Micro fixtures (body timm TResNet blocks at width 1, layers [1,1,1,1]; BN statistics measured on random images
after perturbing the affine parameters, as generate.make_model does):
    mld_v1_full.pth      v1 body, 5 classes, 5 groups (full decoding: one query per class, D = 1)
    mld_v2_grouped.pth   v2 body (Bottlenecks everywhere), 7 classes, 3 groups: D = int(7/3 + 0.999) = 3,
                         the last group's outputs cut (9 -> 7)
Each is saved as the ML-Decoder code saves a model: {'model': state_dict, 'idx_to_class': {i: name}}, the body
in the MIIL spelling with raw InPlaceABN weights (generate.to_miil), the head under `head.decoder.`; its
`<name>.reference.npz` holds the input (1x3x64x64, values k/16) and the taps (body taps + `head`, the logits) and `head.float64`, the
same forward in float64. `mld_v1_full.ort.npz` holds ONNX Runtime's logits of this script's ONNX export of it
(torch.onnx, for reference; the toolkit's own export is compared with the PyTorch reference in the tests).

coco_tiny.json: a COCO-format annotation file (instances) over Fixtures/tiny/images, 5 COCO categories; its
`expected` block holds the mAP and per-class AP that mld_v1_full gives on those images at 64x64 (squash, bilinear,
no mean/std) computed with numpy exactly as the ASL / ML-Decoder helper `mAP` does.
"""
import argparse
import json
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from PIL import Image, ImageOps
from timm.layers import BlurPool2d
from timm.models.tresnet import TResNet, Bottleneck, BasicBlock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as G  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BODY_TAPS = ["body.s2d", "body.conv1", "body.layer1", "body.layer2", "body.layer3", "body.layer4"]
TAPS = BODY_TAPS + ["head"]

# The 80 MS-COCO names in category-id order and their ids: one list, Zoo/make_multilabel.py's (the zoo's label set).
sys.path.insert(0, os.path.join(HERE, "..", "Zoo"))
from make_multilabel import COCO80, COCO80_IDS  # noqa: E402


# ---------------------------------------------------------------------------------------------------------------
# The head, written from the published definition (module names = the checkpoint's tensor names).

class DecoderLayer(nn.Module):
    """One post-norm decoder layer without self-attention: in eval, the first residual adds the queries to
    themselves (dropout is the identity), then cross-attention to the tokens, then the feed-forward block."""

    def __init__(self, embed, heads, ff):
        super().__init__()
        self.norm1 = nn.LayerNorm(embed, eps=1e-5)
        self.multihead_attn = nn.MultiheadAttention(embed, heads)
        self.linear1 = nn.Linear(embed, ff)
        self.linear2 = nn.Linear(ff, embed)
        self.norm2 = nn.LayerNorm(embed, eps=1e-5)
        self.norm3 = nn.LayerNorm(embed, eps=1e-5)

    def forward(self, q, tokens):  # q [G, N, E], tokens [T, N, E] (sequence-first)
        q = self.norm1(q + q)
        q = self.norm2(q + self.multihead_attn(q, tokens, tokens, need_weights=False)[0])
        return self.norm3(q + self.linear2(torch.relu(self.linear1(q))))


class Decoder(nn.Module):
    def __init__(self, classes, features, groups, embed, heads, ff):
        super().__init__()
        self.classes = classes
        self.factor = int(classes / groups + 0.999)
        # own parameters first: this is where the state dict lists them
        self.duplicate_pooling = nn.Parameter(torch.empty(groups, embed, self.factor))
        self.duplicate_pooling_bias = nn.Parameter(torch.zeros(classes))
        self.layers = nn.ModuleList([DecoderLayer(embed, heads, ff)])
        self.embed_standart = nn.Linear(features, embed)
        self.query_embed = nn.Embedding(groups, embed)
        nn.init.xavier_normal_(self.duplicate_pooling)


class MLDecoderHead(nn.Module):
    def __init__(self, classes, features, groups=-1, embed=768, heads=8, ff=2048):
        super().__init__()
        groups = 100 if groups < 0 else groups
        groups = min(groups, classes)
        self.decoder = Decoder(classes, features, groups, embed, heads, ff)

    def forward(self, x):  # x [N, F, H, W]
        d = self.decoder
        tokens = torch.relu(d.embed_standart(x.flatten(2).transpose(1, 2)))  # [N, T, E]
        q = d.query_embed.weight.unsqueeze(1).expand(-1, x.shape[0], -1)  # [G, N, E]
        for layer in d.layers:
            q = layer(q, tokens.transpose(0, 1))
        h = q.transpose(0, 1)  # [N, G, E]
        out = torch.einsum("nge,ged->ngd", h, d.duplicate_pooling)  # group FC
        return out.flatten(1)[:, :d.classes] + d.duplicate_pooling_bias


def reference_head_numpy(head, feat):
    """The same head in float64 numpy, with attention written out (softmax(QKᵀ/√d)V per head): the check of the
    module version against the definition's semantics."""
    d = head.decoder
    P = {k: v.detach().double().numpy() for k, v in d.state_dict().items()}
    x = feat.double().numpy()
    n, f = x.shape[:2]
    tok = np.maximum(x.reshape(n, f, -1).transpose(0, 2, 1) @ P["embed_standart.weight"].T + P["embed_standart.bias"], 0)

    def ln(v, w, b):
        m = v.mean(-1, keepdims=True)
        var = ((v - m) ** 2).mean(-1, keepdims=True)
        return (v - m) / np.sqrt(var + 1e-5) * w + b

    E = P["embed_standart.weight"].shape[0]
    heads = d.layers[0].multihead_attn.num_heads
    hd = E // heads
    L = "layers.0."
    out = []
    for i in range(n):
        q = P["query_embed.weight"]
        q = ln(q + q, P[L + "norm1.weight"], P[L + "norm1.bias"])
        W, B = P[L + "multihead_attn.in_proj_weight"], P[L + "multihead_attn.in_proj_bias"]
        Q = q @ W[:E].T + B[:E]
        K = tok[i] @ W[E:2 * E].T + B[E:2 * E]
        V = tok[i] @ W[2 * E:].T + B[2 * E:]
        att = np.zeros_like(Q)
        for h in range(heads):
            s = slice(h * hd, (h + 1) * hd)
            a = Q[:, s] @ K[:, s].T / np.sqrt(hd)
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            att[:, s] = a @ V[:, s]
        att = att @ P[L + "multihead_attn.out_proj.weight"].T + P[L + "multihead_attn.out_proj.bias"]
        q = ln(q + att, P[L + "norm2.weight"], P[L + "norm2.bias"])
        ff = np.maximum(q @ P[L + "linear1.weight"].T + P[L + "linear1.bias"], 0) @ P[L + "linear2.weight"].T + P[L + "linear2.bias"]
        q = ln(q + ff, P[L + "norm3.weight"], P[L + "norm3.bias"])
        logits = np.einsum("ge,ged->gd", q, P["duplicate_pooling"]).reshape(-1)[:d.classes] + P["duplicate_pooling_bias"]
        out.append(logits)
    return np.stack(out)


# ---------------------------------------------------------------------------------------------------------------
# Models

def micro_body(layers, planes, v2, seed):
    """A timm TResNet of stem width `planes` (any width; timm's constructor rounds v2 widths to 8, so the
    stages are rebuilt with timm's own `_make_layer` at the micro width)."""
    torch.manual_seed(seed)
    m = TResNet(layers=layers, width_factor=planes / 64, num_classes=1, v2=False)
    if v2:
        m.inplanes = planes
        blocks = [m._make_layer(Bottleneck, planes * 2 ** s, layers[s], stride=1 if s == 0 else 2, use_se=s < 3,
                                aa_layer=BlurPool2d) for s in range(4)]
        for s in range(4):
            setattr(m.body, f"layer{s + 1}", blocks[s])
    m.num_features = planes * 8 * 4
    return m


def perturb_and_calibrate(model, calib_size, calib_batches=4, residual_gamma=(0.5, 1.5)):
    """generate.make_model's recipe (generate.perturb_and_calibrate): the head's Linear layers keep their own
    initialisation (make_mld), calibration batches of 4."""
    G.perturb_and_calibrate(model, calib_size, calib_batches, residual_gamma, linear=False, batch=4)


def make_mld(layers, planes, v2, classes, groups, embed, ff, heads, seed, calib_size, residual_gamma=(0.5, 1.5)):
    m = micro_body(layers, planes, v2, seed)
    m.head = MLDecoderHead(classes, m.num_features, groups=groups, embed=embed, heads=heads, ff=ff)
    with torch.no_grad():
        for name, p in m.head.named_parameters():
            if "duplicate_pooling_bias" in name or name.endswith(".bias"):
                p.normal_(0.0, 0.05)
        m.head.decoder.query_embed.weight.normal_(0.0, 1.0)
    perturb_and_calibrate(m, calib_size, residual_gamma=residual_gamma)
    return m


def miil_checkpoint(model, v2, names, seed=5):
    """{'model': MIIL-spelling state dict with raw IABN weights, 'idx_to_class': {...}} and the eval model that
    computes exactly what the checkpoint means (BN weights |w| + 1e-5)."""
    G.set_aa(v2)
    g = torch.Generator().manual_seed(seed)
    sd = OrderedDict((k, v.clone()) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked"))
    ref_sd = OrderedDict((k, v.clone()) for k, v in sd.items())
    for k in sd:
        if k.startswith("body.") and k.endswith("bn.weight"):
            sign = torch.where(torch.rand(sd[k].shape, generator=g) < 0.3, -1.0, 1.0)
            sd[k] = (sd[k] * sign).to(torch.float32)
            ref_sd[k] = sd[k].abs() + 1e-5
    miil = G.to_miil(sd, g)
    assert all(k.startswith("head.decoder.") for k in miil if k.startswith("head.")), list(miil)
    model.load_state_dict(ref_sd, strict=False)
    model.eval()
    return {"model": miil, "idx_to_class": {i: n for i, n in enumerate(names)}}


def capture(model, x):
    acts = OrderedDict()
    hooks = [model.get_submodule(n).register_forward_hook(
        lambda m, i, o, n=n: acts.__setitem__(n, o.detach().clone())) for n in BODY_TAPS]
    with torch.no_grad():
        acts["head"] = model(x).detach().clone()
    for h in hooks:
        h.remove()
    return acts


def write_reference(path, model, x):
    acts = capture(model, x)
    arrays = {"input": x.numpy()}
    arrays.update({k: v.numpy() for k, v in acts.items()})
    import copy
    with torch.no_grad():
        arrays["head.float64"] = copy.deepcopy(model).double()(x.double()).numpy()
        feat = model.forward_features(x)
    mine = reference_head_numpy(model.head, feat)
    err = np.abs(mine - arrays["head.float64"]).max()
    assert err < 1e-4, f"module head vs numpy head: {err}"
    np.savez_compressed(path, **arrays)
    return arrays


# ---------------------------------------------------------------------------------------------------------------
# mAP as the ASL / ML-Decoder helpers compute it

def average_precision(scores, targets):
    order = np.argsort(scores, kind="stable")[::-1]
    hits = targets[order] == 1
    positives = np.cumsum(hits)
    ranks = np.arange(1, len(scores) + 1, dtype=np.float64)
    total = positives[-1]
    return np.sum(np.where(hits, positives, 0) / ranks) / (total + 1e-8)


def mean_average_precision(targets, scores):
    ap = np.array([average_precision(scores[:, k], targets[:, k]) for k in range(scores.shape[1])])
    return 100 * ap.mean(), 100 * ap


def coco_fixture(folder, model, names):
    from timm.data.transforms_factory import transforms_imagenet_eval
    info = json.load(open(os.path.join(HERE, "tiny", "images", "images.json")))
    files = [im["file"] for im in info["images"]]
    tf = transforms_imagenet_eval(img_size=64, crop_pct=1.0, crop_mode="squash", interpolation="bilinear",
                                  mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    xs = []
    for f in files:
        with Image.open(os.path.join(HERE, "tiny", "images", f)) as im:
            xs.append(tf(ImageOps.exif_transpose(im).convert("RGB")))
    with torch.no_grad():
        scores = torch.sigmoid(model(torch.stack(xs))).numpy().astype(np.float64)
    ids = COCO80_IDS[:len(names)]
    rng = np.random.default_rng(17)
    targets = (rng.random(scores.shape) < 0.4).astype(np.int64)
    for k in range(targets.shape[1]):  # every class has a positive and a negative
        if targets[:, k].sum() == 0:
            targets[k % len(files), k] = 1
        if targets[:, k].sum() == len(files):
            targets[(k + 1) % len(files), k] = 0
    # the ranking must not hinge on float noise: the closest two scores of a class stay apart
    gaps = [np.min(np.diff(np.sort(scores[:, k]))) for k in range(scores.shape[1])]
    assert min(gaps) > 5e-5, gaps
    m, ap = mean_average_precision(targets, scores)
    doc = {
        "info": {"description": "tresnet-kit test annotations over Fixtures/tiny/images (Fixtures/gen_mldecoder.py)"},
        "images": [{"id": 100 + i, "file_name": f, "width": im["width"], "height": im["height"]}
                   for i, (f, im) in enumerate(zip(files, info["images"]))],
        "annotations": [],
        "categories": [{"id": ids[k], "name": names[k], "supercategory": "thing"} for k in range(len(names))],
        "expected": {"model": "mld_v1_full.pth", "input_size": 64, "crop_mode": "squash", "interpolation": "bilinear",
                     "mean_average_precision_percent": float(m), "average_precision_percent": [float(a) for a in ap],
                     "scores": scores.tolist(), "min_score_gap": float(min(gaps))},
    }
    a = 1
    for i in range(len(files)):
        for k in range(len(names)):
            if targets[i, k]:
                doc["annotations"].append({"id": a, "image_id": 100 + i, "category_id": ids[k],
                                           "bbox": [1.0, 1.0, 8.0, 8.0], "area": 64.0, "iscrowd": 0})
                a += 1
    with open(os.path.join(folder, "coco_tiny.json"), "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    print(f"coco_tiny.json: {len(files)} images, mAP {m:.6f}")


def onnx_runtime_reference(folder, name, model, x):
    import onnxruntime as ort
    path = os.path.join(folder, f"{name}.torch.onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"], opset_version=17, dynamo=False)
    y = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
    os.remove(path)
    np.savez_compressed(os.path.join(folder, f"{name}.ort.npz"), logits=y)  # input: the reference's
    with torch.no_grad():
        print(f"{name}: ORT vs PyTorch {np.abs(y - model(x).numpy()).max():.2e}")


MICRO = {
    # name: (layers, planes, v2, classes, groups, embed, ff, heads, seed)
    "mld_v1_full": ([1, 1, 1, 1], 1, False, 5, -1, 16, 24, 8, 37),
    "mld_v2_grouped": ([1, 1, 1, 1], 1, True, 7, 3, 16, 20, 8, 32),
}


def micro(folder):
    os.makedirs(folder, exist_ok=True)
    gen = torch.Generator().manual_seed(41)
    # dyadic pixel values k/16 in [0, 1]: exact in float32, and the committed references deflate well
    x = torch.randint(0, 17, (1, 3, 64, 64), generator=gen).to(torch.float32) / 16
    manifest = {}
    for name, (layers, planes, v2, classes, groups, embed, ff, heads, seed) in MICRO.items():
        model = make_mld(layers, planes, v2, classes, groups, embed, ff, heads, seed, calib_size=64)
        names = COCO80[:classes]
        ckpt = miil_checkpoint(model, v2, names)
        # the legacy (pre-1.6) stream: no zip entry per tensor, half the bytes of the zip form at this size
        torch.save(ckpt, os.path.join(folder, f"{name}.pth"), _use_new_zipfile_serialization=False)
        arrays = write_reference(os.path.join(folder, f"{name}.reference.npz"), model, x)
        d = model.head.decoder
        manifest[name] = dict(layout="v2" if v2 else "v1", layers=layers, planes=planes, num_classes=classes,
                              groups=d.query_embed.weight.shape[0], duplicate_factor=d.factor, embed=embed,
                              feed_forward=ff, heads=heads, labels=names, input=list(x.shape),
                              f32_vs_f64=float(np.abs(arrays["head"] - arrays["head.float64"]).max()))
        if name == "mld_v1_full":
            coco_fixture(folder, model, names)
            onnx_runtime_reference(folder, name, model, x)
    with open(os.path.join(folder, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    total = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"Fixtures/tiny/mldecoder: {total} bytes")
    assert total <= 150_000, total


FULL = {
    # name: (timm config, classes, groups, input size)
    "mld_tresnet_m_coco_224": (G.FULL["tresnet_m"], 80, -1, 224),
    "mld_tresnet_v2_l_coco_448": (G.FULL["tresnet_v2_l"], 80, -1, 448),
    "mld_tresnet_m_openimages_224": (G.FULL["tresnet_m"], 9605, 200, 224),
}


def full(folder):
    os.makedirs(folder, exist_ok=True)
    for name, (cfg, classes, groups, size) in FULL.items():
        if os.path.exists(os.path.join(folder, f"{name}.reference.npz")):
            print(f"{name}: present")
            continue
        torch.manual_seed(3)
        m = TResNet(**{**cfg, "num_classes": 1})
        m.head = MLDecoderHead(classes, m.num_features, groups=groups)
        with torch.no_grad():
            m.head.decoder.query_embed.weight.normal_(0.0, 1.0)
        perturb_and_calibrate(m, calib_size=64, residual_gamma=(0.1, 0.3))
        names = COCO80 if classes == 80 else [f"class_{i}" for i in range(classes)]
        ckpt = miil_checkpoint(m, cfg["v2"], names)
        torch.save(ckpt, os.path.join(folder, f"{name}.pth"))
        x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(43))
        write_reference(os.path.join(folder, f"{name}.reference.npz"), m, x)
        import time
        times = []
        with torch.no_grad():
            torch.set_num_threads(2)
            for _ in range(6):
                t = time.perf_counter()
                m(x)
                times.append(time.perf_counter() - t)
        print(f"{name}: PyTorch forward median {np.median(times[1:]) * 1000:.1f} ms (2 threads)")


def check_onnx(path, reference, save=None):
    """ONNX Runtime on an export of the toolkit (any batch: the reference image and its mirror); exits non-zero
    when the logits of the reference image differ from PyTorch's by more than 1e-5 (scaled)."""
    import onnx
    import onnxruntime as ort
    onnx.checker.check_model(onnx.load(path))
    ref = np.load(reference)
    x = ref["input"]
    y = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(
        None, {"input": np.concatenate([x, x[:, :, ::-1, :].copy()])})[0]
    err = np.abs(y[:len(x)] - ref["head"]).max() / (np.sqrt((ref["head"] ** 2).mean()) + 1e-12)
    print(f"{path}: ONNX Runtime logits {tuple(y.shape)}, max |ORT - PyTorch| / rms = {err:.2e}")
    if save and err < 1e-5:  # ORT's logits of this exact export, with the export's SHA-256 (a test checks both)
        import hashlib
        digest = np.frombuffer(hashlib.sha256(open(path, "rb").read()).digest(), dtype=np.uint8)
        np.savez_compressed(save, logits=y, onnx_sha256=digest)
    sys.exit(0 if err < 1e-5 else 3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--check-onnx", nargs=2, metavar=("ONNX", "REFERENCE"))
    ap.add_argument("--save", help="with --check-onnx: write ORT's logits and the export's SHA-256 to this .npz")
    a = ap.parse_args()
    if a.check_onnx:
        check_onnx(*a.check_onnx, save=a.save)
    elif a.full:
        full(os.path.join(HERE, "full", "mldecoder"))
    else:
        micro(os.path.join(HERE, "tiny", "mldecoder"))


if __name__ == "__main__":
    main()
