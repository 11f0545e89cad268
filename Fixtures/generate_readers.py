#!/usr/bin/env python3
"""Extra checkpoint-reader fixtures, separate from generate.py so the main fixtures stay byte-stable:

    python Fixtures/generate_readers.py     # -> Fixtures/readers/*.pt(h) + manifest.json (committed, tiny)

Every file is written by torch itself: a TorchScript archive, a dict of nn.Parameters (_rebuild_parameter),
a whole pickled nn.Module, a Lightning-style checkpoint with real Adam optimizer state (int keys, nested
tensors), a protocol-5 pickle.
"""
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import Manifest  # noqa: E402  (same manifest format as Fixtures/tiny/manifest.json)

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "readers")


def main():
    os.makedirs(HERE, exist_ok=True)
    for f in os.listdir(HERE):
        os.remove(os.path.join(HERE, f))
    torch.manual_seed(5)
    man = Manifest(HERE)

    lin = torch.nn.Linear(3, 2)
    torch.jit.save(torch.jit.script(lin), os.path.join(HERE, "torchscript.pt"))
    man.add("torchscript.pt", "pytorch-zip", expect="refused: TorchScript")

    params = OrderedDict([("w", torch.nn.Parameter(torch.arange(6.0).reshape(2, 3))),
                          ("b", torch.nn.Parameter(torch.tensor([0.5, -0.25]), requires_grad=False))])
    torch.save(params, os.path.join(HERE, "parameters.pth"))
    man.add("parameters.pth", "pytorch-zip", OrderedDict((k, v.detach()) for k, v in params.items()), wrapper=None)

    torch.save(lin, os.path.join(HERE, "full_module.pth"))
    man.add("full_module.pth", "pytorch-zip", expect="refused: whole pickled module (torch.nn.modules.linear.Linear)")

    # Lightning-style: state_dict + hyper_parameters + optimizer_states with Adam state after one step.
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    sd = model.state_dict()
    ckpt = {"epoch": 3, "global_step": 12, "pytorch-lightning_version": "2.5.0",
            "state_dict": OrderedDict(("model." + k, v) for k, v in sd.items()),
            "optimizer_states": [opt.state_dict()], "lr_schedulers": [],
            "hyper_parameters": {"lr": 0.1, "layers": [3, 4]}}
    torch.save(ckpt, os.path.join(HERE, "lightning.ckpt"))
    man.add("lightning.ckpt", "pytorch-zip", ckpt["state_dict"], wrapper="state_dict", prefix=None,
            non_tensor_entries=["epoch", "global_step", "pytorch-lightning_version", "optimizer_states",
                                "lr_schedulers", "hyper_parameters"])

    small = OrderedDict([("x", torch.linspace(-1, 1, 5, dtype=torch.float64)), ("y", torch.tensor([[1, 2]], dtype=torch.int16))])
    torch.save(small, os.path.join(HERE, "proto5.pth"), pickle_protocol=5)
    man.add("proto5.pth", "pytorch-zip", small, wrapper=None)
    man.write()
    print(f"reader fixtures: {len(os.listdir(HERE))} files in {HERE}")


if __name__ == "__main__":
    main()
