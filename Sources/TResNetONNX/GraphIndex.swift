import TResNetCore

/// Producer/consumer index over a graph's nodes, plus the constant tensors (initializers and `Constant` node
/// values) by value name. `Identity` nodes are looked through. Duplicate producers are refused (A.5 #70).
struct GraphIndex {
    let nodes: [ProtoNode]
    let graphInputs: [String]
    let graphOutputs: Set<String>
    private var producer: [String: Int] = [:]
    private var consumerList: [String: [Int]] = [:]
    private var constantProtos: [String: ProtoTensor] = [:]
    private let decoder: TensorDecoder
    private var decoded: [String: Tensor] = [:]

    init(graph: ProtoGraph, decoder: TensorDecoder) throws {
        nodes = graph.nodes
        graphOutputs = Set(graph.outputs)
        self.decoder = decoder
        for t in graph.initializers {
            guard !t.name.isEmpty else {
                throw TResNetError(
                    .malformed, format: "onnx", at: .field("graph.initializer"), "initializer without a name")
            }
            guard constantProtos[t.name] == nil else {
                throw TResNetError(.malformed, format: "onnx", at: .tensor(t.name), "two initializers with this name")
            }
            constantProtos[t.name] = t
        }
        for (i, node) in nodes.enumerated() {
            for out in node.outputs where !out.isEmpty {
                guard producer[out] == nil, constantProtos[out] == nil else {
                    throw TResNetError(
                        .malformed, format: "onnx", at: .node(node.displayName),
                        "output '\(displaySafe(out))' is produced twice")
                }
                producer[out] = i
            }
            if node.opType == "Constant", node.domain.isEmpty || node.domain == "ai.onnx", let out = node.outputs.first
            {
                if var t = node.attribute("value")?.t {
                    t.name = out
                    constantProtos[out] = t
                } else if let a = node.attribute("value_ints") {
                    constantProtos[out] = ProtoTensor(
                        name: out, dims: [Int64(a.ints.count)], dataType: 7, raw: nil, floatData: [], int32Data: [],
                        int64Data: a.ints, doubleData: [], uint64Data: [], stringCount: 0, external: [], dataLocation: 0
                    )
                }
            }
            for input in node.inputs where !input.isEmpty {
                consumerList[input, default: []].append(i)
            }
        }
        // Graph inputs that are not initializers (legacy exports list initializers as inputs too).
        let constants = constantProtos
        graphInputs = graph.inputs.filter { constants[$0] == nil }
    }

    /// The node producing `value`, if any.
    func producerNode(_ value: String) -> ProtoNode? { producer[value].map { nodes[$0] } }

    /// Nodes consuming `value`, with `Identity` nodes replaced by their own consumers.
    func consumers(_ value: String) -> [Int] {
        var out: [Int] = []
        var pending = [value]
        var seen: Set<String> = []
        while let v = pending.popLast() {
            guard seen.insert(v).inserted else { continue }
            for i in consumerList[v] ?? [] {
                if nodes[i].opType == "Identity", let o = nodes[i].outputs.first {
                    pending.append(o)
                } else if !out.contains(i) {
                    out.append(i)
                }
            }
        }
        return out
    }

    /// The value `name` refers to once `Identity` nodes are looked through backwards.
    func source(_ name: String) -> String {
        var v = name
        var steps = 0
        while let p = producer[v], nodes[p].opType == "Identity", let i = nodes[p].inputs.first, steps < nodes.count {
            v = i
            steps += 1
        }
        return v
    }

    /// Whether `value` (after Identity) is an initializer or a Constant node's value.
    func isConstant(_ value: String) -> Bool { constantProtos[source(value)] != nil }

    /// The constant tensor behind `value`, decoded (nil when `value` is computed by the graph).
    mutating func constant(_ value: String) throws -> Tensor? {
        let v = source(value)
        if let t = decoded[v] { return t }
        guard let proto = constantProtos[v] else { return nil }
        let t = try decoder.decode(proto)
        decoded[v] = t
        return t
    }

    /// A tensor held in a node attribute (e.g. ConstantOfShape's `value`), decoded like an initializer.
    func decode(_ proto: ProtoTensor) throws -> Tensor { try decoder.decode(proto) }

    /// The constant behind `value` as integers (for shapes, axes, pads), nil when computed or not integral.
    mutating func integers(_ value: String) throws -> [Int]? {
        guard let t = try constant(value) else { return nil }
        switch t.dtype {
        case .int64, .int32:
            return (0..<t.elementCount).compactMap { t.scalar(at: $0).flatMap { Int(exactly: $0) } }
        default: return nil
        }
    }
}
