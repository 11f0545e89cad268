#!/usr/bin/env python3
"""Training checkpoints, whole-module pickles and hub folders, built the way the real training code builds them.

    python Fixtures/gen_containers.py          # micro fixtures -> Fixtures/containers/ (committed, < 200 KB)
    python Fixtures/gen_containers.py --full   # tresnet_m in every container -> Fixtures/full/containers/ (ignored)

Every container holds the weights of one real timm TResNet (a micro one: layers [1, 1, 1, 1], planes 1, 5 classes;
or tresnet_m with --full):

* timm_train.pth.tar: timm's CheckpointSaver layout after one real SGD step: `arch`, `epoch`, `args` (a real
  argparse.Namespace), `state_dict`, `optimizer` (SGD with momentum, state_dict() after the step), `amp_scaler`
  (a real torch.amp.GradScaler's state_dict()), `state_dict_ema` (a real timm ModelEmaV3 updated once, so its
  weights differ from `state_dict`), `metric` (a numpy float64), `version`.
* lightning.ckpt: Lightning's layout for a LightningModule-like nn.Module holding `self.model` (keys
  `model.body…`), `optimizer_states` (a real AdamW after one step), `lr_schedulers`, `callbacks`, `loops`,
  `hyper_parameters`, `pytorch-lightning_version`.
* module_timm.pth / module_dataparallel.pth: torch.save(model), torch.save(nn.DataParallel(model)) (full size
  here; the micro ones, with DDP and torch.compile, are written by gen_modules.py from the micro weights).
* module_miil.pth: torch.save of a TResNet built from classes named as the official MIIL code names them
  (`src.models.tresnet.tresnet.TResNet`, `BasicBlock`, `Bottleneck`, … with `inplace_abn.abn.InPlaceABN` layers;
  defined here and registered in sys.modules, so pickle writes those globals). Its IABN weights are raw (some
  negative); the reference is the timm model timm's own checkpoint_filter_fn makes of the same weights.
* hub/: timm's own save_for_hf (config.json with architecture, num_classes, label_names, pretrained_cfg; weights
  as model.safetensors).
* planted_*.pth: a valid state dict with a code-execution primitive in a side field, written by pickle from the
  real callable through __reduce__ (never called).

Byte budget (200 KB for all micro files): the micro torch files are torch.save's zip archives re-zipped with
deflate (their pickles byte-identical; a module pickle shrinks ~5x), the micro timm checkpoint's SGD has no
momentum and the micro Lightning AdamW optimises the head only, the timm module pickles (plain and DataParallel)
and the EMA reference exist at full size only (the micro EMA weights are checked by sampled values instead). The --full files
are torch.save's plain output with every optimizer state. References (.npz) reuse Fixtures/generate.py's helpers;
the micro ones leave out body.s2d (a parameter-free rearrangement of the input) to save bytes.
"""
import argparse
import pickletools
import functools
import io
import json
import os
import sys
import types
import zipfile
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate  # noqa: E402  (make_model, capture, write_reference, miil_checkpoint, to_miil)

MICRO = dict(layers=[1, 1, 1, 1], width_factor=1 / 64, v2=False, num_classes=5)
LABELS = ["cat", "dog", "bird", "fish", "horse"]


# ---- the official MIIL code's classes, by name (src/models/tresnet/tresnet.py, inplace_abn) -----------------

def _register(module_name, **classes):
    mod = types.ModuleType(module_name)
    for name, cls in classes.items():
        cls.__module__ = module_name
        cls.__qualname__ = name
        setattr(mod, name, cls)
    sys.modules[module_name] = mod
    parts = module_name.split(".")
    for i in range(1, len(parts)):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    return mod


class InPlaceABN(nn.Module):
    """inplace_abn.abn.InPlaceABN's parameters and buffers (weight, bias, running_mean, running_var)."""
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))
        self.activation, self.activation_param = "leaky_relu", 0.01


class Holder(nn.Module):
    pass


def _miil_classes():
    names = {}
    for name in ["TResNet", "BasicBlock", "Bottleneck", "SpaceToDepthModule", "SEModule", "AntiAliasDownsampleLayer",
                 "FastGlobalAvgPool2d"]:
        names[name] = type(name, (Holder,), {})
    _register("src.models.tresnet.tresnet", **names)
    _register("inplace_abn.abn", InPlaceABN=InPlaceABN)
    return names


def miil_module(miil_sd):
    """A module tree whose state_dict() is exactly `miil_sd` (MIIL spelling), with the MIIL code's class names."""
    cls = _miil_classes()

    def kind(path, children):
        last = path.split(".")[-1] if path else ""
        if path == "":
            return cls["TResNet"]()
        if last == "se":
            return cls["SEModule"]()
        if path.count(".") == 2 and path.startswith("body.layer"):
            return cls["Bottleneck"]() if "conv3" in children else cls["BasicBlock"]()
        return nn.Sequential()

    tree = OrderedDict()  # path -> OrderedDict of child name -> None, in first-seen order
    owners = OrderedDict()
    for k in miil_sd:
        parts = k.split(".")
        for i in range(len(parts) - 1):
            tree.setdefault(".".join(parts[:i]), OrderedDict()).setdefault(parts[i], None)
        owners.setdefault(".".join(parts[:-1]), []).append(parts[-1])
    modules = {}

    def build(path):
        own = owners.get(path, [])
        if "running_mean" in own:
            m = InPlaceABN(miil_sd[path + ".weight"].shape[0])
        elif path and own and miil_sd[path + "." + own[0]].dim() == 4:
            w = miil_sd[path + ".weight"]
            m = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], bias=(path + ".bias") in miil_sd)
        elif path and own and miil_sd[path + "." + own[0]].dim() == 2:
            w = miil_sd[path + ".weight"]
            m = nn.Linear(w.shape[1], w.shape[0])
        else:
            m = kind(path, tree.get(path, {}))
        for child in tree.get(path, {}):
            m.add_module(child, build(f"{path}.{child}" if path else child))
        modules[path] = m
        return m

    root = build("")
    missing, unexpected = root.load_state_dict(miil_sd, strict=True)
    assert list(root.state_dict().keys()) == list(miil_sd.keys())
    return root


# ---- Lightning's layout, without Lightning ---------------------------------------------------------------------

class ClassifierModule(nn.Module):
    """What a LightningModule subclass holding `self.model` looks like to torch (its state_dict: `model.…`)."""
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.criterion = nn.CrossEntropyLoss()


# ---- files -------------------------------------------------------------------------------------------------------

def one_step(model, optimizer, scaler=None, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    model.train()
    x = torch.rand(4, 3, size, size, generator=g)
    y = torch.randint(0, model.num_classes, (4,), generator=g)
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    (scaler.scale(loss) if scaler else loss).backward()
    if scaler:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    model.eval()


def save(obj, path, compact):
    """torch.save (zip format). `compact`: the archive's members re-zipped with deflate, byte-identical inside
    (module pickles shrink ~5x; the reader inflates deflated members, as for a checkpoint someone re-zipped)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    if not compact:
        with open(path, "wb") as f:
            f.write(buf.getvalue())
        return
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))


def reference(path, model, x, full):
    if full:
        generate.write_reference(path, model, x)
        return
    acts = generate.capture(model, x)
    arrays = {"input": x.numpy()}
    for k, v in acts.items():
        if k != "body.s2d":
            arrays[k] = v.numpy()
    np.savez_compressed(path, **arrays)


def make(folder, cfg, full):
    from timm.utils import ModelEmaV3
    import timm
    os.makedirs(folder, exist_ok=True)
    compact = not full
    size = 224 if full else 32
    model = generate.make_model(cfg, seed=21, calib_size=size, calib_batches=2,
                                residual_gamma=(0.1, 0.3) if full else (0.5, 1.5))
    model._tk_cfg = cfg
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(22))
    man = OrderedDict()

    # timm train.py: CheckpointSaver.save_checkpoint after one step (SGD momentum, AMP scaler, EMA, metric)
    ema = ModelEmaV3(model, decay=0.5)
    # plain SGD (no momentum buffers) for the micro file, SGD with momentum at full size: bytes
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9 if full else 0.0, weight_decay=1e-4)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10)
    one_step(model, optimizer, scaler, size=size)
    ema.update(model)
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="tresnet_m")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--model-ema", action="store_true")
    ap.add_argument("--amp", action="store_true")
    args = ap.parse_args(["--model-ema", "--amp"])
    ckpt = {"epoch": 1, "arch": "tresnet_m", "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(),
            "version": 2, "args": args, "amp_scaler": scaler.state_dict(),
            "state_dict_ema": ema.module.state_dict(), "metric": np.float64(0.4375)}
    save(ckpt, os.path.join(folder, "timm_train.pth.tar"), compact)
    reference(os.path.join(folder, "weights.reference.npz"), model, x, full)
    if full:
        reference(os.path.join(folder, "weights_ema.reference.npz"), ema.module, x, full)
    probe = ["body.conv1.conv.weight", "body.layer2.0.conv1.bn.weight", "head.fc.weight", "head.fc.bias"]
    samples = {"state_dict": generate.describe(OrderedDict((k, model.state_dict()[k]) for k in probe)),
               "state_dict_ema": generate.describe(OrderedDict((k, ema.module.state_dict()[k]) for k in probe))}
    man["timm_train.pth.tar"] = dict(container="timm training checkpoint (CheckpointSaver)", key="state_dict",
                                     others=["state_dict_ema"], prefix=None, reference="weights.reference.npz",
                                     ema_reference="weights_ema.reference.npz" if full else None, samples=samples,
                                     opaque=["argparse.Namespace", "numpy.dtype"])

    # Lightning: the module's state_dict (prefix `model.`), AdamW state after one step (a linear probe: the head
    # only for the micro file, whose bytes are counted; every parameter at full size)
    lit = ClassifierModule(model)
    adamw = torch.optim.AdamW(lit.parameters() if full else lit.model.head.parameters(), lr=1e-3)
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    one_step(model, adamw, size=size, seed=1)
    model.load_state_dict(snapshot)  # the checkpoint's weights stay those of the reference
    lightning = {"epoch": 0, "global_step": 1, "pytorch-lightning_version": "2.4.0", "state_dict": lit.state_dict(),
                 "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 1}}}},
                 "callbacks": {"ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}": {"best_model_score": None}},
                 "optimizer_states": [adamw.state_dict()], "lr_schedulers": [],
                 "hyper_parameters": {"lr": 1e-3, "num_classes": cfg["num_classes"]}}
    save(lightning, os.path.join(folder, "lightning.ckpt"), compact)
    man["lightning.ckpt"] = dict(container="Lightning checkpoint", key="state_dict", others=[], prefix="model.",
                                 reference="weights.reference.npz", opaque=[])

    # whole-module pickles
    if full:  # the plain state dict of the same weights: the baseline of docs/BENCHMARKS.md's container timings
        save(model.state_dict(), os.path.join(folder, "plain.pth"), compact)
        man["plain.pth"] = dict(container="plain state dict", key=None, others=[], prefix=None,
                                reference="weights.reference.npz")
    if full:  # micro timm module pickles would be another 41 KB each: full size only (module_miil is micro)
        save(model, os.path.join(folder, "module_timm.pth"), compact)
        man["module_timm.pth"] = dict(container="whole pickled module timm.models.tresnet.TResNet", key=None,
                                      others=[], prefix=None, reference="weights.reference.npz")
        save(nn.DataParallel(model), os.path.join(folder, "module_dataparallel.pth"), compact)
        man["module_dataparallel.pth"] = dict(
            container="whole pickled module torch.nn.parallel.data_parallel.DataParallel", key=None, others=[],
            prefix="module.", reference="weights.reference.npz")
    miil_ckpt, miil_ref = generate.miil_checkpoint(model, cfg["v2"], seed=23)
    save(miil_module(miil_ckpt["model"]), os.path.join(folder, "module_miil.pth"), compact)
    reference(os.path.join(folder, "miil.reference.npz"), miil_ref, x, full)
    man["module_miil.pth"] = dict(container="whole pickled module src.models.tresnet.tresnet.TResNet", key=None,
                                  others=[], prefix=None, reference="miil.reference.npz", dialect="miil")

    # Hugging Face hub folder, by timm's own save_for_hf
    from timm.models._hub import save_for_hf
    hub = timm.create_model("tresnet_m", pretrained=False, num_classes=cfg["num_classes"], layers=cfg["layers"],
                            width_factor=cfg["width_factor"])
    hub.load_state_dict(model.state_dict())
    save_for_hf(hub, os.path.join(folder, "hub"), safe_serialization=True,
                model_config={"label_names": LABELS[:cfg["num_classes"]] if not full else None},
                data_config={"input_size": (3, size, size), "interpolation": "bicubic",
                             "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225), "crop_pct": 0.9,
                             "crop_mode": "center"})
    man["hub"] = dict(container="Hugging Face hub folder", key=None, others=[], prefix=None,
                      reference="weights.reference.npz", labels=LABELS[:cfg["num_classes"]] if not full else [])

    if not full:
        planted(folder, man)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"generator": "Fixtures/gen_containers.py", "torch": torch.__version__, "files": man}, f, separators=(",", ":"))
        f.write("\n")


def _fake(module, name):
    """A stand-in callable that pickle names `module.name` (for platform modules absent here, e.g. nt)."""
    def f(*a):
        raise RuntimeError("never called")
    f.__module__, f.__qualname__, f.__name__ = module, name, name
    mod = sys.modules.get(module) or types.ModuleType(module)
    setattr(mod, name, f)
    sys.modules[module] = mod
    return f


def planted(folder, man):
    """One file per primitive: {'state_dict': {...}, 'extra': <object whose __reduce__ names the primitive>}."""
    import builtins, importlib, marshal, pickle, pty, runpy, shutil, socket, subprocess, webbrowser, code, ctypes
    nt_system = _fake("nt", "system")
    cases = [
        ("os_system", os.system, ("true",)), ("nt_system", nt_system, ("true",)),
        ("subprocess_popen", subprocess.Popen, (["true"],)), ("subprocess_check_output", subprocess.check_output, (["true"],)),
        ("builtins_eval", builtins.eval, ("1",)), ("builtins_exec", builtins.exec, ("1",)),
        ("builtins_compile", builtins.compile, ("1", "f", "eval")), ("builtins_getattr", builtins.getattr, ("x", "upper")),
        ("builtins_import", builtins.__import__, ("os",)), ("builtins_open", builtins.open, ("/dev/null",)),
        ("pty_spawn", pty.spawn, ("true",)), ("socket_socket", socket.socket, ()),
        ("shutil_rmtree", shutil.rmtree, ("/nonexistent",)), ("importlib_import_module", importlib.import_module, ("os",)),
        ("pickle_loads", pickle.loads, (b".",)), ("marshal_loads", marshal.loads, (b"N",)),
        ("runpy_run_path", runpy.run_path, ("/dev/null",)), ("ctypes_cdll", ctypes.CDLL, ("libc.so.6",)),
        ("webbrowser_open", webbrowser.open, ("about:blank",)), ("sys_exit", sys.exit, (0,)),
        ("code_interact", code.interact, ()), ("torch_load", torch.load, ("/dev/null",)),
    ]

    class Planted:
        def __init__(self, fn, args):
            self.fn, self.args = fn, args

        def __reduce__(self):
            return (self.fn, self.args)

    sd = OrderedDict([("body.conv1.conv.weight", torch.zeros(1, 2, 1, 1))])
    entries = OrderedDict()
    for name, fn, a in cases:
        entries[name] = Planted(fn, a)
    # functools.partial of a primitive: partial itself is refused, and so is what it wraps
    entries["functools_partial_os_system"] = functools.partial(os.system, "true")
    for name, obj in entries.items():
        path = os.path.join(folder, f"planted_{name}.pth")
        buf = io.BytesIO()
        torch.save({"state_dict": sd, "epoch": 3, "extra": obj}, buf, _use_new_zipfile_serialization=False)
        data = buf.getvalue()
        with open(path, "wb") as f:
            f.write(data)
        # the global the file names first (protocol 2 writes Python 2 spellings: __builtin__.eval, commands.Popen)
        named = next(f"{arg.split(' ')[0]}.{arg.split(' ')[1]}" for op, arg, _ in pickletools.genops(pickle.dumps(obj, 2))
                     if op.name == "GLOBAL")
        assert named.split(".")[-1].encode() in data, named
        man[f"planted_{name}.pth"] = dict(container="planted", refused_global=named)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="tresnet_m in every container -> Fixtures/full/containers/")
    a = ap.parse_args()
    torch.set_num_threads(2)
    if a.full:
        make(os.path.join(HERE, "full", "containers"), generate.FULL["tresnet_m"], full=True)
    else:
        folder = os.path.join(HERE, "containers")
        make(folder, MICRO, full=False)
        total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(folder) for f in fs)
        print(f"containers: {total / 1e3:.1f} KB in {folder}")
        assert total < 200_000, "the container fixtures must stay under 200 KB"


if __name__ == "__main__":
    main()
