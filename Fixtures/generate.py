#!/usr/bin/env python3
"""Makes every test fixture of tresnet-kit from the real thing: timm's TResNet, torch.save, safetensors.

    python Fixtures/generate.py            # tiny fixtures -> Fixtures/tiny/ (committed; all committed fixtures < 8 MB) + manifest.json
    python Fixtures/generate.py --full     # full-size tresnet_m & co -> Fixtures/full/ (git-ignored)

Models are random-initialised; BN affine parameters are perturbed first, then the running statistics are
measured on random images in train mode (cumulative average), so activations look like a trained network's.
Everything is seeded; only torch's random zip serialization id differs between runs.
"""
import argparse
import hashlib
import io
import json
import os
import pickle
import re
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import torch
import timm
from timm.models.tresnet import TResNet, checkpoint_filter_fn
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_ops  # noqa: E402
import gen_onnx  # noqa: E402
import gen_images  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TAPS = ["body.s2d", "body.conv1", "body.layer1", "body.layer2", "body.layer3", "body.layer4",
        "head.global_pool", "head.fc"]

# The tiny architectures: small enough to commit many copies, big enough to have every structural feature
# (several blocks per stage, projections with and without pooling, SE, blur pools).
TINY = {
    "tiny_v1": dict(layers=[1, 2, 2, 1], width_factor=0.0625, v2=False, num_classes=10),
    "tiny_v2": dict(layers=[1, 1, 2, 1], width_factor=0.125, v2=True, num_classes=10),
}
FULL = {
    "tresnet_m": dict(layers=[3, 4, 11, 3], width_factor=1.0, v2=False, num_classes=1000),
    "tresnet_l": dict(layers=[4, 5, 18, 3], width_factor=1.2, v2=False, num_classes=1000),
    "tresnet_xl": dict(layers=[4, 5, 24, 3], width_factor=1.3, v2=False, num_classes=1000),
    "tresnet_v2_l": dict(layers=[3, 4, 23, 3], width_factor=1.0, v2=True, num_classes=1000),
}


def branch_end_norms(model):
    """ids of the BatchNorms that end a residual branch: BasicBlock conv2's, Bottleneck conv3's."""
    from timm.models.tresnet import BasicBlock, Bottleneck
    ends = set()
    for m in model.modules():
        if isinstance(m, Bottleneck):
            ends.add(id(m.conv3.bn))
        if isinstance(m, BasicBlock):
            ends.add(id(m.conv2.bn))
    return ends


def make_model(cfg, seed, calib_size=64, calib_batches=4, residual_gamma=(0.5, 1.5)):
    """A random TResNet with BN statistics measured on random images.

    BN affine parameters are perturbed first: gammas U(0.5, 1.5), betas N(0, 0.1). `residual_gamma` sets the
    gammas of the BN that ends each residual branch (BasicBlock conv2, Bottleneck conv3). The full-size models
    use U(0.1, 0.3), as in trained ResNets: with U(0.5, 1.5) the residual stream of a 23-block stage grows until
    BN inputs are dominated by their means, and then even PyTorch's own float32 logits differ from its float64
    logits by 6e-4 (tresnet_v2_l, measured) — a model on which no float32 implementation can be compared with
    another at 1e-4. With U(0.1, 0.3) PyTorch's f32-vs-f64 difference is below 1e-5 and the logits still spread
    (std ≈ 1.2). The tiny models keep U(0.5, 1.5) everywhere (harsher, and shallow enough to stay conditioned).
    """
    torch.manual_seed(seed)
    model = TResNet(**cfg)
    perturb_and_calibrate(model, calib_size, calib_batches, residual_gamma)
    return model


def perturb_and_calibrate(model, calib_size, calib_batches=4, residual_gamma=(0.5, 1.5), linear=True, batch=8):
    """make_model's recipe on any model, in place: BN affine parameters perturbed (branch-end gammas from
    `residual_gamma`), LayerNorm's alike, Linear layers N(0, 0.05) when `linear`, then BN running statistics
    measured over `calib_batches` random batches of `batch` images. One pass over the modules in their order, so
    the random draws (and so every committed fixture made with it) stay as they were."""
    branch_ends = branch_end_norms(model)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                lo, hi = residual_gamma if id(m) in branch_ends else (0.5, 1.5)
                m.weight.uniform_(lo, hi)
                m.bias.normal_(0.0, 0.1)
                m.reset_running_stats()
                m.momentum = None  # cumulative moving average over the calibration batches
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
            if linear and isinstance(m, torch.nn.Linear):
                m.weight.normal_(0.0, 0.05)
                m.bias.normal_(0.0, 0.05)
        model.train()
        for _ in range(calib_batches):
            model(torch.rand(batch, 3, calib_size, calib_size))
    model.eval()


def capture(model, x):
    acts = OrderedDict()
    hooks = []
    for name in TAPS:
        mod = model.get_submodule(name)
        hooks.append(mod.register_forward_hook(lambda m, i, o, name=name: acts.__setitem__(name, o.detach().clone())))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return acts


def write_reference(path, model, x, float64_logits=False):
    acts = capture(model, x)
    arrays = {"input": x.numpy()}
    for k, v in acts.items():
        arrays[k] = v.numpy()
    if float64_logits:
        # the same forward in float64: the "true" logits both float32 implementations are judged against
        import copy
        with torch.no_grad():
            arrays["head.fc.float64"] = copy.deepcopy(model).double()(x.double()).numpy()
    np.savez(path, **arrays)


def to_miil(sd, rng):
    """timm spelling -> official MIIL spelling (nn.Sequential(conv, InPlaceABN)); BN weights become raw IABN
    weights w with |w| + 1e-5 == the BN weight, some negative."""
    out = OrderedDict()
    aa = set()
    for k in sd:
        m = re.match(r"(.*)\.conv(\d)\.aa\.", k)
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            continue
        nk = k
        # anti-aliased convs nest one level deeper: conv{d}.conv -> conv{d}.0.0, conv{d}.bn -> conv{d}.0.1
        m = re.match(r"(body\.layer(\d)\.0\.conv(\d))\.(conv|bn)\.(.*)", k)
        if m and is_aa(sd, m.group(2), m.group(3)):
            nk = f"{m.group(1)}.0.{0 if m.group(4) == 'conv' else 1}.{m.group(5)}"
        else:
            nk = re.sub(r"conv(\d)\.conv\.", r"conv\1.0.", nk)
            nk = re.sub(r"conv(\d)\.bn\.", r"conv\1.1.", nk)
            nk = re.sub(r"downsample\.(\d)\.conv\.", r"downsample.\1.0.", nk)
            nk = re.sub(r"downsample\.(\d)\.bn\.", r"downsample.\1.1.", nk)
        out[nk] = v
    return out


AA_CONV = {}


def is_aa(sd, stage, conv):
    return AA_CONV.get((int(stage), int(conv)), False)


def set_aa(v2):
    AA_CONV.clear()
    # the stride-2 conv of block 0 of layers 2..4: conv1 in a v1 Basic block, conv2 in a Bottleneck
    AA_CONV[(2, 1 if not v2 else 2)] = True
    AA_CONV[(3, 2)] = True
    AA_CONV[(4, 2)] = True


def miil_checkpoint(model, v2, seed):
    """An official-spelling {'model': ...} checkpoint whose raw IABN weights include negatives. Returns it and
    the timm model that timm's own checkpoint_filter_fn makes of it (the reference for the fixture)."""
    set_aa(v2)
    g = torch.Generator().manual_seed(seed)
    sd = OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
    for k in sd:
        if k.endswith("bn.weight"):
            sign = torch.where(torch.rand(sd[k].shape, generator=g) < 0.3, -1.0, 1.0)
            sd[k] = (sd[k] * sign).to(torch.float32)
    miil = to_miil(sd, g)
    converted = checkpoint_filter_fn(OrderedDict(miil), model)
    ref = type(model)(**model._tk_cfg)
    missing, unexpected = ref.load_state_dict(converted, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    ref.eval()
    ckpt = {"model": miil, "num_classes": model.num_classes,
            "idx_to_class": {i: f"class_{i}" for i in range(model.num_classes)}}
    return ckpt, ref


def views_state_dict(sd):
    """The same values, stored the awkward ways real checkpoints store them: channels_last conv weights,
    a transposed (non-contiguous) fc weight, and BN buffers that are slices of one shared storage."""
    out = OrderedDict()
    means = [k for k in sd if k.endswith("running_mean")]
    shared = torch.cat([sd[k].flatten() for k in means])
    offset = 0
    slices = {}
    for k in means:
        n = sd[k].numel()
        slices[k] = shared[offset:offset + n]
        offset += n
    for k, v in sd.items():
        if k in slices:
            out[k] = slices[k]
        elif v.dim() == 4 and v.shape[2] == 3:
            out[k] = v.contiguous(memory_format=torch.channels_last)
        elif k == "head.fc.weight":
            out[k] = v.t().contiguous().t()
        else:
            out[k] = v
    assert not out["head.fc.weight"].is_contiguous()
    return out


def dtypes_dict():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(2, 3, generator=g)
    return OrderedDict([
        ("f32", base.clone()),
        ("f64", base.double()),
        ("f16", base.half()),
        ("bf16", base.bfloat16()),
        ("i64", torch.tensor([[-3, 0, 2**40], [7, -2**40, 1]], dtype=torch.int64)),
        ("i32", torch.tensor([-70000, 0, 70000], dtype=torch.int32)),
        ("i16", torch.tensor([-300, 0, 300], dtype=torch.int16)),
        ("i8", torch.tensor([-100, 0, 100], dtype=torch.int8)),
        ("u8", torch.tensor([0, 128, 255], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("u16", torch.tensor([0, 40000, 65535], dtype=torch.uint16)),
        ("f8e4m3fn", torch.tensor([0.5, -1.0, 2.0]).to(torch.float8_e4m3fn)),
        ("scalar", torch.tensor(3.5)),
        ("empty", torch.zeros(0, 3)),
        ("expanded", torch.tensor([1.0, 2.0]).expand(3, 2)),
        ("strided", torch.arange(12.0)[::2]),
        ("nbt", torch.tensor(5, dtype=torch.int64)),
    ])


def sample_values(t):
    """name -> [[flat_index, value], ...] for a few deterministic indices."""
    flat = t.detach().reshape(-1)
    n = flat.numel()
    if n == 0:
        return []
    idx = sorted(set([0, n - 1, (n * 7) // 13]))
    out = []
    for i in idx:
        v = flat[i]
        if v.dtype in (torch.float8_e4m3fn,):
            v = v.float()
        v = v.item()
        out.append([i, float(v) if isinstance(v, float) else (int(v) if not isinstance(v, bool) else int(v))])
    return out


def describe(sd):
    rows = []
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            continue
        rows.append({"name": k, "dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                     "samples": sample_values(v)})
    return rows


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Manifest:
    def __init__(self, folder):
        self.folder = folder
        self.files = OrderedDict()

    def add(self, name, container, tensors=None, **info):
        path = os.path.join(self.folder, name)
        entry = OrderedDict(sha256=sha256(path), bytes=os.path.getsize(path), container=container)
        entry.update(info)
        if tensors is not None:
            entry["tensors"] = describe(tensors)
        self.files[name] = entry

    def write(self):
        with open(os.path.join(self.folder, "manifest.json"), "w") as f:
            json.dump({"generator": "Fixtures/generate.py", "torch": torch.__version__, "timm": timm.__version__,
                       "files": self.files}, f, separators=(",", ":"))
            f.write("\n")


def hostile_pickles(folder, manifest, marker):
    """Pickles that would run a command under pickle.load. Our reader must refuse them and run nothing."""
    class SystemCall:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    p_reduce = pickle.dumps({"model": SystemCall()}, protocol=2)  # GLOBAL 'posix system' + REDUCE
    # builtins.exec through STACK_GLOBAL (protocol 4)
    p_stack = (b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00" + b"\x8c\x08builtins\x94\x8c\x04exec\x94\x93\x94"
               + b"\x8c" + bytes([len(f"open('{marker}','w')")]) + f"open('{marker}','w')".encode() + b"\x94\x85\x94R\x94.")
    # INST: import-and-call in one opcode
    p_inst = b"(S'touch " + marker.encode() + b"'\nios\nsystem\n."
    for name, data in [("hostile_reduce.pth", p_reduce), ("hostile_stack_global.pth", p_stack),
                       ("hostile_inst.pth", p_inst)]:
        path = os.path.join(folder, name)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            z.writestr("hostile/data.pkl", data)
            z.writestr("hostile/version", "3\n")
        manifest.add(name, "pytorch-zip", hostile=True, marker=marker)
    # the same REDUCE payload as a bare legacy-style pickle stream
    path = os.path.join(folder, "hostile_reduce_raw.pkl")
    with open(path, "wb") as f:
        f.write(p_reduce)
    manifest.add("hostile_reduce_raw.pkl", "pickle", hostile=True, marker=marker)


def tiny(folder):
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        if os.path.isfile(os.path.join(folder, f)):  # npy/ (gen_numpy), images/ and imagefolder/ (gen_images)
            os.remove(os.path.join(folder, f))
    man = Manifest(folder)
    models = {}
    for name, cfg in TINY.items():
        model = make_model(cfg, seed=1 if name == "tiny_v1" else 2)
        model._tk_cfg = cfg
        models[name] = model
    gen = torch.Generator().manual_seed(11)
    x_sq = torch.rand(2, 3, 64, 64, generator=gen)
    x_ns = torch.rand(1, 3, 64, 96, generator=gen)

    def arch_info(cfg):
        return dict(layout="v2" if cfg["v2"] else "v1", layers=cfg["layers"],
                    planes=TResNetPlanes(cfg), num_classes=cfg["num_classes"])

    for name, model in models.items():
        cfg = TINY[name]
        sd = model.state_dict()
        arch = arch_info(cfg)
        # plain timm-spelling state dict, current zip format
        torch.save(sd, os.path.join(folder, f"{name}.pth"))
        man.add(f"{name}.pth", "pytorch-zip", sd, wrapper=None, dialect="timm", arch=arch, reference=f"{name}.reference.npz")
        # safetensors (keeps the i64 num_batches_tracked scalars too); tiny_v1 only, to stay under 8 MB
        if name == "tiny_v1":
            save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(folder, f"{name}.safetensors"))
            man.add(f"{name}.safetensors", "safetensors", sd, wrapper=None, dialect="timm", arch=arch,
                    reference=f"{name}.reference.npz")
        write_reference(os.path.join(folder, f"{name}.reference.npz"), model, x_sq)
        write_reference(os.path.join(folder, f"{name}.reference_64x96.npz"), model, x_ns)
        # official MIIL spelling with raw InPlaceABN weights, in {'model': ...}
        ckpt, ref = miil_checkpoint(model, cfg["v2"], seed=5)
        torch.save(ckpt, os.path.join(folder, f"{name}_miil.pth"))
        man.add(f"{name}_miil.pth", "pytorch-zip", ckpt["model"], wrapper="model", dialect="miil", arch=arch,
                reference=f"{name}_miil.reference.npz",
                expected_timm={k: sample_values(v) for k, v in ref.state_dict().items() if k.endswith("bn.weight")})
        write_reference(os.path.join(folder, f"{name}_miil.reference.npz"), ref, x_sq)

    v1 = models["tiny_v1"]
    sd = v1.state_dict()
    arch = arch_info(TINY["tiny_v1"])
    # legacy (pre-1.6) stream format
    torch.save(sd, os.path.join(folder, "tiny_v1_legacy.pth"), _use_new_zipfile_serialization=False)
    man.add("tiny_v1_legacy.pth", "pytorch-legacy", sd, wrapper=None, dialect="timm", arch=arch,
            reference="tiny_v1.reference.npz")
    # a training checkpoint: {'state_dict': module.-prefixed}, with non-tensor entries and optimizer state
    wrapped = {
        "epoch": 7, "arch": "tresnet_tiny", "best_acc1": 0.125,
        "state_dict": OrderedDict(("module." + k, v) for k, v in sd.items()),
        "optimizer": {"state": {0: {"momentum_buffer": torch.zeros(3)}}, "param_groups": [{"lr": 0.1, "params": [0]}]},
    }
    torch.save(wrapped, os.path.join(folder, "tiny_v1_wrapped.pth"))
    man.add("tiny_v1_wrapped.pth", "pytorch-zip", sd, wrapper="state_dict", prefix="module.", dialect="timm",
            arch=arch, reference="tiny_v1.reference.npz",
            non_tensor_entries=["epoch", "arch", "best_acc1", "optimizer"])
    # half-precision copies; their references are computed from the rounded weights widened to f32
    for dt, tag in [(torch.float16, "f16"), (torch.bfloat16, "bf16")]:
        low = OrderedDict((k, v.to(dt) if v.is_floating_point() else v) for k, v in sd.items())
        torch.save(low, os.path.join(folder, f"tiny_v1_{tag}.pth"))
        widened = type(v1)(**TINY["tiny_v1"])
        widened.load_state_dict(OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in low.items()))
        widened.eval()
        write_reference(os.path.join(folder, f"tiny_v1_{tag}.reference.npz"), widened, x_sq)
        man.add(f"tiny_v1_{tag}.pth", "pytorch-zip", low, wrapper=None, dialect="timm", arch=arch,
                reference=f"tiny_v1_{tag}.reference.npz")
    # non-contiguous views, channels_last, shared storage
    views = views_state_dict(sd)
    torch.save(views, os.path.join(folder, "tiny_v1_views.pth"))
    man.add("tiny_v1_views.pth", "pytorch-zip", views, wrapper=None, dialect="timm", arch=arch,
            reference="tiny_v1.reference.npz")

    # container and dtype corner cases
    d = dtypes_dict()
    torch.save(d, os.path.join(folder, "dtypes.pth"))
    man.add("dtypes.pth", "pytorch-zip", d)
    legacy_d = OrderedDict((k, v) for k, v in d.items() if k not in ("u16", "f8e4m3fn"))
    torch.save(legacy_d, os.path.join(folder, "dtypes_legacy.pth"), _use_new_zipfile_serialization=False)
    man.add("dtypes_legacy.pth", "pytorch-legacy", legacy_d)
    small = OrderedDict([("a", torch.arange(6.0).reshape(2, 3)), ("b", torch.tensor([1, 2, 3]))])
    torch.save(small, os.path.join(folder, "proto4.pth"), pickle_protocol=4)
    man.add("proto4.pth", "pytorch-zip", small)
    torch.serialization.set_crc32_options(False)
    torch.save(small, os.path.join(folder, "nocrc.pth"))
    torch.serialization.set_crc32_options(True)
    man.add("nocrc.pth", "pytorch-zip", small)
    # a checkpoint someone unzipped and zipped again with deflate
    src = os.path.join(folder, "proto4.pth")
    dst = os.path.join(folder, "rezipped_deflate.pth")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename.replace("proto4/", "renamed_top/"), zin.read(info.filename))
    man.add("rezipped_deflate.pth", "pytorch-zip", small)
    # wrapper priority: state_dict_ema wins over state_dict; _orig_mod. prefix stripped
    ema = {"state_dict": OrderedDict([("a", torch.zeros(2))]),
           "state_dict_ema": OrderedDict([("_orig_mod.a", torch.ones(2))])}
    torch.save(ema, os.path.join(folder, "wrapper_ema.pth"))
    man.add("wrapper_ema.pth", "pytorch-zip", OrderedDict([("a", torch.ones(2))]), wrapper="state_dict_ema",
            prefix="_orig_mod.")
    hostile_pickles(folder, man, marker="/tmp/tresnet-kit-pwned")
    gen_ops.make(folder)  # per-operation references for the runtime's unit tests
    gen_onnx.make(folder)  # ONNX exports of tiny_v1/tiny_v2 by both torch exporters
    import gen_numpy  # beside this script: Fixtures/tiny/npy/*.npy, *.npz + expected.json (numpy's own record)
    gen_numpy.make(folder)
    man.write()
    total = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"tiny fixtures: {len(os.listdir(folder))} files, {total / 1e6:.2f} MB in {folder}")
    committed = 0
    for sub in ("tiny", "keys", "readers", "hostile"):
        for root, _, files in os.walk(os.path.join(HERE, sub)):
            committed += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"all committed fixture folders: {committed / 1e6:.2f} MB")
    assert committed < 8_000_000, "committed fixtures must stay under 8 MB"


def TResNetPlanes(cfg):
    p = int(64 * cfg["width_factor"])
    return p // 8 * 8 if cfg["v2"] else p


def keys(folder):
    """Name-list snapshots of the four zoo variants in timm spelling (with num_batches_tracked)."""
    os.makedirs(folder, exist_ok=True)
    for name in FULL:
        model = timm.create_model(name, pretrained=False)
        with open(os.path.join(folder, f"{name}.txt"), "w") as f:
            for k, v in model.state_dict().items():
                f.write(f"{k} {list(v.shape)} {str(v.dtype).replace('torch.', '')}\n")
        print(f"keys/{name}.txt: {len(model.state_dict())} keys")


def full(folder):
    os.makedirs(folder, exist_ok=True)
    gen = torch.Generator().manual_seed(11)
    x = torch.rand(1, 3, 224, 224, generator=gen)
    x8 = torch.rand(8, 3, 224, 224, generator=gen)
    for name, cfg in FULL.items():
        model = make_model(cfg, seed=3, calib_size=224, calib_batches=2, residual_gamma=(0.1, 0.3))
        model._tk_cfg = cfg
        sd = model.state_dict()
        torch.save(sd, os.path.join(folder, f"{name}.pth"))
        write_reference(os.path.join(folder, f"{name}.reference.npz"), model, x, float64_logits=True)
        if name == "tresnet_m":
            torch.save(sd, os.path.join(folder, f"{name}_legacy.pth"), _use_new_zipfile_serialization=False)
            save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(folder, f"{name}.safetensors"))
            ckpt, ref = miil_checkpoint(model, cfg["v2"], seed=5)
            torch.save(ckpt, os.path.join(folder, f"{name}_miil.pth"))
            write_reference(os.path.join(folder, f"{name}_miil.reference.npz"), ref, x)
            torch.save({"state_dict": OrderedDict(("module." + k, v) for k, v in sd.items()), "epoch": 1},
                       os.path.join(folder, f"{name}_wrapped.pth"))
            torch.save(OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in sd.items()),
                       os.path.join(folder, f"{name}_f16.pth"))
            np.save(os.path.join(folder, f"{name}.input_b8.npy"), x8.numpy())
        print(f"full: {name} done")
    gen_onnx.full(folder)  # tresnet_m exported as ONNX by both torch exporters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="also write full-size models to Fixtures/full/")
    ap.add_argument("--only-full", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if not args.only_full:
        tiny(os.path.join(HERE, "tiny"))
        gen_images.make(os.path.join(HERE, "tiny"))  # test images + PIL/timm references (needs tiny_v1.pth)
        keys(os.path.join(HERE, "keys"))
    if args.full or args.only_full:
        full(os.path.join(HERE, "full"))


if __name__ == "__main__":
    main()
