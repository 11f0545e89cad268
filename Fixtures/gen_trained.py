#!/usr/bin/env python3
"""Trained-like TResNets and their references, for the parity error model (docs/PARITY.md, issue 16).

    python Fixtures/gen_trained.py          # the committed micro fixture -> Fixtures/tiny/trained_micro.*
    python Fixtures/gen_trained.py --full   # full-size m, l, xl, v2_l -> Fixtures/full/trained_*.* (git-ignored)

The tame fixtures of generate.py keep activations of order 1. A trained TResNet does not: its residual stream
grows through the stages (layer3 up to about 20, layer4 about 10 on ImageNet images), and float32 rounding
grows with it. These models are random convolutions with trained-like BatchNorm: gammas and betas drawn like
a trained network's (branch-ending BNs small, betas mostly negative before the leaky ReLUs), running
statistics measured in train mode on image-like inputs (smooth colour fields with edges and texture, in
[0, 1]). Every reference holds PyTorch's float32 taps and, under `float64/<tap>`, the same model's taps
computed in float64 (the error model's ground truth). With --full, `<name>.onnxruntime.npz` holds ONNX
Runtime's float32 taps for the same input (tap names as in the reference, so it is itself a reference).
Model building, tap capture and the variant table are generate.py's, imported.
"""
import argparse
import copy
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file
from timm.models.tresnet import TResNet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# The committed micro model: timm TResNet at width 1/32 (planes 2), three Bottlenecks in layer3 so the
# residual stream has room to grow, 4 classes, one 32x32 image: a few tens of KB in all.
MICRO = dict(layers=[1, 1, 3, 1], width_factor=0.03125, v2=False, num_classes=4)


def image_like(n, size, gen):
    """Images in [0, 1] with the statistics of photographs rather than of white noise: a smooth colour field
    (bilinear from a coarse grid), a few hard edges, fine texture."""
    coarse = torch.rand(n, 3, 5, 5, generator=gen)
    x = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    yy = torch.arange(size).view(1, 1, size, 1).float()
    xx = torch.arange(size).view(1, 1, 1, size).float()
    for _ in range(3):
        a, b, c = (torch.rand(n, 1, 1, 1, generator=gen) - 0.5 for _ in range(3))
        edge = ((a * xx + b * yy) / size + c > 0).float()
        x = x + 0.25 * (torch.rand(n, 3, 1, 1, generator=gen) - 0.5) * edge
    x = x + 0.04 * torch.randn(n, 3, size, size, generator=gen)
    return x.clamp(0, 1)


def trained_like(cfg, seed, calib_size, calib_batches=4, batch=8, end_gamma=(0.5, 1.5), end_beta=(0.3, 0.3)):
    """A TResNet whose BatchNorm looks trained. Gammas: |N(0.6, 0.25)| inside the branches, U(0.5, 1.5) at the
    BN that ends a residual branch; betas N(-0.15, 0.25) inside the branches (leaky ReLU mostly off), N(0.3, 0.3)
    at branch ends (the residual stream grows: on tresnet_m at 224, layer3 reaches about 19 and layer4 about 8); linear head N(0, 0.02). Running statistics: cumulative average over `calib_batches`
    image-like batches in train mode."""
    torch.manual_seed(seed)
    model = TResNet(**cfg)
    ends = generate.branch_end_norms(model)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                if id(m) in ends:
                    m.weight.uniform_(*end_gamma)
                    m.bias.normal_(*end_beta)
                else:
                    m.weight.normal_(0.6, 0.25).abs_()
                    m.bias.normal_(-0.15, 0.25)
                m.reset_running_stats()
                m.momentum = None
            if isinstance(m, torch.nn.Linear):
                m.weight.normal_(0.0, 0.02)
                m.bias.normal_(0.0, 0.02)
        model.train()
        gen = torch.Generator().manual_seed(seed + 100)
        for _ in range(calib_batches):
            model(image_like(batch, calib_size, gen))
    model.eval()
    model._tk_cfg = cfg
    return model


def write_reference(path, model, x):
    """PyTorch's float32 taps (generate.capture) and, under `float64/<tap>`, the same model's float64 taps."""
    arrays = {"input": x.numpy()}
    for k, v in generate.capture(model, x).items():
        arrays[k] = v.numpy()
    for k, v in generate.capture(copy.deepcopy(model).double(), x.double()).items():
        if k != "body.s2d":  # a permutation of the input: exact in any precision
            arrays["float64/" + k] = v.numpy()
    np.savez(path, **arrays)
    return arrays


class Tapped(torch.nn.Module):
    """The model with every tap as an output, for the ONNX export (timm's forward, spelled out)."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, x):
        b, h = self.m.body, self.m.head
        s2d = b.s2d(x)
        outs = [s2d, b.conv1(s2d)]
        for layer in (b.layer1, b.layer2, b.layer3, b.layer4):
            outs.append(layer(outs[-1]))
        pooled = h.global_pool(outs[-1])
        return tuple(outs) + (pooled, h.fc(pooled))


def write_onnxruntime_reference(path, model, x, folder):
    """ONNX Runtime's float32 taps (TorchScript exporter, opset 17, BN folded by the exporter as in eval mode)."""
    import onnxruntime as ort
    onnx_path = os.path.join(folder, "_tapped.onnx")
    torch.onnx.export(Tapped(model).eval(), (x,), onnx_path, dynamo=False, opset_version=17,
                      input_names=["input"], output_names=generate.TAPS)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    outs = session.run(None, {"input": x.numpy()})
    os.remove(onnx_path)
    np.savez(path, input=x.numpy(), **dict(zip(generate.TAPS, outs)))


def micro(folder):
    """The micro network has 6 blocks where tresnet_m has 21, so its branch-ending BNs are drawn larger to reach
    a trained network's magnitudes (layer3 about 24, layer4 about 6). Its weights are stored as float16 (the
    budget) and the references are computed from those weights widened back to float32, exactly."""
    model = trained_like(MICRO, seed=21, calib_size=32, calib_batches=8, end_gamma=(2, 4), end_beta=(2.5, 1))
    half = {k: v.half() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    model.load_state_dict({k: v.float() for k, v in half.items()}, strict=False)
    x = image_like(1, 32, torch.Generator().manual_seed(22))
    save_file({k: v.contiguous() for k, v in half.items()}, os.path.join(folder, "trained_micro.safetensors"))
    arrays = write_reference(os.path.join(folder, "trained_micro.reference.npz"), model, x)
    for k in generate.TAPS:
        print(f"micro {k:18s} max {np.abs(arrays[k]).max():8.3f}")
    size = sum(os.path.getsize(os.path.join(folder, f"trained_micro.{e}")) for e in ("safetensors", "reference.npz"))
    print(f"trained_micro: {size} bytes")
    assert size < 100_000, "the micro fixture's budget is 100 KB"


def full(folder, names, sizes, onnxruntime):
    os.makedirs(folder, exist_ok=True)
    for name in names:
        pth = os.path.join(folder, f"trained_{name}.pth")
        if os.path.exists(pth):  # references for more sizes of a model made before: keep its weights
            model = TResNet(**generate.FULL[name])
            model.load_state_dict(torch.load(pth))
            model.eval()
        else:
            model = trained_like(generate.FULL[name], seed=3, calib_size=224, calib_batches=2)
            torch.save(model.state_dict(), pth)
        for size in sizes:
            x = image_like(1, size, torch.Generator().manual_seed(11))
            base = os.path.join(folder, f"trained_{name}_{size}")
            write_reference(base + ".reference.npz", model, x)
            if onnxruntime:
                write_onnxruntime_reference(base + ".onnxruntime.npz", model, x, folder)
            print(f"full: trained_{name} at {size} done", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="write the full-size models to Fixtures/full/ instead")
    ap.add_argument("--models", default=",".join(generate.FULL), help="with --full: comma-separated variants")
    ap.add_argument("--sizes", default="224,448", help="with --full: input sides")
    ap.add_argument("--no-onnxruntime", action="store_true", help="with --full: skip the ONNX Runtime taps")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.full:
        full(os.path.join(HERE, "full"), args.models.split(","), [int(s) for s in args.sizes.split(",")],
             not args.no_onnxruntime)
    else:
        micro(os.path.join(HERE, "tiny"))


if __name__ == "__main__":
    main()
