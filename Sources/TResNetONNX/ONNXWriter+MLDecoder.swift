import TResNetCore
import TResNetModel

/// The ML-Decoder head as ONNX nodes (opset 17): the last stage's map flattened to tokens, the token embedding,
/// each decoder layer with its attention spelled out (MatMul, Softmax, MatMul per head via Reshape/Transpose;
/// LayerNormalization), then the group FC as a batched MatMul, cut to the class count, plus the bias.
/// Linear weights are stored transposed ([in, out]) so every linear map is one MatMul + Add.
extension GraphBuilder {
    mutating func mlDecoder(_ head: MLDecoderHead, _ x: String, features: Int) throws -> String {
        let d = head.decoder, c = d.configuration
        let e = c.embedDim, hd = c.embedDim / c.heads
        let p = d.path
        initializer("mld.shape.tokens", int64: [0, Int64(features), -1])
        node("Reshape", [x, "mld.shape.tokens"], p + ".tokens_nct", name: p + ".tokens_nct")
        node("Transpose", [p + ".tokens_nct"], p + ".tokens", name: p + ".tokens", ints: [("perm", [0, 2, 1])])
        var tokens = try linear(d.embedStandart, p + ".tokens")
        tokens = act(.relu, tokens, p + ".embed_relu")
        // the queries: a constant [1, G, E] (batch 1, broadcast against the images)
        let queries = d.queryEmbed.path + ".weight"
        initializer(queries, try d.queryEmbed.weight.required(queries).floats(), [1, c.groups, e])
        initializer("mld.shape.heads", int64: [0, 0, Int64(c.heads), Int64(hd)])
        initializer("mld.shape.merge", int64: [0, 0, Int64(e)])
        var q = queries
        for layer in d.layers {
            let l = layer.path
            node("Add", [q, q], l + ".residual1", name: l + ".residual1")
            q = try layerNorm(layer.norm1, l + ".residual1")
            let a = layer.multiheadAttn
            let parts = try a.projections().map { (weight: try $0.weight.floats(), bias: try $0.bias.floats()) }
            func projection(_ i: Int, _ input: String, _ name: String) -> String {
                addLinear(
                    name, weight: parts[i].weight, bias: parts[i].bias, inFeatures: e, outFeatures: e, input: input)
                node("Reshape", [name, "mld.shape.heads"], name + ".heads", name: name + ".heads")
                return name + ".heads"  // [n, L, heads, hd]
            }
            let qh = projection(0, q, a.path + ".q"), kh = projection(1, tokens, a.path + ".k"),
                vh = projection(2, tokens, a.path + ".v")
            node("Transpose", [qh], qh + ".t", name: qh + ".t", ints: [("perm", [0, 2, 1, 3])])  // [n, h, G, hd]
            node("Transpose", [kh], kh + ".t", name: kh + ".t", ints: [("perm", [0, 2, 3, 1])])  // [N, h, hd, T]
            node("Transpose", [vh], vh + ".t", name: vh + ".t", ints: [("perm", [0, 2, 1, 3])])  // [N, h, T, hd]
            initializer(a.path + ".scale", [Float(1 / Double(hd).squareRoot())], [])
            node("MatMul", [qh + ".t", kh + ".t"], a.path + ".scores_raw", name: a.path + ".scores_raw")
            node("Mul", [a.path + ".scores_raw", a.path + ".scale"], a.path + ".scores", name: a.path + ".scores")
            node("Softmax", [a.path + ".scores"], a.path + ".weights", name: a.path + ".softmax", int: [("axis", -1)])
            node("MatMul", [a.path + ".weights", vh + ".t"], a.path + ".heads_out", name: a.path + ".heads_out")
            node(
                "Transpose", [a.path + ".heads_out"], a.path + ".heads_t", name: a.path + ".heads_t",
                ints: [("perm", [0, 2, 1, 3])])
            node("Reshape", [a.path + ".heads_t", "mld.shape.merge"], a.path + ".merged", name: a.path + ".merged")
            let attended = try linear(a.outProj, a.path + ".merged")
            node("Add", [q, attended], l + ".residual2", name: l + ".residual2")
            q = try layerNorm(layer.norm2, l + ".residual2")
            var f = try linear(layer.linear1, q)
            f = act(.relu, f, layer.linear1.path + ".relu")
            f = try linear(layer.linear2, f)
            node("Add", [q, f], l + ".residual3", name: l + ".residual3")
            q = try layerNorm(layer.norm3, l + ".residual3")
        }
        // group FC: [N, G, E] → [G, N, E] · [G, E, D] → [G, N, D] → [N, G·D], cut to the classes, + bias
        let pooling = p + ".duplicate_pooling", bias = p + ".duplicate_pooling_bias"
        initializer(pooling, try d.duplicatePooling.required(pooling).floats(), [c.groups, e, c.duplicateFactor])
        initializer(bias, try d.duplicatePoolingBias.required(bias).floats(), [d.classes])
        node("Transpose", [q], p + ".group_major", name: p + ".group_major", ints: [("perm", [1, 0, 2])])
        node("MatMul", [p + ".group_major", pooling], p + ".group_fc", name: p + ".group_fc")
        node("Transpose", [p + ".group_fc"], p + ".group_fc_t", name: p + ".group_fc_t", ints: [("perm", [1, 0, 2])])
        initializer("mld.shape.flat", int64: [0, -1])
        node("Reshape", [p + ".group_fc_t", "mld.shape.flat"], p + ".flat", name: p + ".flat")
        initializer("mld.slice.starts", int64: [0])
        initializer("mld.slice.ends", int64: [Int64(d.classes)])
        initializer("mld.slice.axes", int64: [1])
        node(
            "Slice", [p + ".flat", "mld.slice.starts", "mld.slice.ends", "mld.slice.axes"], p + ".cut", name: p + ".cut"
        )
        node("Add", [p + ".cut", bias], "logits", name: head.path)
        return "logits"
    }

    /// `y = x · Wᵀ + b` as MatMul with the transposed weight ([in, out]) and Add; returns y's name (the path).
    mutating func linear(_ l: Linear, _ input: String) throws -> String {
        addLinear(
            l.path, weight: try l.weight.required(l.path + ".weight").floats(),
            bias: try l.bias.required(l.path + ".bias").floats(), inFeatures: l.inFeatures,
            outFeatures: l.outFeatures, input: input)
        return l.path
    }

    mutating func addLinear(
        _ name: String, weight: [Float], bias: [Float], inFeatures: Int, outFeatures: Int, input: String
    ) {
        var t = [Float](repeating: 0, count: weight.count)
        for o in 0..<outFeatures { for i in 0..<inFeatures { t[i * outFeatures + o] = weight[o * inFeatures + i] } }
        initializer(name + ".weight_t", t, [inFeatures, outFeatures])
        initializer(name + ".bias", bias, [outFeatures])
        node("MatMul", [input, name + ".weight_t"], name + ".matmul", name: name + ".matmul")
        node("Add", [name + ".matmul", name + ".bias"], name, name: name)
    }

    mutating func layerNorm(_ n: LayerNorm, _ input: String) throws -> String {
        initializer(n.path + ".weight", try n.weight.required(n.path + ".weight").floats(), [n.features])
        initializer(n.path + ".bias", try n.bias.required(n.path + ".bias").floats(), [n.features])
        node(
            "LayerNormalization", [input, n.path + ".weight", n.path + ".bias"], n.path, name: n.path,
            int: [("axis", -1)], floats: [("epsilon", Float(LayerNorm.epsilon))])
        return n.path
    }
}
