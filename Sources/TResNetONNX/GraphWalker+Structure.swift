import TResNetCore
import TResNetModel

extension GraphWalker {
    /// One residual block as found in the graph, with its tensors by role.
    struct FoundBlock {
        var kind: TResNetConfiguration.BlockKind
        var projection: FoundUnit?
        var pooled: Bool
        var blurred: Bool
        var conv1: FoundUnit
        var conv2: FoundUnit
        var conv3: FoundUnit?
        /// fc1 weight, fc1 bias, fc2 weight, fc2 bias.
        var se: [Tensor]?
        var firstNode: ProtoNode

        /// Whether the tree's block has this structure.
        func matches(_ b: ResidualBlock) -> Bool {
            kind == b.blockKind && (projection != nil) == (b.downsample != nil)
                && pooled == (b.downsample?.pooled ?? false)
                && blurred == (b.antiAliasedConv != nil) && (se != nil) == (b.se != nil)
        }

        /// Puts the tensors into the tree's block (which `matches` this one).
        func assign(to b: inout ResidualBlock) {
            if let projection, b.downsample != nil { projection.assign(to: &b.downsample!.conv) }
            conv1.assign(to: &b.conv1)
            conv2.assign(to: &b.conv2)
            if let conv3, b.conv3 != nil { conv3.assign(to: &b.conv3!) }
            if let se, b.se != nil {
                (b.se!.fc1.weight, b.se!.fc1.bias, b.se!.fc2.weight, b.se!.fc2.bias) = (se[0], se[1], se[2], se[3])
            }
        }
    }

    /// Walks the whole graph, then matches what it found against the blocks of the tree its configuration
    /// builds: the tree is bound with the graph's tensors (`tensors`, canonical names from the tree's walk).
    mutating func walk() throws -> TResNetConfiguration {
        guard index.graphInputs.count == 1, let input = index.graphInputs.first else {
            throw TResNetError(
                .unsupportedGraph, format: "onnx", at: .field("graph.input"),
                "expected one image input, found \(index.graphInputs.count)")
        }
        var v = try spaceToDepth(input)
        // Stem
        let stemCandidates = index.consumers(v)
        guard stemCandidates.count == 1 else {
            throw failValue(v, "space-to-depth output should feed exactly the stem conv")
        }
        let (stem, stemTensors) = try convUnit(stemCandidates[0], input: v)
        let s2d = SpaceToDepth.blockSize * SpaceToDepth.blockSize
        guard stem.kernel == 3, stem.weight.shape[1] % s2d == 0, stem.weight.shape[1] >= s2d else {
            throw fail(stem.node, "stem conv weight \(formatShape(stem.weight.shape)) is not [P, 16·C, 3, 3]")
        }
        v = try leaky(stem.output, TResNet.stemSlope)
        // Blocks until the head
        var blocks: [FoundBlock] = []
        while true {
            let cs = index.consumers(v)
            if cs.count == 1, ["GlobalAveragePool", "ReduceMean"].contains(index.nodes[cs[0]].opType) { break }
            guard blocks.count < 4096 else { throw failValue(v, "more than 4096 blocks") }
            let (block, out) = try block(v)
            blocks.append(block)
            v = out
        }
        // Stages: a new stage starts at every block with a projection shortcut (but the very first block).
        var stages: [[FoundBlock]] = []
        for (i, b) in blocks.enumerated() {
            if i == 0 || b.projection != nil { stages.append([b]) } else { stages[stages.count - 1].append(b) }
        }
        guard stages.count == 4 else {
            throw failValue(
                v, "the blocks form \(stages.count) stages (by their projection shortcuts); a TResNet has 4")
        }
        let layout: TResNetConfiguration.Layout = stages[0][0].kind == .basic ? .v1 : .v2
        let (fcWeight, fcBias) = try head(v)
        let planes = stem.weight.shape[0]
        let config = TResNetConfiguration(
            layout: layout, layers: stages.map(\.count), planes: planes,
            numClasses: fcWeight.shape[0], inChannels: stem.weight.shape[1] / s2d)
        try config.validate()
        var tree = TResNet(config)
        guard fcWeight.shape[1] == config.numFeatures else {
            throw TResNetError(
                .unsupportedGraph, format: "onnx", at: .tensor(tree.head.fc.path + ".weight"),
                "the head takes \(fcWeight.shape[1]) features; \(config) has \(config.numFeatures)")
        }
        stemTensors.assign(to: &tree.body.conv1)
        for (s, stage) in stages.enumerated() {
            for (b, block) in stage.enumerated() {
                guard block.matches(tree.body.stages[s][b]) else {
                    throw fail(
                        block.firstNode,
                        "block \(b) of stage \(s + 1) is a \(describe(block)); "
                            + "a \(layout.rawValue) TResNet has \(describe(tree.body.stages[s][b])) there")
                }
                block.assign(to: &tree.body.stages[s][b])
            }
        }
        (tree.head.fc.weight, tree.head.fc.bias) = (fcWeight, fcBias)
        var naming = ParameterWalker()
        try tree.walk(&naming)  // names the units whose normalisation the graph changed
        for (spec, t) in tree.boundTensors() { if let t { try tensors.insert(spec.path, t) } }
        return config
    }

    private func describe(_ b: FoundBlock) -> String {
        "\(b.kind.rawValue) block (projection: \(b.projection != nil ? (b.pooled ? "pooled" : "plain") : "none"), "
            + "blur: \(b.blurred), SE: \(b.se != nil))"
    }

    private func describe(_ b: ResidualBlock) -> String {
        let proj = b.downsample.map { $0.pooled ? "pooled" : "plain" } ?? "none"
        return
            "a \(b.blockKind.rawValue) block (projection: \(proj), blur: \(b.antiAliasedConv != nil), SE: \(b.se != nil))"
    }

    // MARK: Space-to-depth

    /// SpaceToDepth(blocksize 4), or timm's view → permute(0,3,5,1,2,4) → view as Reshape/Transpose/Reshape.
    mutating func spaceToDepth(_ input: String) throws -> String {
        let (_, first) = try soleBesideShapes(
            input, ["SpaceToDepth", "Reshape"], "SpaceToDepth or Reshape (space-to-depth)")
        if first.opType == "SpaceToDepth" {
            guard int(first, "blocksize", default: 0) == 4 else { throw fail(first, "blocksize is not 4") }
            return try output(first)
        }
        if first.inputs.count > 1, let shape = try index.integers(first.inputs[1]) {
            guard shape.count == 6, shape[3] == 4, shape[5] == 4 else {
                throw fail(first, "reshape to \(shape) is not [N, C, H/4, 4, W/4, 4]")
            }
        }
        let (_, transpose) = try sole(try output(first), ["Transpose"], "Transpose(perm 0,3,5,1,2,4)")
        guard ints(transpose, "perm") == [0, 3, 5, 1, 2, 4] else {
            throw fail(transpose, "permutation \(ints(transpose, "perm") ?? []) is not [0, 3, 5, 1, 2, 4]")
        }
        let (_, last) = try sole(try output(transpose), ["Reshape"], "Reshape to [N, 16·C, H/4, W/4]")
        if last.inputs.count > 1, let shape = try index.integers(last.inputs[1]) {
            guard shape.count == 4 else { throw fail(last, "reshape to \(shape) is not rank 4") }
        }
        try checkComputedSpaceToDepth(first: first, last: last)
        return try output(last)
    }

    // MARK: Blocks

    mutating func block(_ x: String) throws -> (FoundBlock, String) {
        let cs = index.consumers(x)
        var pool: Int?, add: Int?, convs: [Int] = []
        for i in cs {
            switch index.nodes[i].opType {
            case "AveragePool" where pool == nil: pool = i
            case "Add" where add == nil: add = i
            case "Conv" where convs.count < 2: convs.append(i)
            default: throw fail(index.nodes[i], "expected the start of a residual block (Conv, AveragePool or Add)")
            }
        }
        var shortcut = x, projection: FoundUnit?, pooled = false
        var main: ConvUnit?
        var mainTensors: FoundUnit?
        if let pool {
            let p = try visit(pool)
            guard ints(p, "kernel_shape") == [2, 2], ints(p, "strides") == [2, 2], int(p, "ceil_mode", default: 0) == 1,
                int(p, "count_include_pad", default: 0) == 0, (ints(p, "pads") ?? [0, 0, 0, 0]).allSatisfy({ $0 == 0 })
            else { throw fail(p, "not a 2×2, stride-2, ceil-mode average pool without padding") }
            let pcs = index.consumers(try output(p))
            guard pcs.count == 1 else { throw fail(p, "the pooled shortcut should feed one 1×1 conv") }
            let (unit, items) = try convUnit(pcs[0], input: try output(p))
            guard unit.kernel == 1 else { throw fail(unit.node, "shortcut conv is not 1×1") }
            shortcut = unit.output
            projection = items
            pooled = true
        }
        for c in convs {
            let (unit, items) = try convUnit(c, input: x)
            let next = index.consumers(unit.output)
            if next.count == 1, index.nodes[next[0]].opType == "LeakyRelu" {
                guard main == nil else { throw fail(unit.node, "two main-path convs on one block input") }
                main = unit
                mainTensors = items
            } else {
                guard projection == nil, unit.kernel == 1 else {
                    throw fail(unit.node, "unexpected second shortcut conv")
                }
                shortcut = unit.output
                projection = items
            }
        }
        guard let main, let conv1 = mainTensors else {
            throw failValue(x, "no main-path conv (Conv → LeakyRelu) starts a block on '\(displaySafe(x))'")
        }
        if let add, projection != nil {
            throw fail(index.nodes[add], "a block has both an identity and a projection shortcut")
        }
        if add == nil, projection == nil { throw failValue(x, "block without a shortcut into its residual Add") }
        let kind: TResNetConfiguration.BlockKind = main.kernel == 3 ? .basic : .bottleneck
        var y = try leaky(main.output, TResNet.blockSlope)
        var blurred = false, se: [Tensor]?
        let conv2: FoundUnit
        var conv3: FoundUnit?
        if kind == .basic {
            (y, blurred) = try blur(y)
            let (c2, items) = try singleConv(y, kernel: 3)
            conv2 = items
            y = c2.output
            (y, se) = try squeezeExcite(y)
        } else {
            let (c2, items2) = try singleConv(y, kernel: 3)
            conv2 = items2
            y = try leaky(c2.output, TResNet.blockSlope)
            (y, blurred) = try blur(y)
            (y, se) = try squeezeExcite(y)
            let (c3, items3) = try singleConv(y, kernel: 1)
            conv3 = items3
            y = c3.output
        }
        // Residual Add with the shortcut, then ReLU.
        let (addIndex, addNode) = try sole(y, ["Add"], "the residual Add")
        let others = addNode.inputs.map(index.source)
        guard addNode.inputs.count == 2, Set(others) == Set([index.source(y), index.source(shortcut)]) else {
            throw fail(addNode, "does not add the block's main path and its shortcut")
        }
        if let add, add != addIndex {
            throw fail(index.nodes[add], "the identity shortcut goes to a different Add than the main path")
        }
        let (_, relu) = try sole(try output(addNode), ["Relu"], "ReLU after the residual Add")
        return (
            FoundBlock(
                kind: kind, projection: projection, pooled: pooled, blurred: blurred, conv1: conv1, conv2: conv2,
                conv3: conv3, se: se, firstNode: main.node), try output(relu)
        )
    }

    mutating func singleConv(_ v: String, kernel: Int) throws -> (ConvUnit, FoundUnit) {
        let cs = index.consumers(v)
        guard cs.count == 1 else { throw failValue(v, "should feed exactly one \(kernel)×\(kernel) conv") }
        let (unit, items) = try convUnit(cs[0], input: v)
        guard unit.kernel == kernel else { throw fail(unit.node, "expected a \(kernel)×\(kernel) conv") }
        return (unit, items)
    }

    /// The anti-alias blur pool: Pad(reflect, 1 on each side) → depthwise 3×3 Conv, stride 2, with the fixed
    /// [1,2,1]⊗[1,2,1]/16 filter. Returns the input unchanged when `v` does not feed a Pad.
    mutating func blur(_ v: String) throws -> (String, Bool) {
        let cs = index.consumers(v)
        guard cs.count == 1, index.nodes[cs[0]].opType == "Pad" else { return (v, false) }
        let pad = try visit(cs[0])
        let mode = pad.attribute("mode")?.s.map { String(decoding: $0, as: UTF8.self) } ?? "constant"
        guard mode == "reflect" else { throw fail(pad, "pad mode '\(displaySafe(mode))' is not reflect") }
        if let pads = try pad.inputs.count > 1 ? index.integers(pad.inputs[1]) : ints(pad, "pads") {
            guard pads == [0, 0, 1, 1, 0, 0, 1, 1] else {
                throw fail(pad, "pads \(pads) are not 1 on each spatial side")
            }
        } else if let pads = try computedPads(pad), pads != [0, 0, 1, 1, 0, 0, 1, 1] {
            throw fail(pad, "pads \(pads) (computed) are not 1 on each spatial side")
        }
        let (_, conv) = try sole(try output(pad), ["Conv"], "the blur's depthwise Conv")
        let w = try weight(conv, slot: 1, "blur filter")
        let channels = w.shape.first ?? 0
        guard w.shape == [channels, 1, 3, 3], int(conv, "group", default: 1) == channels,
            ints(conv, "strides") == [2, 2], (ints(conv, "pads") ?? [0, 0, 0, 0]).allSatisfy({ $0 == 0 }),
            conv.inputs.count < 3 || conv.inputs[2].isEmpty
        else {
            throw fail(conv, "not a depthwise 3×3 stride-2 conv without bias")
        }
        let k: [Float] = [1, 2, 1, 2, 4, 2, 1, 2, 1].map { $0 / 16 }
        let values = try w.floats()
        for (i, value) in values.enumerated() where abs(value - k[i % 9]) > 1e-7 {
            throw fail(conv, "the blur filter is not [1,2,1]⊗[1,2,1]/16")
        }
        return (try output(conv), true)
    }

    /// SE: y → (GlobalAveragePool | ReduceMean keepdims) → Conv+bias → Relu → Conv+bias → Sigmoid → Mul(y, gate).
    /// Returns the input unchanged (and no tensors) when `y` has no SE.
    mutating func squeezeExcite(_ y: String) throws -> (String, [Tensor]?) {
        let cs = index.consumers(y)
        guard cs.count == 2 else { return (y, nil) }
        guard let poolIndex = cs.first(where: { ["GlobalAveragePool", "ReduceMean"].contains(index.nodes[$0].opType) }),
            let mulIndex = cs.first(where: { index.nodes[$0].opType == "Mul" })
        else {
            throw failValue(y, "a value used twice here should feed an SE module (mean and Mul)")
        }
        let pool = try visit(poolIndex)
        try checkSpatialMean(pool, keepdims: true)
        var s = try output(pool)
        var tensors: [Tensor] = []
        for (n, act) in [(1, "Relu"), (2, "Sigmoid")] {
            let fcs = index.consumers(s)
            guard fcs.count == 1 else { throw failValue(s, "SE squeeze should feed one conv") }
            let fc = try visit(fcs[0])
            guard fc.opType == "Conv", int(fc, "group", default: 1) == 1 else {
                throw fail(fc, "expected the SE fc\(n) conv")
            }
            let w = try weight(fc, slot: 1, "weight")
            guard w.rank == 4, w.shape[2] == 1, w.shape[3] == 1 else { throw fail(fc, "SE weight is not 1×1") }
            let b = try weight(fc, slot: 2, "bias")
            guard b.elementCount == w.shape[0] else { throw fail(fc, "SE bias size") }
            tensors.append(w)
            tensors.append(b.rank == 1 ? b : Tensor(dtype: b.dtype, shape: [w.shape[0]], data: b.data))
            let (_, a) = try sole(try output(fc), [act], act)
            s = try output(a)
        }
        let mul = try visit(mulIndex)
        guard Set(mul.inputs.map(index.source)) == Set([index.source(y), index.source(s)]), mul.inputs.count == 2 else {
            throw fail(mul, "does not multiply the SE input by its gate")
        }
        return (try output(mul), tensors)
    }

    /// GlobalAveragePool, or ReduceMean over axes (2, 3) (attribute before opset 18, input from 18).
    mutating func checkSpatialMean(_ node: ProtoNode, keepdims: Bool?) throws {
        guard node.opType == "ReduceMean" else { return }
        var axes = ints(node, "axes")
        if axes == nil, node.inputs.count > 1 { axes = try index.integers(node.inputs[1]) }
        guard let a = axes, Set(a.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3], a.count == 2 else {
            throw fail(node, "mean over axes \(axes ?? []) instead of the spatial axes (2, 3)")
        }
        if let keepdims, (int(node, "keepdims", default: 1) == 1) != keepdims {
            throw fail(node, keepdims ? "SE mean must keep dims" : "unexpected keepdims")
        }
    }

    // MARK: Head

    /// Global average pool (+ Flatten/Reshape/Squeeze) → Gemm, or MatMul + Add. Returns the weight [classes,
    /// features] and the bias [classes].
    mutating func head(_ v: String) throws -> (Tensor, Tensor) {
        let (_, pool) = try sole(v, ["GlobalAveragePool", "ReduceMean"], "the global average pool")
        try checkSpatialMean(pool, keepdims: nil)
        var x = try output(pool)
        let cs = index.consumers(x).filter { index.nodes[$0].opType != "Shape" }  // Shape: a computed flatten
        if cs.count == 1, ["Flatten", "Reshape", "Squeeze"].contains(index.nodes[cs[0]].opType) {
            let flatten = try visit(cs[0])
            try checkComputedFlatten(flatten, pooled: x, keepdims: int(pool, "keepdims", default: 1) == 1)
            x = try output(flatten)
        }
        let (_, fc) = try sole(x, ["Gemm", "MatMul"], "the linear head (Gemm or MatMul)")
        guard fc.inputs.first.map(index.source) == index.source(x) else {
            throw fail(fc, "pooled features are not input A")
        }
        let w = try weight(fc, slot: 1, "weight")
        guard w.rank == 2 else { throw fail(fc, "weight \(formatShape(w.shape)) is not 2-D") }
        var weightOI: Tensor
        var bias: Tensor
        var out: String
        if fc.opType == "Gemm" {
            guard int(fc, "transA", default: 0) == 0, close(fc.attribute("alpha")?.f ?? 1, 1),
                close(fc.attribute("beta")?.f ?? 1, 1)
            else { throw fail(fc, "transA, alpha or beta not the defaults") }
            weightOI = int(fc, "transB", default: 0) == 1 ? w : try transpose(w)
            let classes = weightOI.shape[0]
            guard fc.inputs.count > 2, !fc.inputs[2].isEmpty else { throw fail(fc, "no bias") }
            bias = try weight(fc, slot: 2, "bias")
            guard bias.elementCount == classes else {
                throw fail(fc, "bias \(formatShape(bias.shape)) for \(classes) classes")
            }
            out = try output(fc)
        } else {
            weightOI = try transpose(w)
            let product = index.source(try output(fc))
            let (_, add) = try sole(product, ["Add"], "the head's bias Add")
            guard let other = add.inputs.first(where: { index.source($0) != product }),
                add.inputs.count == 2
            else { throw fail(add, "not a bias add") }
            bias = try weight(add, slot: add.inputs.firstIndex(of: other) ?? 1, "bias")
            guard bias.elementCount == weightOI.shape[0] else { throw fail(add, "bias size") }
            out = try output(add)
        }
        guard index.graphOutputs.contains(out) || index.consumers(out).isEmpty else {
            throw failValue(out, "the logits are used further; a TResNet graph ends at the linear head")
        }
        let classes = weightOI.shape[0]
        return (weightOI, bias.rank == 1 ? bias : Tensor(dtype: bias.dtype, shape: [classes], data: bias.data))
    }

    func transpose(_ w: Tensor) throws -> Tensor {
        let (r, c) = (w.shape[0], w.shape[1])
        let v = try w.floats()
        var t = [Float](repeating: 0, count: v.count)
        for i in 0..<r { for j in 0..<c { t[j * r + i] = v[i * c + j] } }
        return Tensor(shape: [c, r], floats: t)
    }
}
