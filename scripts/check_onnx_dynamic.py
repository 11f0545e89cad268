#!/usr/bin/env python3
"""Dev-only check that an ONNX file tresnet-kit wrote from the micro TResNet (Fixtures/gen_onnx_dynamic.py) runs in
ONNX Runtime at several batch sizes and image sizes with PyTorch's logits (the writer declares batch, height and
width as symbolic dims).

    tresnet-convert Fixtures/tiny/micro.ts11_bn.dyn_bhw.onnx out/micro.onnx
    .venv/bin/python scripts/check_onnx_dynamic.py out/micro.onnx

Rebuilds the micro model exactly as the fixture script does (same seed), then compares onnxruntime with PyTorch
at batch 1 and 3 and at 32x32 and 64x96, within |d| <= 1e-4 + 1e-4|ref| (docs/PARITY.md). Exits 0 when all pass.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures"))
import generate as G  # noqa: E402
import gen_onnx_dynamic as D  # noqa: E402


def main():
    path = sys.argv[1]
    onnx.checker.check_model(path, full_check=True)
    dims = [d.dim_param or d.dim_value for d in onnx.load(path).graph.input[0].type.tensor_type.shape.dim]
    torch.set_num_threads(2)
    model = G.make_model(D.MICRO, seed=15, calib_size=32)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(4)
    ok = True
    for batch in (1, 3):
        for h, w in ((32, 32), (64, 96)):
            x = torch.rand(batch, 3, h, w, generator=gen)
            got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
            with torch.no_grad():
                want = model(x).numpy()
            err = float(np.abs(got - want).max())
            good = got.shape == want.shape and bool(np.all(np.abs(got - want) <= 1e-4 + 1e-4 * np.abs(want)))
            ok &= good
            print(f"input {dims} run at [{batch}, 3, {h}, {w}]: logits {list(got.shape)}, "
                  f"max |onnxruntime - PyTorch| = {err:.2e} {'PASS' if good else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
