"""ONNX exports of the tiny TResNets for the ONNX reader's tests, made by both exporters torch ships.
Called from generate.py (`gen_onnx.make(folder)`); also runs on its own (`python Fixtures/gen_onnx.py`) to
rewrite only the ONNX fixtures. The models are rebuilt with generate.make_model and the same seeds, and checked
equal to the committed `tiny_*.pth` state dicts, so the committed `tiny_*.reference.npz` are their references.

    tiny_v1.ts.onnx            TorchScript exporter (dynamo=False), opset 17, BN folded, `onnx::Conv_N` names
    tiny_v1.ts_bn.onnx         TorchScript exporter, opset 13, do_constant_folding=False: BatchNormalization kept
    tiny_v1.dynamo.onnx(.data) dynamo exporter (dynamo=True), opset 18, optimized (BN folded), external data
    tiny_v2.dynamo.onnx(.data) as tiny_v1.dynamo.onnx; node metadata_props (the exporter's per-node stack
                               traces, ~150 KB) are cleared before saving, to keep the committed fixtures small

    tiny_v1.variant.onnx       tiny_v1.dynamo.onnx respelled (see variant()): SpaceToDepth, Identity, MatMul+Add
                               head, typed float_data; shares tiny_v1.dynamo.onnx.data

`python Fixtures/gen_onnx.py --full` (also run by `make fixtures-full`) exports the full-size tresnet_m both ways (and TorchScript unfolded) into
Fixtures/full/ (git-ignored).
"""
import json
import os
import sys

import onnx
import onnxruntime as ort
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compress_references  # noqa: E402


def export_ts(model, x, path, opset, fold):
    torch.onnx.export(model, x, path, dynamo=False, opset_version=opset, do_constant_folding=fold,
                      input_names=["input"], output_names=["logits"])


def export_dynamo(model, x, path, opset, strip_metadata):
    program = torch.onnx.export(model, (x,), dynamo=True, opset_version=opset, input_names=["input"],
                                output_names=["logits"])
    data = os.path.basename(path) + ".data"
    if os.path.exists(path + ".data"):
        os.remove(path + ".data")
    if strip_metadata:
        for node in program.model.graph:
            node.metadata_props.clear()
    program.save(path, external_data=True)
    assert os.path.exists(os.path.join(os.path.dirname(path), data)), "dynamo export wrote no external data"


def check(path, model, x):
    """The export runs in onnxruntime with PyTorch's logits (within |d| <= 1e-4 + 1e-4|ref|, docs/PARITY.md)."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": x.numpy()})[0]
    with torch.no_grad():
        want = model(x).numpy()
    err = float(np.abs(got - want).max())
    assert np.all(np.abs(got - want) <= 1e-4 + 1e-4 * np.abs(want)), \
        f"{path}: onnxruntime logits differ from PyTorch by up to {err} (docs/PARITY.md tolerance)"
    return err


def variant(source, path):
    """The same network spelled the other ways ONNX allows, made from the dynamo export with onnx's helpers and
    checked in onnxruntime: SpaceToDepth(4) instead of Reshape/Transpose/Reshape, an Identity after the stem, the
    head as MatMul (pre-transposed [in, out] weight, inline) + Add, and the SE biases in the typed float_data
    field. The other weights still point into tiny_v1.dynamo.onnx.data (same folder)."""
    from onnx import helper, numpy_helper
    m = onnx.load(source, load_external_data=False)
    g = m.graph
    nodes = list(g.node)
    # SpaceToDepth instead of view/permute/view
    first = next(i for i, n in enumerate(nodes) if n.op_type == "Reshape" and n.input[0] == g.input[0].name)
    last = first + 2
    assert [n.op_type for n in nodes[first:last + 1]] == ["Reshape", "Transpose", "Reshape"]
    s2d = helper.make_node("SpaceToDepth", [g.input[0].name], [nodes[last].output[0]], name="s2d", blocksize=4)
    nodes[first:last + 1] = [s2d]
    # Identity after the stem activation
    stem_act = next(n for n in nodes if n.op_type == "LeakyRelu")
    old = stem_act.output[0]
    stem_act.output[0] = old + "_pre_identity"
    nodes.insert(nodes.index(stem_act) + 1, helper.make_node("Identity", [old + "_pre_identity"], [old], name="identity"))
    # MatMul + Add head
    gemm = next(n for n in nodes if n.op_type == "Gemm")
    inits = {t.name: t for t in g.initializer}
    w = inits[gemm.input[1]]
    wt = numpy_helper.from_array(np.ascontiguousarray(load_tensor(w, source).T), "head_fc_weight_t")
    g.initializer.append(wt)
    mm = helper.make_node("MatMul", [gemm.input[0], "head_fc_weight_t"], ["fc_mm"], name="head_matmul")
    add = helper.make_node("Add", ["fc_mm", gemm.input[2]], [gemm.output[0]], name="head_bias")
    nodes[nodes.index(gemm):nodes.index(gemm) + 1] = [mm, add]
    g.initializer.remove(w)
    # SE biases as float_data
    for t in g.initializer:
        if ".se.fc" in t.name and t.name.endswith(".bias") and t.data_location == 0:
            values = numpy_helper.to_array(t).astype(np.float32)
            t.ClearField("raw_data")
            t.float_data.extend(values.tolist())
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    for t in [t for t in g.initializer if t.name not in used]:
        g.initializer.remove(t)
    for node in g.node:
        node.ClearField("metadata_props")
    onnx.save(m, path)


def load_tensor(t, model_path):
    from onnx import numpy_helper
    from onnx.external_data_helper import load_external_data_for_tensor
    t2 = onnx.TensorProto()
    t2.CopyFrom(t)
    if t2.data_location == onnx.TensorProto.EXTERNAL:
        load_external_data_for_tensor(t2, os.path.dirname(model_path))
    return numpy_helper.to_array(t2)


def make(folder):
    import generate as G
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(11)
    x = torch.rand(2, 3, 64, 64, generator=gen)  # the same input as tiny_*.reference.npz
    info = {}
    for name, seed in [("tiny_v1", 1), ("tiny_v2", 2)]:
        model = G.make_model(G.TINY[name], seed=seed)
        saved = os.path.join(folder, f"{name}.pth")
        if os.path.exists(saved):
            sd = torch.load(saved, weights_only=True)
            for k, v in model.state_dict().items():
                assert torch.equal(sd[k], v), f"rebuilt {name} differs from {saved} at {k}"
        ref = np.load(os.path.join(folder, f"{name}.reference.npz"))
        assert np.array_equal(compress_references.reference_input(os.path.join(folder, f"{name}.reference.npz")),
                              x.numpy()), "reference input differs"
        # committed fixtures stay under 8 MB: TorchScript exports of tiny_v1 only (tiny_v2 is 3x larger; its
        # layout is covered by the dynamo export)
        outputs = []
        if name == "tiny_v1":
            outputs.append((f"{name}.ts.onnx", lambda p: export_ts(model, x, p, 17, True), "torchscript", 17, True))
            outputs.append((f"{name}.ts_bn.onnx", lambda p: export_ts(model, x, p, 13, False), "torchscript", 13, False))
        outputs.append((f"{name}.dynamo.onnx", lambda p: export_dynamo(model, x, p, 18, name != "tiny_v1"),
                        "dynamo", 18, True))
        for file, export, exporter, opset, folded in outputs:
            path = os.path.join(folder, file)
            export(path)
            err = check(path, model, x)
            info[file] = dict(exporter=exporter, opset=opset, folded=folded, reference=f"{name}.reference.npz",
                              external_data=exporter == "dynamo", onnxruntime_max_abs_error=err)
            print(f"{file}: {os.path.getsize(path)} bytes, onnxruntime vs PyTorch max |err| {err:.2e}")
    path = os.path.join(folder, "tiny_v1.variant.onnx")
    variant(os.path.join(folder, "tiny_v1.dynamo.onnx"), path)
    model = G.make_model(G.TINY["tiny_v1"], seed=1)
    err = check(path, model, x)
    info["tiny_v1.variant.onnx"] = dict(exporter="dynamo+onnx edits", opset=18, folded=True,
                                        reference="tiny_v1.reference.npz", external_data=True,
                                        onnxruntime_max_abs_error=err)
    print(f"tiny_v1.variant.onnx: {os.path.getsize(path)} bytes, onnxruntime vs PyTorch max |err| {err:.2e}")
    with open(os.path.join(folder, "onnx.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
        f.write("\n")


def full(folder):
    """Full-size tresnet_m exported both ways into the git-ignored Fixtures/full/ (same model and input as
    generate.py's full(): seed 3, the first 1x3x224x224 draw of generator seed 11)."""
    import generate as G
    torch.set_num_threads(2)
    os.makedirs(folder, exist_ok=True)
    gen = torch.Generator().manual_seed(11)
    x = torch.rand(1, 3, 224, 224, generator=gen)
    cfg = G.FULL["tresnet_m"]
    # the very weights generate.py's full() saved (so the calibration policy lives in one place)
    model = G.TResNet(**cfg)
    model.load_state_dict(torch.load(os.path.join(folder, "tresnet_m.pth")))
    model.eval()
    ref = os.path.join(folder, "tresnet_m.reference.npz")
    if not os.path.exists(ref):
        G.write_reference(ref, model, x)
    assert np.array_equal(np.load(ref)["input"], x.numpy())
    with torch.no_grad():
        diff = np.abs(model(x).numpy() - np.load(ref)["head.fc"]).max()
        assert diff <= 1e-5, f"rebuilt tresnet_m differs from its reference by {diff}"
    for file, export in [("tresnet_m.ts.onnx", lambda p: export_ts(model, x, p, 17, True)),
                         ("tresnet_m.ts_bn.onnx", lambda p: export_ts(model, x, p, 13, False)),
                         ("tresnet_m.dynamo.onnx", lambda p: export_dynamo(model, x, p, 18, True))]:
        path = os.path.join(folder, file)
        export(path)
        err = check(path, model, x)
        print(f"{file}: {os.path.getsize(path)} bytes, onnxruntime vs PyTorch max |err| {err:.2e}")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    if "--full" in sys.argv:
        full(os.path.join(here, "full"))
    else:
        make(os.path.join(here, "tiny"))
