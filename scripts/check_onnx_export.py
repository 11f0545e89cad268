#!/usr/bin/env python3
"""Dev-only check that an ONNX file tresnet-kit wrote runs in ONNX Runtime with PyTorch's logits.

    .venv/bin/python scripts/check_onnx_export.py out.onnx Fixtures/tiny/tiny_v1.reference.npz [--tolerance 1e-4]

Runs the model on the reference's `input` array with onnx.checker first, then onnxruntime (CPU), and compares the
output with the reference's `head.fc` logits. Exits 0 when max |ours - PyTorch| <= tolerance, 1 otherwise.
"""
import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="the .onnx file to check")
    ap.add_argument("reference", help="a reference .npz with 'input' and 'head.fc' (Fixtures/generate.py)")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="max absolute logit error (default 1e-4)")
    args = ap.parse_args()

    onnx.checker.check_model(args.model, full_check=True)
    ref = np.load(args.reference)
    x, want = ref["input"], ref["head.fc"]
    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    got = sess.run(None, {name: x.astype(np.float32)})[0]
    if got.shape != want.shape:
        print(f"FAIL: logits shape {got.shape}, reference {want.shape}")
        return 1
    err = float(np.abs(got - want).max())
    top1 = int((got.argmax(1) == want.argmax(1)).sum())
    print(f"{args.model}: onnxruntime {ort.__version__}, opset "
          f"{[o.version for o in onnx.load(args.model, load_external_data=False).opset_import]}, "
          f"logits {list(got.shape)}, max |onnxruntime - PyTorch| = {err:.3e}, top-1 agree {top1}/{len(got)}")
    if err > args.tolerance:
        print(f"FAIL: above the tolerance {args.tolerance}")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
