"""Dynamic-shape ONNX exports of a micro TResNet, for the ONNX reader's symbolic shape evaluation.

The TorchScript exporter (dynamo=False) with `dynamic_axes` computes the space-to-depth reshapes (and the blur
pools' pads) from `Shape -> Gather -> Div -> Cast -> Unsqueeze -> Concat` subgraphs instead of storing them;
the dynamo exporter with `dynamic_shapes` does the same with `Shape(start, end) -> Squeeze -> Div -> Reshape`.

The micro model: timm TResNet(layers=[1, 1, 1, 1], width_factor=1/64 (planes 1), num_classes=5), random weights
with calibrated BN statistics (generate.make_model, seed 15). Every export of it is checked in onnxruntime
against PyTorch at the export's input AND at another batch size and image size.

Committed (Fixtures/tiny/, ~210 KB together; `--committed-only` rewrites just these):
    micro.reference.npz              PyTorch taps (generate.write_reference) at batch 1, 32x32: a batch size and
                                     image size that differ from the exports' (batch 2, 64x64)
    micro.ts11_bn.dyn_bhw.onnx       TorchScript, opset 11, do_constant_folding=False (BatchNormalization kept),
                                     dynamic_axes batch + height + width
    micro.ts13.dyn_bhw.onnx          TorchScript, opset 13, default export (BN folded), dynamic_axes batch + H + W
    micro.ts17_bn.dyn_b.onnx         TorchScript, opset 17, do_constant_folding=False, dynamic_axes batch
    micro.ts20.dyn_b.onnx            TorchScript, opset 20, default export (BN folded), dynamic_axes batch
    onnx_dynamic.json                what each file is

Not committed (Fixtures/full/onnx_dynamic/, git-ignored; the tests read them when present): the whole matrix,
    micro.ts{11..21}_{fold,bn,preserve}.dyn_{b,bhw}.onnx   (fold: default; bn: do_constant_folding=False;
                                     preserve: training=TrainingMode.PRESERVE on the eval-mode model)
    micro.dynamo18.dyn_{b,bhw}.onnx  dynamo exporter, dynamic_shapes on batch (and H = 4*h4, W = 4*w4),
                                     node metadata_props (stack traces) cleared
    onnx_dynamic.json
All exports keep the exporter's own node, value and initializer names.

`python Fixtures/gen_onnx_dynamic.py --full` (run by `make fixtures-full`) writes only a full-size tresnet_m (random weights, BN calibrated as
generate.py calibrates its full-size models: residual-branch gammas U(0.1, 0.3), 224-pixel calibration, seed 3)
into Fixtures/full/onnx_dynamic/: tresnet_m.dyn.reference.npz (taps at batch 1, 224x224) and
tresnet_m.ts17.dyn_bhw.onnx (TorchScript, opset 17, default export, batch + height + width dynamic, exported at
batch 2, 256x256).
"""
import json
import os
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as G  # noqa: E402
import gen_onnx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MICRO = dict(layers=[1, 1, 1, 1], width_factor=1 / 64, v2=False, num_classes=5)
OPSETS = list(range(11, 22))  # the matrix; the issue names 11, 13, 17 and 20, and 21 is the newest torch writes
COMMITTED = {"micro.ts11_bn.dyn_bhw.onnx": (11, "bn", "bhw"), "micro.ts13.dyn_bhw.onnx": (13, "fold", "bhw"),
             "micro.ts17_bn.dyn_b.onnx": (17, "bn", "b"), "micro.ts20.dyn_b.onnx": (20, "fold", "b")}


def export_ts(model, x, path, opset, bn, dyn):
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}}
    if dyn == "bhw":
        axes["input"].update({2: "height", 3: "width"})
    kw = dict(do_constant_folding=bn != "bn")
    if bn == "preserve":
        kw["training"] = torch.onnx.TrainingMode.PRESERVE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, dynamo=False, opset_version=opset, input_names=["input"],
                          output_names=["logits"], dynamic_axes=axes, **kw)


def export_dynamo(model, x, path, dyn):
    from torch.export import Dim
    shapes = {0: Dim("batch", min=1, max=4096)}
    if dyn == "bhw":
        shapes.update({2: 4 * Dim("h4", min=8, max=4096), 3: 4 * Dim("w4", min=8, max=4096)})
    program = torch.onnx.export(model, (x,), dynamo=True, opset_version=18, input_names=["input"],
                                output_names=["logits"], dynamic_shapes={"x": shapes})
    for node in program.model.graph:
        node.metadata_props.clear()
    program.save(path)


def check(path, model, inputs):
    """onnxruntime matches PyTorch on every input (gen_onnx.check: docs/PARITY.md tolerance); the max |error|."""
    return max(gen_onnx.check(path, model, x) for x in inputs)


def shape_ops(path):
    g = onnx.load(path).graph
    return sorted({n.op_type for n in g.node} & {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice",
                                                 "Div", "Cast", "ConstantOfShape", "Sub"})


def make(tiny_folder, full_folder, committed_only=False):
    torch.set_num_threads(2)
    model = G.make_model(MICRO, seed=15, calib_size=32)
    gen = torch.Generator().manual_seed(15)
    x_export = torch.rand(2, 3, 64, 64, generator=gen)
    x_ref = torch.rand(1, 3, 32, 32, generator=gen)
    x_other = torch.rand(3, 3, 32, 64, generator=gen)
    G.write_reference(os.path.join(tiny_folder, "micro.reference.npz"), model, x_ref)
    arch = dict(layout="v1", layers=MICRO["layers"], planes=1, num_classes=MICRO["num_classes"])
    os.makedirs(full_folder, exist_ok=True)
    jobs = []
    for opset in OPSETS:
        for bn in ["fold", "bn", "preserve"]:
            for dyn in ["b", "bhw"]:
                name = f"micro.ts{opset}{'' if bn == 'fold' else '_' + bn}.dyn_{dyn}.onnx"
                jobs.append((name, "torchscript", opset, bn, dyn))
    jobs += [(f"micro.dynamo18.dyn_{dyn}.onnx", "dynamo", 18, "fold", dyn) for dyn in ["b", "bhw"]]
    if committed_only:  # the committed exports only (the matrix's other files untouched)
        jobs = [j for j in jobs if j[0] in COMMITTED]
    tables = {tiny_folder: {}, full_folder: {}}
    for name, exporter, opset, bn, dyn in jobs:
        folder = tiny_folder if name in COMMITTED else full_folder
        path = os.path.join(folder, name)
        if exporter == "torchscript":
            export_ts(model, x_export, path, opset, bn, dyn)
        else:
            export_dynamo(model, x_export, path, dyn)
        # the export's own input; where H and W are dynamic also the reference's and another size
        inputs = [x_export, x_export[:1]] + ([x_ref, x_other] if dyn == "bhw" else [])
        err = check(path, model, inputs)
        tables[folder][name] = dict(exporter=exporter, opset=opset, batchnorm=bn, folded=bn == "fold",
                                    dynamic=["batch"] + (["height", "width"] if dyn == "bhw" else []),
                                    export_input=list(x_export.shape), reference="micro.reference.npz", arch=arch,
                                    shape_ops=shape_ops(path), onnxruntime_max_abs_error=err)
        print(f"{folder == tiny_folder and 'tiny' or 'full'}/{name}: {os.path.getsize(path)} bytes, "
              f"onnxruntime vs PyTorch max |err| {err:.2e}")
    for folder, table in tables.items():
        if committed_only and folder == full_folder:
            continue
        with open(os.path.join(folder, "onnx_dynamic.json"), "w") as f:
            json.dump(table, f, indent=1, sort_keys=True)
            f.write("\n")


def full(folder):
    torch.set_num_threads(2)
    os.makedirs(folder, exist_ok=True)
    model = G.make_model(G.FULL["tresnet_m"], seed=3, calib_size=224, calib_batches=2, residual_gamma=(0.1, 0.3))
    gen = torch.Generator().manual_seed(11)
    x_ref = torch.rand(1, 3, 224, 224, generator=gen)
    x_export = torch.rand(2, 3, 256, 256, generator=gen)
    G.write_reference(os.path.join(folder, "tresnet_m.dyn.reference.npz"), model, x_ref)
    path = os.path.join(folder, "tresnet_m.ts17.dyn_bhw.onnx")
    export_ts(model, x_export, path, 17, "fold", "bhw")
    err = check(path, model, [x_export, x_ref])
    print(f"full/tresnet_m.ts17.dyn_bhw.onnx: {os.path.getsize(path)} bytes, onnxruntime vs PyTorch max |err| {err:.2e}")


if __name__ == "__main__":
    if "--full" in sys.argv:
        full(os.path.join(HERE, "full", "onnx_dynamic"))
    else:
        make(os.path.join(HERE, "tiny"), os.path.join(HERE, "full", "onnx_dynamic"), "--committed-only" in sys.argv)
