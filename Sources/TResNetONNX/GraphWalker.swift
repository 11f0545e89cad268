import TResNetCore
import TResNetModel

/// Maps an exported TResNet graph onto the canonical (timm) tensor names by its structure, never by names:
/// from the graph input through space-to-depth, the stem, every block in forward order and the head, binding
/// each weight by the op that consumes it and its input slot (docs/ONNX.md).
///
/// BatchNormalization nodes that follow a bias-free conv with ε = 1e-5 map to `<prefix>.bn.*`; every other
/// conv (a folded export, or a conv with its own bias, or another ε) is given as `<prefix>.conv.weight` +
/// `.conv.bias` with any BatchNormalization folded in here.
struct GraphWalker {
    var index: GraphIndex
    /// The canonical tensors, from the bound tree (set by `walk`).
    var tensors = StateDict()
    private(set) var folded = false
    private(set) var unfoldedConvs = 0
    private var visited: Set<Int> = []

    init(index: GraphIndex) { self.index = index }

    // MARK: Errors and small helpers

    func fail(_ node: ProtoNode, _ message: String) -> TResNetError {
        TResNetError(
            .unsupportedGraph, format: "onnx", at: .node(node.displayName),
            "\(displaySafe(node.opType, limit: 60)) does not fit a TResNet here: \(message)")
    }

    func failValue(_ value: String, _ message: String) -> TResNetError {
        if let p = index.producerNode(value) { return fail(p, message) }
        return TResNetError(.unsupportedGraph, format: "onnx", at: .field(value), message)
    }

    mutating func visit(_ i: Int) throws -> ProtoNode {
        let node = index.nodes[i]
        guard visited.insert(i).inserted else { throw fail(node, "reached twice (the graph has a cycle)") }
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw fail(node, "custom domain '\(displaySafe(node.domain, limit: 60))'")
        }
        return node
    }

    /// The only consumer of `value`, which must be one of `ops`.
    mutating func sole(_ value: String, _ ops: Set<String>, _ what: String) throws -> (Int, ProtoNode) {
        let cs = index.consumers(value)
        guard let first = cs.first else {
            throw failValue(value, "its output '\(displaySafe(value))' is not used; expected \(what)")
        }
        guard cs.count == 1 else {
            let extra = cs.first { !ops.contains(index.nodes[$0].opType) } ?? cs[1]
            throw fail(index.nodes[extra], "unexpected extra consumer of '\(displaySafe(value))' (expected \(what))")
        }
        let node = index.nodes[first]
        guard ops.contains(node.opType) else { throw fail(node, "expected \(what)") }
        return (first, try visit(first))
    }

    func ints(_ node: ProtoNode, _ name: String) -> [Int]? {
        node.attribute(name).map { $0.ints.compactMap { Int(exactly: $0) } }
    }

    func int(_ node: ProtoNode, _ name: String, default value: Int) -> Int {
        node.attribute(name)?.i.flatMap { Int(exactly: $0) } ?? value
    }

    func close(_ a: Float?, _ b: Float) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= 1e-6 * max(1, abs(b))
    }

    mutating func weight(_ node: ProtoNode, slot: Int, _ what: String) throws -> Tensor {
        guard slot < node.inputs.count, !node.inputs[slot].isEmpty else { throw fail(node, "missing \(what) input") }
        guard let t = try index.constant(node.inputs[slot]) else {
            throw fail(node, "\(what) '\(displaySafe(node.inputs[slot]))' is computed, not a stored tensor")
        }
        guard t.dtype.isFloatingPoint else { throw fail(node, "\(what) has type \(t.dtype.rawValue)") }
        return t
    }

    // MARK: Conv units

    struct ConvUnit {
        var output: String
        var kernel: Int
        var weight: Tensor
        var node: ProtoNode
    }

    /// The tensors of one conv unit as found: the conv weight, and either its BatchNorm (γ, β, μ, σ² with
    /// ε = 1e-5, no conv bias) or a bias with any BatchNorm folded in. `assign` puts them into a tree's unit.
    struct FoundUnit {
        var weight: Tensor
        var bias: Tensor?
        var bn: (gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor)?

        func assign(to unit: inout ConvNormAct) {
            unit.store(bn == nil ? .folded : .batchNorm)
            unit.conv.weight = weight
            unit.conv.bias = bias
            if let bn {
                unit.bn?.weight = bn.gamma
                unit.bn?.bias = bn.beta
                unit.bn?.runningMean = bn.mean
                unit.bn?.runningVar = bn.variance
            }
        }
    }

    /// A Conv (group 1, stride 1, "same" padding) on `input`, with the BatchNormalization that may follow it.
    /// Its tensors are put into the tree's unit once the caller knows which unit it is.
    mutating func convUnit(_ i: Int, input: String) throws -> (ConvUnit, FoundUnit) {
        let node = try visit(i)
        guard node.opType == "Conv" else { throw fail(node, "expected a Conv") }
        guard node.inputs.first.map(index.source) == index.source(input) else {
            throw fail(node, "the data input is not the previous layer's output")
        }
        let w = try weight(node, slot: 1, "weight")
        guard w.rank == 4, w.shape[2] == w.shape[3], w.shape[2] == 1 || w.shape[2] == 3 else {
            throw fail(node, "weight \(formatShape(w.shape)) is not a 1×1 or 3×3 conv weight")
        }
        let k = w.shape[2]
        guard int(node, "group", default: 1) == 1 else { throw fail(node, "grouped conv where a dense one belongs") }
        guard (ints(node, "strides") ?? [1, 1]) == [1, 1], (ints(node, "dilations") ?? [1, 1]) == [1, 1] else {
            throw fail(node, "stride or dilation other than 1")
        }
        let autoPad = node.attribute("auto_pad")?.s.map { String(decoding: $0, as: UTF8.self) } ?? "NOTSET"
        let pads = ints(node, "pads") ?? [0, 0, 0, 0]
        guard
            (autoPad == "NOTSET" && pads == [Int](repeating: k / 2, count: 4))
                || (k == 1 && autoPad == "VALID") || (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")
        else {
            throw fail(node, "padding \(pads) (\(autoPad)) is not 'same' padding for a \(k)×\(k) conv")
        }
        let cout = w.shape[0]
        var bias: Tensor?
        if node.inputs.count > 2, !node.inputs[2].isEmpty {
            let b = try weight(node, slot: 2, "bias")
            guard b.elementCount == cout else { throw fail(node, "bias \(formatShape(b.shape)) for \(cout) channels") }
            bias = b
        }
        guard let out = node.outputs.first, !out.isEmpty else { throw fail(node, "no output") }
        var unit = ConvUnit(output: out, kernel: k, weight: w, node: node)
        let cs = index.consumers(out)
        if cs.count == 1, index.nodes[cs[0]].opType == "BatchNormalization" {
            let bn = try visit(cs[0])
            guard bn.inputs.first.map(index.source) == index.source(out) else {
                throw fail(bn, "not on the conv's output")
            }
            guard bn.outputs.dropFirst().allSatisfy(\.isEmpty), let bnOut = bn.outputs.first else {
                throw fail(bn, "training-mode BatchNormalization (extra outputs)")
            }
            var p: [Tensor] = []
            for (slot, what) in [(1, "scale"), (2, "B"), (3, "mean"), (4, "var")] {
                let t = try weight(bn, slot: slot, what)
                guard t.elementCount == cout else {
                    throw fail(bn, "\(what) \(formatShape(t.shape)) for \(cout) channels")
                }
                p.append(t.rank == 1 ? t : Tensor(dtype: t.dtype, shape: [cout], data: t.data))
            }
            let eps = bn.attribute("epsilon")?.f ?? 1e-5
            unit.output = bnOut
            unfoldedConvs += 1
            if bias == nil, Float(eps) == Float(1e-5) {
                return (unit, FoundUnit(weight: w, bn: (p[0], p[1], p[2], p[3])))
            }
            // Another ε, or a conv with its own bias: fold here (the tree's BatchNorm has ε = 1e-5 and no conv bias).
            let (fw, fb) = BatchNormFolding.fold(
                weight: try w.floats(), outChannels: cout, convBias: try bias?.floats(),
                bn: (try p[0].floats(), try p[1].floats(), try p[2].floats(), try p[3].floats()), epsilon: Double(eps))
            unit.weight = Tensor(shape: w.shape, floats: fw)
            folded = true
            return (unit, FoundUnit(weight: unit.weight, bias: Tensor(shape: [cout], floats: fb)))
        }
        folded = true
        let b = bias ?? Tensor(shape: [cout], floats: [Float](repeating: 0, count: cout))
        return (unit, FoundUnit(weight: w, bias: b.rank == 1 ? b : Tensor(dtype: b.dtype, shape: [cout], data: b.data)))
    }

    /// Expects the sole consumer of `value` to be LeakyRelu with `alpha`; returns its output.
    mutating func leaky(_ value: String, _ alpha: Float) throws -> String {
        let (_, node) = try sole(value, ["LeakyRelu"], "LeakyRelu(\(alpha))")
        let given = node.attribute("alpha")?.f ?? 0.01  // ONNX's default alpha for LeakyRelu
        guard close(given, alpha) else {
            throw fail(node, "negative slope \(given), expected \(alpha)")
        }
        return try output(node)
    }

    func output(_ node: ProtoNode) throws -> String {
        guard let o = node.outputs.first, !o.isEmpty else { throw fail(node, "no output") }
        return o
    }
}
