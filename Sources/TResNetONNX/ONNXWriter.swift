import TResNetCore
import TResNetModel

/// Writes a TResNet as a self-contained ONNX model (opset 17, IR 8, weights inline as f32 `raw_data`) that
/// ONNX Runtime runs with the same logits as PyTorch.
///
/// The graph is the inference form of timm's TResNet with BatchNorm folded into every conv:
/// SpaceToDepth(4) → Conv+bias → LeakyRelu(0.01) → blocks → GlobalAveragePool → Flatten → Gemm(transB=1).
/// In a block: Conv+bias → LeakyRelu(0.001) (…), the blur pool as Pad(reflect, 1) + depthwise Conv with the fixed
/// [1,2,1]⊗[1,2,1]/16 filter at stride 2, SE as GlobalAveragePool → Conv → Relu → Conv → Sigmoid → Mul, the
/// shortcut as AveragePool(2, stride 2, ceil_mode=1, count_include_pad=0) + 1×1 Conv, then Add → Relu.
/// Input `input` is [batch, C, height, width] f32; output `logits` is [batch, classes].
/// Initializers carry canonical names (`body.conv1.conv.weight`, …), with folded values.
public enum ONNXWriter {
    /// The opset the writer targets.
    public static let opset: Int64 = 17

    /// Serializes a bound tree (`BoundModel.tree`): every node and initializer is named by the tree's module
    /// paths, every conv has its BatchNorm folded by `ConvNormAct.folded()`. Weights are written as f32.
    public static func serialize(_ tree: TResNet) throws -> [UInt8] {
        try tree.configuration.validate()
        let c = tree.configuration
        var g = GraphBuilder()
        let s2d = tree.body.s2d.path
        g.node("SpaceToDepth", ["input"], s2d, name: s2d, int: [("blocksize", SpaceToDepth.blockSize)])
        var x = try g.unit(tree.body.conv1, s2d)
        for block in tree.body.stages.joined() { x = try g.block(block, x) }
        if let head = tree.mlDecoder {
            _ = try g.mlDecoder(head, x, features: c.numFeatures)
            return try g.finished(configuration: c)
        }
        let pool = tree.head.globalPool.path, fc = tree.head.fc
        g.node("GlobalAveragePool", [x], pool + ".pool", name: pool + ".pool")
        g.node("Flatten", [pool + ".pool"], pool, name: pool + ".flatten", int: [("axis", 1)])
        try g.initializer(
            fc.path + ".weight", fc.weight.required(fc.path + ".weight").floats(),
            [fc.outFeatures, fc.inFeatures])
        try g.initializer(fc.path + ".bias", fc.bias.required(fc.path + ".bias").floats(), [fc.outFeatures])
        g.node("Gemm", [pool, fc.path + ".weight", fc.path + ".bias"], "logits", name: fc.path, int: [("transB", 1)])
        return try g.finished(configuration: c)
    }

    /// Writes the model to `path` atomically (temp file, fsync, rename).
    public static func write(_ tree: TResNet, to path: String, overwrite: Bool) throws {
        let bytes = try serialize(tree)
        try TResNetError.naming(path) { try writeFileAtomically(path, bytes, overwrite: overwrite) }
    }
}

/// Accumulates nodes and initializers of the graph `ONNXWriter` emits.
struct GraphBuilder {
    /// The serialized model, refused over protobuf's 2 GiB limit.
    func finished(configuration c: TResNetConfiguration) throws -> [UInt8] {
        let model = model(configuration: c)
        guard model.count <= Int(Int32.max) else {
            throw TResNetError(
                .limitExceeded, format: "onnx",
                "the model would be \(model.count) bytes, over protobuf's 2 GiB limit")
        }
        return model
    }

    var nodes: [[UInt8]] = []
    var initializers: [[UInt8]] = []
    var written: Set<String> = []

    mutating func initializer(_ name: String, _ values: [Float], _ shape: [Int]) {
        guard written.insert(name).inserted else { return }
        var e = ProtobufEncoder()
        for d in shape { e.int(1, d) }
        e.int(2, 1)  // FLOAT
        e.string(8, name)
        values.withUnsafeBytes { e.bytes(9, $0) }
        initializers.append(e.bytes)
    }

    mutating func initializer(_ name: String, int64 values: [Int64]) {
        guard written.insert(name).inserted else { return }
        var e = ProtobufEncoder()
        e.int(1, values.count)
        e.int(2, 7)  // INT64
        e.string(8, name)
        values.map(\.littleEndian).withUnsafeBytes { e.bytes(9, $0) }
        initializers.append(e.bytes)
    }

    /// Adds a node with INTS (`ints`), INT (`int`), FLOAT and STRING attributes.
    mutating func node(
        _ op: String, _ inputs: [String], _ output: String, name: String,
        ints: [(String, [Int])] = [], int: [(String, Int)] = [], floats: [(String, Float)] = [],
        strings: [(String, String)] = []
    ) {
        var e = ProtobufEncoder()
        for i in inputs { e.string(1, i) }
        e.string(2, output)
        e.string(3, name)
        e.string(4, op)
        for (n, v) in ints {
            e.message(5) { a in
                a.string(1, n); for x in v { a.int(8, x) }; a.int(20, 7)
            }  // INTS
        }
        for (n, v) in int {
            e.message(5) { a in
                a.string(1, n); a.int(3, v); a.int(20, 2)
            }  // INT
        }
        for (n, v) in floats {
            e.message(5) { a in
                a.string(1, n); a.float(2, v); a.int(20, 1)
            }
        }
        for (n, v) in strings {
            e.message(5) { a in
                a.string(1, n); a.string(4, v); a.int(20, 3)
            }
        }
        nodes.append(e.bytes)
    }

    /// A `ConvNormAct`: Conv with BatchNorm folded in (+ bias), its activation, then the blur pool if it has one.
    /// `activation` overrides the unit's own (nil: the unit's; the residual's Add comes before a block's output
    /// activation, so the last conv of a block is emitted with `.identity`).
    mutating func unit(_ u: ConvNormAct, _ input: String, activation: Activation? = nil) throws -> String {
        let (w, b) = try u.folded()
        let k = u.kernel
        initializer(u.conv.path + ".weight", w, [u.outChannels, u.inChannels, k, k])
        initializer(u.conv.path + ".bias", b, [u.outChannels])
        node(
            "Conv", [input, u.conv.path + ".weight", u.conv.path + ".bias"], u.conv.path, name: u.conv.path,
            ints: [("kernel_shape", [k, k]), ("pads", [Int](repeating: k / 2, count: 4)), ("strides", [1, 1])])
        var y = act(activation ?? u.activation, u.conv.path, u.path + ".act")
        if u.antiAliased { y = blur(y, channels: u.outChannels, u.path + ".aa") }
        return y
    }

    /// A residual block: the shortcut (pooled projection, plain projection or identity), the main path with SE,
    /// the Add and the block's output activation; its output is named by the block's path.
    mutating func block(_ b: ResidualBlock, _ x: String) throws -> String {
        var shortcut = x
        if let d = b.downsample {
            var pooled = x
            if d.pooled {
                let pool = d.path + ".0"
                node(
                    "AveragePool", [x], pool, name: pool, ints: [("kernel_shape", [2, 2]), ("strides", [2, 2])],
                    int: [("ceil_mode", 1), ("count_include_pad", 0)])
                pooled = pool
            }
            shortcut = try unit(d.conv, pooled)
        }
        var y = try unit(b.conv1, x)
        y = try unit(b.conv2, y)
        if b.conv3 == nil, let se = b.se { y = try squeezeExcite(se, y) }
        if let c3 = b.conv3 {
            if let se = b.se { y = try squeezeExcite(se, y) }
            y = try unit(c3, y)
        }
        node("Add", [y, shortcut], b.path + ".add", name: b.path + ".add")
        return act(ResidualBlock.outputActivation, b.path + ".add", b.path, nodeName: b.path + ".act")
    }

    /// The activation node (none for identity); returns its output.
    mutating func act(_ a: Activation, _ input: String, _ output: String, nodeName: String? = nil) -> String {
        switch a {
        case .identity: return input
        case .relu: node("Relu", [input], output, name: nodeName ?? output)
        case .leakyReLU(let slope):
            node("LeakyRelu", [input], output, name: nodeName ?? output, floats: [("alpha", slope)])
        }
        return output
    }

    /// Pad(reflect, 1 on each spatial side) + depthwise 3×3 conv, stride 2, with the fixed binomial filter.
    mutating func blur(_ input: String, channels: Int, _ prefix: String) -> String {
        initializer("blur.pads", int64: [0, 0, 1, 1, 0, 0, 1, 1])
        let k: [Float] = [1, 2, 1, 2, 4, 2, 1, 2, 1].map { $0 / 16 }
        let filter = prefix + ".filt"
        initializer(filter, (0..<channels).flatMap { _ in k }, [channels, 1, 3, 3])
        node("Pad", [input, "blur.pads"], prefix + ".pad", name: prefix + ".pad", strings: [("mode", "reflect")])
        node(
            "Conv", [prefix + ".pad", filter], prefix, name: prefix,
            ints: [("kernel_shape", [3, 3]), ("strides", [2, 2]), ("pads", [0, 0, 0, 0])], int: [("group", channels)])
        return prefix
    }

    mutating func squeezeExcite(_ se: SqueezeExcite, _ input: String) throws -> String {
        let p = se.path
        for fc in [se.fc1, se.fc2] {
            try initializer(
                fc.path + ".weight", fc.weight.required(fc.path + ".weight").floats(),
                [fc.outChannels, fc.inChannels, 1, 1])
            try initializer(fc.path + ".bias", fc.bias.required(fc.path + ".bias").floats(), [fc.outChannels])
        }
        node("GlobalAveragePool", [input], "\(p).pool", name: "\(p).pool")
        node(
            "Conv", ["\(p).pool", se.fc1.path + ".weight", se.fc1.path + ".bias"], se.fc1.path, name: se.fc1.path,
            ints: [("kernel_shape", [1, 1])])
        node("Relu", [se.fc1.path], "\(p).act", name: "\(p).act")
        node(
            "Conv", ["\(p).act", se.fc2.path + ".weight", se.fc2.path + ".bias"], se.fc2.path, name: se.fc2.path,
            ints: [("kernel_shape", [1, 1])])
        node("Sigmoid", [se.fc2.path], "\(p).gate", name: "\(p).gate")
        node("Mul", [input, "\(p).gate"], p, name: p)
        return p
    }

    /// ValueInfoProto with a float tensor type whose dims are fixed sizes or symbolic names.
    static func valueInfo(_ e: inout ProtobufEncoder, field: Int, name: String, dims: [Any]) {
        e.message(field) { v in
            v.string(1, name)
            v.message(2) { type in  // TypeProto
                type.message(1) { tensor in  // TypeProto.Tensor
                    tensor.int(1, 1)  // elem_type FLOAT
                    tensor.message(2) { shape in
                        for d in dims {
                            shape.message(1) { dim in
                                if let n = d as? Int { dim.int(1, n) } else { dim.string(2, "\(d)") }
                            }
                        }
                    }
                }
            }
        }
    }

    func model(configuration c: TResNetConfiguration) -> [UInt8] {
        var m = ProtobufEncoder()
        m.int(1, 8)  // ir_version
        m.string(2, "tresnet-kit")
        m.string(3, "1")
        m.message(7) { g in
            for n in nodes { n.withUnsafeBytes { g.bytes(1, $0) } }
            g.string(2, c.variantName ?? "tresnet")
            for t in initializers { t.withUnsafeBytes { g.bytes(5, $0) } }
            GraphBuilder.valueInfo(&g, field: 11, name: "input", dims: ["batch", c.inChannels, "height", "width"])
            GraphBuilder.valueInfo(&g, field: 12, name: "logits", dims: ["batch", c.numClasses])
        }
        m.message(8) { o in
            o.string(1, "")
            o.int(2, ONNXWriter.opset)
        }
        return m.bytes
    }
}
