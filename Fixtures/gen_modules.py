#!/usr/bin/env python3
"""Whole-module pickles of the micro container model, as training code writes them (Fixtures/containers/):

    module_timm.pth          torch.save(model): the timm TResNet itself
    module_dataparallel.pth  torch.save(nn.DataParallel(model))
    module_ddp.pth           torch.save(DistributedDataParallel(model)) in a one-process gloo group
    module_compiled.pth      torch.save(torch.compile(model)): torch's OptimizedModule around the model
    compiled_state_dict.pth  torch.compile(model).state_dict(): every name under `_orig_mod.`

The model is timm's micro TResNet (layers [1, 1, 1, 1], planes 1, 5 classes) holding exactly the weights of
`state_dict` in the committed timm_train.pth.tar (gen_containers.py), so weights.reference.npz is the reference of
every file here (checked: the rebuilt model's taps equal it). As gen_containers.py does for its micro files, the
archives are torch.save's zip re-zipped with deflate (the pickles inside byte-identical), with a fixed timestamp.
Appends the files' entries to containers/manifest.json. Run: python Fixtures/gen_modules.py (`make fixtures`).
"""
import io
import json
import os
import sys
import tempfile
import zipfile

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compress_references  # noqa: E402
import gen_containers  # noqa: E402
import generate  # noqa: E402


def save(obj, path):
    buf = io.BytesIO()
    torch.save(obj, buf)
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            out = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            out.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(out, zin.read(info.filename))


def micro_model(folder):
    from timm.models.tresnet import TResNet
    ckpt = torch.load(os.path.join(folder, "timm_train.pth.tar"), weights_only=False)  # our own file
    model = TResNet(**{k: v for k, v in gen_containers.MICRO.items()})
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    ref_path = os.path.join(folder, "weights.reference.npz")
    x = torch.from_numpy(compress_references.reference_input(ref_path))
    acts = generate.capture(model, x)
    with np.load(ref_path) as ref:
        for k in ref.files:
            if k != "input":
                assert np.array_equal(ref[k], acts[k].numpy()), f"rebuilt model differs from the reference at {k}"
    return model


def main():
    torch.set_num_threads(2)
    folder = os.path.join(HERE, "containers")
    model = micro_model(folder)
    man_path = os.path.join(folder, "manifest.json")
    with open(man_path) as f:
        manifest = json.load(f)
    files = manifest["files"]

    def record(name, container, prefix):
        files[name] = dict(container=container, key=None, others=[], prefix=prefix,
                           reference="weights.reference.npz", opaque=[])
        print(f"{name}: {os.path.getsize(os.path.join(folder, name))} bytes")

    save(model, os.path.join(folder, "module_timm.pth"))
    record("module_timm.pth", "whole pickled module timm.models.tresnet.TResNet", None)
    save(nn.DataParallel(model), os.path.join(folder, "module_dataparallel.pth"))
    record("module_dataparallel.pth", "whole pickled module torch.nn.parallel.data_parallel.DataParallel", "module.")

    import torch.distributed as dist
    with tempfile.TemporaryDirectory() as tmp:
        dist.init_process_group("gloo", init_method=f"file://{tmp}/rendezvous", rank=0, world_size=1)
        try:
            ddp = nn.parallel.DistributedDataParallel(model)
            save(ddp, os.path.join(folder, "module_ddp.pth"))
        finally:
            dist.destroy_process_group()
    record("module_ddp.pth", "whole pickled module torch.nn.parallel.distributed.DistributedDataParallel", "module.")

    compiled = torch.compile(model)
    compiled_sd = compiled.state_dict()
    assert all(k.startswith("_orig_mod.") for k in compiled_sd)
    save(compiled_sd, os.path.join(folder, "compiled_state_dict.pth"))
    record("compiled_state_dict.pth", "plain state dict", "_orig_mod.")
    save(compiled, os.path.join(folder, "module_compiled.pth"))
    record("module_compiled.pth", "whole pickled module torch._dynamo.eval_frame.OptimizedModule", "_orig_mod.")

    with open(man_path, "w") as f:
        json.dump(manifest, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
