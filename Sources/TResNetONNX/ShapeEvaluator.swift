import TResNetCore

/// A small tensor of sizes as a shape subgraph computes them: rank 0–8, at most `maxElements` elements, each a
/// `SymExpr`. `floating` records a Cast to a floating type (values must stay integral there).
struct SymTensor: Sendable {
    var shape: [Int]
    var values: [SymExpr]
    var floating = false

    static let maxElements = 4096

    var count: Int { values.count }
}

/// Evaluates the shape subgraphs exporters write beside the data path (`Shape → Gather → Unsqueeze → Concat →
/// Reshape`, `Slice`, `Div`, `Cast`, `ConstantOfShape`…) symbolically: the graph input's shape is
/// `[N, C, H, W]` (symbols), constants are constants, and every other value is computed from its producer.
/// Any op outside the list below, or a `Shape` of a value whose shape is not known symbolically, is refused
/// with the node that computes it. Work is bounded (`maxNodes` evaluated nodes, `maxDepth` recursion).
struct ShapeEvaluator {
    /// Symbolic shapes of data values (the graph input, …), by value name.
    var knownShapes: [String: [SymExpr]] = [:]
    private var cache: [String: SymTensor] = [:]
    private var inProgress: Set<String> = []
    private var evaluated = 0

    static let maxNodes = 4096
    static let maxDepth = 256
    static let ops: Set<String> = [
        "Constant", "Identity", "Shape", "Gather", "Slice", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Transpose",
        "Div", "Mul", "Add", "Sub", "Cast", "ConstantOfShape", "Floor"
    ]

    static func inputShape() -> [SymExpr] { ["N", "C", "H", "W"].map { SymExpr(symbol: $0) } }

    func fail(_ node: ProtoNode, _ message: String) -> TResNetError {
        TResNetError(
            .unsupportedGraph, format: "onnx", at: .node(node.displayName),
            "\(node.opType) does not fit a TResNet here: \(message)")
    }

    /// The value `name` as computed by the graph.
    mutating func evaluate(_ name: String, _ index: inout GraphIndex, depth: Int = 0) throws -> SymTensor {
        let v = index.source(name)
        if let t = cache[v] { return t }
        if let t = try constant(v, &index) { cache[v] = t; return t }
        guard let node = index.producerNode(v) else {
            throw TResNetError(
                .unsupportedGraph, format: "onnx", at: .field(v),
                "a shape is computed from '\(displaySafe(v))', which no node produces")
        }
        guard depth < Self.maxDepth, evaluated < Self.maxNodes else {
            throw fail(node, "the shape computation is deeper or larger than a TResNet's")
        }
        guard inProgress.insert(v).inserted else { throw fail(node, "the shape computation has a cycle") }
        defer { inProgress.remove(v) }
        evaluated += 1
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw fail(node, "custom domain in a shape computation")
        }
        let t: SymTensor
        do {
            t = try apply(node, v, &index, depth)
        } catch let e as SymExprError {
            throw fail(node, e.description)
        }
        guard t.count <= SymTensor.maxElements, t.shape.count <= 8, Checked.product(t.shape) == t.count else {
            throw fail(node, "the shape computation produces a tensor larger than a shape")
        }
        cache[v] = t
        return t
    }

    /// The value as constant integers (nil when it depends on a symbol).
    mutating func integers(_ name: String, _ index: inout GraphIndex, depth: Int) throws -> [Int]? {
        let t = try evaluate(name, &index, depth: depth)
        let c = t.values.compactMap(\.constant)
        return c.count == t.count ? c : nil
    }

    private mutating func constant(_ v: String, _ index: inout GraphIndex) throws -> SymTensor? {
        if let node = index.producerNode(v), node.opType == "Constant", node.attribute("value") == nil,
            node.attribute("value_ints") == nil
        {
            if let i = node.attribute("value_int")?.i { return SymTensor(shape: [], values: [SymExpr(Int(i))]) }
            return nil
        }
        guard let t = try index.constant(v) else { return nil }
        guard t.elementCount <= SymTensor.maxElements, t.rank <= 8 else {
            throw TResNetError(
                .unsupportedGraph, format: "onnx", at: .tensor(v),
                "a shape computation reads a constant of \(t.elementCount) elements")
        }
        var values: [SymExpr] = []
        values.reserveCapacity(t.elementCount)
        let b = t.data.bytes
        for i in 0..<t.elementCount {
            switch t.dtype {
            case .int64:
                values.append(SymExpr(Int(Int64(littleEndian: b.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))))
            case .int32, .int16, .int8, .uint8, .uint16, .uint32, .bool:
                guard let d = t.scalar(at: i), let n = Int(exactly: d) else { return nil }
                values.append(SymExpr(n))
            case .float32, .float64, .float16, .bfloat16:
                guard let d = t.scalar(at: i), d.rounded() == d, let n = Int(exactly: d) else {
                    throw TResNetError(
                        .unsupportedGraph, format: "onnx", at: .tensor(v),
                        "a shape computation reads the non-integral constant \(t.scalar(at: i) ?? .nan)")
                }
                values.append(SymExpr(n))
            default:
                throw TResNetError(
                    .unsupportedGraph, format: "onnx", at: .tensor(v),
                    "a shape computation reads a \(t.dtype.rawValue) constant")
            }
        }
        return SymTensor(shape: t.shape, values: values, floating: t.dtype.isFloatingPoint)
    }

    // MARK: Ops

    private mutating func input(_ node: ProtoNode, _ slot: Int, _ index: inout GraphIndex, _ depth: Int) throws
        -> SymTensor
    {
        guard slot < node.inputs.count, !node.inputs[slot].isEmpty else { throw fail(node, "missing input \(slot)") }
        return try evaluate(node.inputs[slot], &index, depth: depth + 1)
    }

    private mutating func constInts(
        _ node: ProtoNode, _ slot: Int, _ what: String, _ index: inout GraphIndex,
        _ depth: Int
    ) throws -> [Int]? {
        guard slot < node.inputs.count, !node.inputs[slot].isEmpty else { return nil }
        guard let c = try integers(node.inputs[slot], &index, depth: depth + 1) else {
            throw fail(node, "its \(what) depend on the input size")
        }
        return c
    }

    private func attrInts(_ node: ProtoNode, _ name: String) -> [Int]? {
        node.attribute(name).map { $0.ints.map { Int(clamping: $0) } }
    }

    private func attrInt(_ node: ProtoNode, _ name: String) -> Int? {
        node.attribute(name)?.i.map { Int(clamping: $0) }
    }

    private func axis(_ a: Int, rank: Int, _ node: ProtoNode) throws -> Int {
        let r = a < 0 ? a + rank : a
        guard r >= 0, r < max(rank, 1) else { throw fail(node, "axis \(a) for rank \(rank)") }
        return r
    }

    private func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    private mutating func apply(_ node: ProtoNode, _ v: String, _ index: inout GraphIndex, _ depth: Int) throws
        -> SymTensor
    {
        switch node.opType {
        case "Identity":
            return try input(node, 0, &index, depth)
        case "Shape":
            guard let data = node.inputs.first, !data.isEmpty else { throw fail(node, "no input") }
            let source = index.source(data)
            var dims: [SymExpr]
            if let known = knownShapes[source] {
                dims = known
            } else if let t = try index.constant(source) {
                dims = t.shape.map { SymExpr($0) }
            } else {
                throw fail(
                    node,
                    "the shape of '\(displaySafe(data))' is not known here (only the image input's and "
                        + "constants' shapes are)")
            }
            let r = dims.count
            func clamp(_ x: Int) -> Int { min(max(x < 0 ? x + r : x, 0), r) }
            let start = clamp(attrInt(node, "start") ?? 0), end = clamp(attrInt(node, "end") ?? r)
            dims = start < end ? Array(dims[start..<end]) : []
            return SymTensor(shape: [dims.count], values: dims)
        case "Gather":
            let data = try input(node, 0, &index, depth)
            guard let idx = try constInts(node, 1, "indices", &index, depth) else { throw fail(node, "no indices") }
            let idxShape = try input(node, 1, &index, depth).shape
            guard data.shape.count == 1, try axis(attrInt(node, "axis") ?? 0, rank: 1, node) == 0 else {
                throw fail(node, "gathers from a rank-\(data.shape.count) tensor (a shape is rank 1)")
            }
            let n = data.count
            let values = try idx.map { i -> SymExpr in
                let j = i < 0 ? i + n : i
                guard j >= 0, j < n else { throw fail(node, "index \(i) outside a shape of \(n) sizes") }
                return data.values[j]
            }
            return SymTensor(shape: idxShape, values: values, floating: data.floating)
        case "Unsqueeze", "Squeeze":
            let data = try input(node, 0, &index, depth)
            let axes = try attrInts(node, "axes") ?? constInts(node, 1, "axes", &index, depth)
            var shape = data.shape
            if node.opType == "Unsqueeze" {
                guard let axes, !axes.isEmpty, axes.count <= 8 else { throw fail(node, "no axes, or too many") }
                let outRank = shape.count + axes.count
                for a in try axes.map({ try axis($0, rank: outRank, node) }).sorted() {
                    guard a <= shape.count else { throw fail(node, "axis \(a) for rank \(outRank)") }
                    shape.insert(1, at: a)
                }
            } else if let axes, !axes.isEmpty {
                for a in try Set(axes.map { try axis($0, rank: shape.count, node) }).sorted(by: >) {
                    guard shape[a] == 1 else { throw fail(node, "squeezes axis \(a) of size \(shape[a])") }
                    shape.remove(at: a)
                }
            } else {
                shape.removeAll { $0 == 1 }
            }
            return SymTensor(shape: shape, values: data.values, floating: data.floating)
        case "Concat":
            var parts: [SymTensor] = []
            var total = 0
            for i in node.inputs.indices {
                parts.append(try input(node, i, &index, depth))
                total += parts[parts.count - 1].count
                guard total <= SymTensor.maxElements else { throw fail(node, "concatenates too many values") }
            }
            guard let first = parts.first, parts.allSatisfy({ $0.shape.count == 1 }) else {
                throw fail(node, "concatenates tensors that are not rank 1")
            }
            _ = try axis(attrInt(node, "axis") ?? 0, rank: 1, node)
            let values = parts.flatMap(\.values)
            guard values.count <= SymTensor.maxElements else { throw fail(node, "too many values") }
            return SymTensor(shape: [values.count], values: values, floating: first.floating)
        case "Reshape":
            let data = try input(node, 0, &index, depth)
            guard var target = try constInts(node, 1, "target shape", &index, depth) else {
                throw fail(node, "no shape")
            }
            let allowZero = attrInt(node, "allowzero") ?? 0
            for (i, t) in target.enumerated() where t == 0 && allowZero == 0 {
                guard i < data.shape.count else {
                    throw fail(node, "0 at axis \(i) of a rank-\(data.shape.count) tensor")
                }
                target[i] = data.shape[i]
            }
            let known = target.filter { $0 != -1 }
            guard known.allSatisfy({ $0 >= 0 }), target.count - known.count <= 1, target.count <= 8 else {
                throw fail(node, "reshape to \(target)")
            }
            // file-supplied extents: an overflowing product is a refusal, not a trap (found by FuzzONNX)
            guard let product = Checked.product(known) else { throw fail(node, "reshape to \(target) overflows") }
            if known.count < target.count {
                guard product > 0, data.count % product == 0 else { throw fail(node, "reshape to \(target)") }
                target = target.map { $0 == -1 ? data.count / product : $0 }
            }
            guard Checked.product(target) == data.count else {
                throw fail(node, "reshape of \(data.count) values to \(target)")
            }
            return SymTensor(shape: target, values: data.values, floating: data.floating)
        case "Transpose":
            let data = try input(node, 0, &index, depth)
            let r = data.shape.count
            let perm = attrInts(node, "perm") ?? Array((0..<r).reversed())
            guard perm.count == r, Set(perm) == Set(0..<r) else {
                throw fail(node, "permutation \(perm) for rank \(r)")
            }
            let outShape = perm.map { data.shape[$0] }
            let inStrides = strides(data.shape)
            var values: [SymExpr] = []
            values.reserveCapacity(data.count)
            var idx = [Int](repeating: 0, count: r)
            for _ in 0..<data.count {
                var off = 0
                for (o, p) in perm.enumerated() { off += idx[o] * inStrides[p] }
                values.append(data.values[off])
                var k = r - 1
                while k >= 0 { idx[k] += 1; if idx[k] < outShape[k] { break }; idx[k] = 0; k -= 1 }
            }
            return SymTensor(shape: outShape, values: values, floating: data.floating)
        case "Slice":
            let data = try input(node, 0, &index, depth)
            let r = data.shape.count
            let starts, ends: [Int]
            var axes: [Int]?, steps: [Int]?
            if let s = attrInts(node, "starts"), let e = attrInts(node, "ends") {
                (starts, ends, axes) = (s, e, attrInts(node, "axes"))
            } else {
                guard let s = try constInts(node, 1, "starts", &index, depth),
                    let e = try constInts(node, 2, "ends", &index, depth)
                else { throw fail(node, "no starts or ends") }
                (starts, ends) = (s, e)
                axes = try constInts(node, 3, "axes", &index, depth)
                steps = try constInts(node, 4, "steps", &index, depth)
            }
            let ax = try (axes ?? Array(0..<starts.count)).map { try axis($0, rank: r, node) }
            let st = steps ?? [Int](repeating: 1, count: starts.count)
            guard ends.count == starts.count, ax.count == starts.count, st.count == starts.count,
                Set(ax).count == ax.count
            else { throw fail(node, "starts, ends, axes and steps differ in length") }
            var picks = data.shape.map { Array(0..<$0) }
            for (i, a) in ax.enumerated() {
                let n = data.shape[a], step = st[i]
                guard step != 0 else { throw fail(node, "step 0") }
                func norm(_ x: Int) -> Int { x < 0 ? (x < -n ? -1 : x + n) : x }
                var list: [Int] = []
                if step > 0 {
                    var j = min(max(norm(starts[i]), 0), n)
                    let end = min(max(norm(ends[i]), 0), n)
                    while j < end { list.append(j); j += step }
                } else {
                    var j = min(max(norm(starts[i]), -1), n - 1)
                    let end = min(max(norm(ends[i]), -1), n - 1)
                    while j > end { list.append(j); j += step }
                }
                picks[a] = list
            }
            let outShape = picks.map(\.count)
            let inStrides = strides(data.shape)
            let total = outShape.reduce(1, *)
            var values: [SymExpr] = []
            values.reserveCapacity(total)
            var idx = [Int](repeating: 0, count: r)
            for _ in 0..<total {
                var off = 0
                for k in 0..<r { off += picks[k][idx[k]] * inStrides[k] }
                values.append(data.values[off])
                var k = r - 1
                while k >= 0 { idx[k] += 1; if idx[k] < outShape[k] { break }; idx[k] = 0; k -= 1 }
            }
            return SymTensor(shape: outShape, values: values, floating: data.floating)
        case "Add", "Sub", "Mul", "Div":
            let a = try input(node, 0, &index, depth), b = try input(node, 1, &index, depth)
            let shape: [Int]
            if a.shape == b.shape {
                shape = a.shape
            } else if b.count == 1, b.shape.count <= a.shape.count {
                shape = a.shape
            } else if a.count == 1, a.shape.count <= b.shape.count {
                shape = b.shape
            } else {
                throw fail(node, "operands of shapes \(a.shape) and \(b.shape)")
            }
            let n = shape.reduce(1, *)
            var values: [SymExpr] = []
            for i in 0..<n {
                let x = a.values[a.count == 1 ? 0 : i], y = b.values[b.count == 1 ? 0 : i]
                switch node.opType {
                case "Add": values.append(try x + y)
                case "Sub": values.append(try x - y)
                case "Mul": values.append(try x * y)
                default:
                    guard let k = y.constant, k > 0 else {
                        throw fail(node, "divides by \(y), not by a positive constant")
                    }
                    if a.floating || b.floating {
                        // Floating-point division stays exact only where it divides evenly.
                        guard let c = x.constant, c % k == 0 else {
                            throw fail(node, "floating-point division of \(x) by \(k)")
                        }
                    }
                    values.append(try x.dividedDown(by: k))
                }
            }
            return SymTensor(shape: shape, values: values, floating: a.floating || b.floating)
        case "Floor":
            return try input(node, 0, &index, depth)
        case "Cast":
            var data = try input(node, 0, &index, depth)
            let to = attrInt(node, "to") ?? 0
            switch to {
            case 1, 10, 11, 16: data.floating = true
            case 2, 3, 4, 5, 6, 7, 12, 13: data.floating = false
            default: throw fail(node, "cast of a size to type \(to)")
            }
            return data
        case "ConstantOfShape":
            guard let shape = try constInts(node, 0, "shape", &index, depth) else { throw fail(node, "no shape") }
            guard shape.allSatisfy({ $0 >= 0 }), shape.count <= 8,
                shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 })
                    <= SymTensor.maxElements
            else {
                throw fail(node, "shape \(shape)")
            }
            var fill = SymExpr(0), floating = true
            if let t = node.attribute("value")?.t {
                var scratch = t
                scratch.name = v
                let decoded = try index.decode(scratch)
                guard decoded.elementCount == 1, let d = decoded.scalar(at: 0), let n = Int(exactly: d) else {
                    throw fail(node, "fill value is not one integral number")
                }
                fill = SymExpr(n)
                floating = decoded.dtype.isFloatingPoint
            }
            let n = shape.reduce(1, *)
            return SymTensor(shape: shape, values: [SymExpr](repeating: fill, count: n), floating: floating)
        default:
            throw fail(
                node,
                "a shape is computed with \(displaySafe(node.opType)), which this reader does not "
                    + "evaluate (it evaluates \(Self.ops.sorted().joined(separator: ", ")))")
        }
    }
}
