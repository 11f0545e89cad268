"""Per-operation references for the runtime's unit tests, made with the very timm/torch modules TResNet uses:
SpaceToDepth, BlurPool2d, the ceil-mode AvgPool2d shortcut pool and SEModule. Called from generate.py;
writes Fixtures/tiny/ops.npz (input and output of each op, plus the SE weights)."""
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
    np.savez(os.path.join(folder, "ops.npz"), **{k: v.numpy() for k, v in out.items()})
