"""Per-operation references for the runtime's unit tests, made with the very timm/torch modules TResNet uses:
SpaceToDepth, BlurPool2d, the ceil-mode AvgPool2d shortcut pool, SEModule, and convolutions with eval-mode
BatchNorm, activation and residual on odd shapes (for the direct kernels' tails). Called from generate.py;
writes Fixtures/tiny/ops.npz (input and output of each op, plus the weights)."""
import os

import numpy as np
import torch
from timm.layers import SpaceToDepth, BlurPool2d, SEModule


def make(folder):
    g = torch.Generator().manual_seed(21)
    out = {}
    # space-to-depth on a non-square image with distinct values (block 4)
    x = torch.rand(2, 3, 8, 12, generator=g)
    out["s2d.input"] = x
    out["s2d.output"] = SpaceToDepth(block_size=4)(x)
    # blur pool on even and odd sizes (reflect padding, stride 2)
    for tag, shape in [("even", (2, 5, 6, 8)), ("odd", (1, 3, 7, 5))]:
        y = torch.randn(*shape, generator=g)
        out[f"blur_{tag}.input"] = y
        out[f"blur_{tag}.output"] = BlurPool2d(channels=shape[1], filt_size=3, stride=2)(y)
    # the shortcut's average pool: partial windows on odd sides average only in-bounds elements
    z = torch.randn(1, 4, 5, 7, generator=g)
    out["avgpool.input"] = z
    out["avgpool.output"] = torch.nn.AvgPool2d(kernel_size=2, stride=2, ceil_mode=True, count_include_pad=False)(z)
    # squeeze-and-excitation with random weights
    se = SEModule(6, rd_channels=4)
    with torch.no_grad():
        for p in se.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    s = torch.randn(2, 6, 3, 5, generator=g)
    out["se.input"] = s
    out["se.output"] = se(s).detach()
    out["se.fc1.weight"] = se.fc1.weight.detach()
    out["se.fc1.bias"] = se.fc1.bias.detach()
    out["se.fc2.weight"] = se.fc2.weight.detach()
    out["se.fc2.bias"] = se.fc2.bias.detach()
    # conv (no bias) + eval BatchNorm + activation (+ residual before the activation): TResNet's conv blocks on
    # shapes that exercise every tail of the direct kernels (channels not multiples of 16 or 32, a batch of 2,
    # non-square maps smaller than a pixel tile). A separate generator keeps the cases above unchanged.
    g2 = torch.Generator().manual_seed(22)
    cases = [  # name, input shape, out channels, kernel, activation, residual
        ("conv3_leaky", (2, 5, 7, 9), 37, 3, "leaky", False),
        ("conv1_relu_residual", (1, 40, 3, 5), 33, 1, "relu", True),
        ("conv3_identity", (1, 6, 2, 3), 70, 3, "identity", False),
        ("conv3_relu_residual", (2, 12, 5, 4), 40, 3, "relu", True),
    ]
    for name, shape, cout, k, act, residual in cases:
        conv = torch.nn.Conv2d(shape[1], cout, k, padding=k // 2, bias=False)
        bn = torch.nn.BatchNorm2d(cout).eval()
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=g2) * (2.0 / (shape[1] * k * k)) ** 0.5)
            bn.weight.copy_(torch.rand(cout, generator=g2) + 0.5)
            bn.bias.copy_(torch.randn(cout, generator=g2) * 0.1)
            bn.running_mean.copy_(torch.randn(cout, generator=g2) * 0.1)
            bn.running_var.copy_(torch.rand(cout, generator=g2) + 0.5)
        x = torch.randn(*shape, generator=g2)
        with torch.no_grad():
            y = bn(conv(x))
            if residual:
                r = torch.randn(y.shape, generator=g2)
                out[f"{name}.residual"] = r
                y = y + r
            y = {"leaky": torch.nn.LeakyReLU(0.001), "relu": torch.nn.ReLU(), "identity": torch.nn.Identity()}[act](y)
        out[f"{name}.input"] = x
        out[f"{name}.output"] = y
        out[f"{name}.conv.weight"] = conv.weight.detach()
        for p in ["weight", "bias", "running_mean", "running_var"]:
            out[f"{name}.bn.{p}"] = getattr(bn, p).detach()
    np.savez(os.path.join(folder, "ops.npz"), **{k: v.numpy() for k, v in out.items()})
