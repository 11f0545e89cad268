import TResNetCore

/// Where a dynamic-shape export computes a Reshape's target or a Pad's pads from the input's size (the
/// TorchScript exporter with `dynamic_axes`, the dynamo exporter with `dynamic_shapes`), the computation is
/// evaluated symbolically (`ShapeEvaluator`, batch N, channels C, height H, width W) and must give what the
/// layer tree needs for every input size; otherwise the Reshape or Pad is refused, naming it.
extension GraphWalker {
    /// A fresh evaluator that knows the image input's shape as `[N, C, H, W]`.
    func shapeEvaluator() -> ShapeEvaluator {
        var e = ShapeEvaluator()
        if let input = index.graphInputs.first { e.knownShapes[index.source(input)] = ShapeEvaluator.inputShape() }
        return e
    }

    /// Like `sole`, but `Shape` nodes reading `value` (the start of a shape computation) are not counted.
    mutating func soleBesideShapes(_ value: String, _ ops: Set<String>, _ what: String) throws -> (Int, ProtoNode) {
        let all = index.consumers(value)
        let data = all.filter { index.nodes[$0].opType != "Shape" }
        guard data.count == 1, data.count < all.count else { return try sole(value, ops, what) }
        let node = index.nodes[data[0]]
        guard ops.contains(node.opType) else { throw fail(node, "expected \(what)") }
        return (data[0], try visit(data[0]))
    }

    /// The computed target of a Reshape (input 1) as sizes, with `0` (copy, unless allowzero) resolved against
    /// `dataShape` and `-1` left as nil. Nil when the target is a stored constant (checked by the caller).
    mutating func computedTarget(_ node: ProtoNode, dataShape: [SymExpr]) throws -> [SymExpr?]? {
        guard node.inputs.count > 1, !node.inputs[1].isEmpty, !index.isConstant(node.inputs[1]) else { return nil }
        var evaluator = shapeEvaluator()
        let t = try evaluator.evaluate(node.inputs[1], &index)
        guard t.shape.count == 1, !t.floating else {
            throw fail(node, "its shape input is a \(t.floating ? "floating-point " : "")tensor of shape \(t.shape)")
        }
        let allowZero = int(node, "allowzero", default: 0) == 1
        var out: [SymExpr?] = []
        for (i, v) in t.values.enumerated() {
            if v.constant == -1 { out.append(nil); continue }
            if v.constant == 0, !allowZero, i < dataShape.count { out.append(dataShape[i]); continue }
            out.append(v)
        }
        guard out.filter({ $0 == nil }).count <= 1 else {
            throw fail(node, "its shape \(render(out)) has two -1 entries")
        }
        return out
    }

    func render(_ dims: [SymExpr?]) -> String {
        "[" + dims.map { $0?.description ?? "-1" }.joined(separator: ", ") + "]"
    }

    /// Entries equal, a single -1 standing for the one entry it must be.
    func matches(_ got: [SymExpr?], _ want: [SymExpr]) -> Bool {
        got.count == want.count && zip(got, want).allSatisfy { $0 == nil || $0 == $1 }
    }

    /// timm's space-to-depth: `view(N, C, H/4, 4, W/4, 4)`, permute, `view(N, 16·C, H/4, W/4)`.
    mutating func checkComputedSpaceToDepth(first: ProtoNode, last: ProtoNode) throws {
        let (n, cSym, h, w) = (SymExpr(symbol: "N"), SymExpr(symbol: "C"), SymExpr(symbol: "H"), SymExpr(symbol: "W"))
        let (h4, w4) = (try h.dividedDown(by: 4), try w.dividedDown(by: 4))
        var c = cSym
        if let got = try computedTarget(first, dataShape: [n, cSym, h, w]), !isStatic(got) {
            // The channel count: the input's (C) or the number the exporter specialised it to.
            if got.count == 6, let given = got[1], given == cSym || (given.constant ?? 0) > 0 { c = given }
            let want = [n, c, h4, SymExpr(4), w4, SymExpr(4)]
            guard matches(got, want) else {
                throw fail(first, "its shape input computes \(render(got)), not \(render(want)) (space-to-depth)")
            }
        } else if let got = try staticTarget(first) {
            guard got.count == 6, got[3] == 4, got[5] == 4 else {
                throw fail(first, "reshape to \(got) is not [N, C, H/4, 4, W/4, 4]")
            }
            if got[1] > 0 { c = SymExpr(got[1]) }
        }
        let c16 = try c.scaled(16)
        if let got = try computedTarget(last, dataShape: [n, SymExpr(4), SymExpr(4), c, h4, w4]), !isStatic(got) {
            let want = [n, c16, h4, w4]
            guard matches(got, want) else {
                throw fail(last, "its shape input computes \(render(got)), not \(render(want)) (space-to-depth)")
            }
        } else if let got = try staticTarget(last), got.count != 4 {
            throw fail(last, "reshape to \(got) is not rank 4")
        }
    }

    /// A target without symbols: a static export (computed from sizes the exporter fixed, or stored).
    func isStatic(_ dims: [SymExpr?]) -> Bool { dims.allSatisfy { $0 == nil || $0?.constant != nil } }

    /// The Reshape's target as numbers when it involves no symbol (stored, or computed from fixed sizes).
    mutating func staticTarget(_ node: ProtoNode) throws -> [Int]? {
        guard node.inputs.count > 1, !node.inputs[1].isEmpty else { return nil }
        if let stored = try index.integers(node.inputs[1]) { return stored }
        var evaluator = shapeEvaluator()
        let t = try evaluator.evaluate(node.inputs[1], &index)
        let values = t.values.compactMap(\.constant)
        return values.count == t.count ? values : nil
    }

    /// The blur pool's pads when the exporter computes them (TorchScript, opset ≥ 11): nil when they are stored.
    mutating func computedPads(_ pad: ProtoNode) throws -> [Int]? {
        guard pad.inputs.count > 1, !pad.inputs[1].isEmpty, !index.isConstant(pad.inputs[1]) else { return nil }
        var evaluator = shapeEvaluator()
        let t = try evaluator.evaluate(pad.inputs[1], &index)
        let values = t.values.compactMap(\.constant)
        guard t.shape.count == 1, values.count == t.count else {
            throw fail(pad, "its pads compute \(t.values), which depend on the input size")
        }
        return values
    }

    /// A flatten Reshape after the global pool whose target is computed: `[N, F]` (`-1` allowed for one entry).
    mutating func checkComputedFlatten(_ node: ProtoNode, pooled: String, keepdims: Bool) throws {
        let (n, f) = (SymExpr(symbol: "N"), SymExpr(symbol: "F"))
        let pooledShape = keepdims ? [n, f, SymExpr(1), SymExpr(1)] : [n, f]
        guard node.opType == "Reshape", node.inputs.count > 1, !index.isConstant(node.inputs[1]) else { return }
        var evaluator = shapeEvaluator()
        evaluator.knownShapes[index.source(pooled)] = pooledShape
        let t = try evaluator.evaluate(node.inputs[1], &index)
        var got: [SymExpr?] = t.values.enumerated().map { i, v in
            v.constant == -1
                ? nil
                : (v.constant == 0 && int(node, "allowzero", default: 0) == 0 && i < pooledShape.count
                    ? pooledShape[i] : v)
        }
        if isStatic(got) { return }  // sizes the exporter fixed (a static export)
        if got.count == 2, let second = got[1], (second.constant ?? 0) > 0 { got[1] = f }  // a stored feature count
        guard t.shape.count == 1, got.filter({ $0 == nil }).count <= 1, matches(got, [n, f]) else {
            throw fail(node, "its shape input computes \(render(got)), not [N, F] (flattening the pooled features)")
        }
    }
}
