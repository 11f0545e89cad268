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

    /// Serializes the model. `tensor` looks weights up by canonical name (`.bn.*` or folded `.conv.bias`).
    public static func serialize(configuration: TResNetConfiguration,
                                 tensor: (String) throws -> Tensor?) throws -> [UInt8] {
        try configuration.validate()
        return try withoutActuallyEscaping(tensor) { try build(configuration, $0) }
    }

    private static func build(_ configuration: TResNetConfiguration,
                              _ tensor: @escaping (String) throws -> Tensor?) throws -> [UInt8] {
        var g = GraphBuilder(tensor: tensor)
        let c = configuration
        g.node("SpaceToDepth", ["input"], "body.s2d", name: "body.s2d", int: [("blocksize", 4)])
        var x = try g.conv("body.conv1", "body.s2d", cin: 16 * c.inChannels, cout: c.planes, k: 3)
        x = g.leaky(x, 0.01, "body.conv1.act")
        for s in 0..<4 {
            let planes = c.stagePlanes(s), out = c.stageOutChannels(s)
            for b in 0..<c.layers[s] {
                let p = "body.layer\(s + 1).\(b)"
                let cin = b == 0 ? c.stageInChannels(s) : out
                var shortcut = x
                if b == 0, c.projection(stage: s).present {
                    if c.projection(stage: s).pooled {
                        g.node("AveragePool", [x], "\(p).downsample.0", name: "\(p).downsample.0",
                               ints: [("kernel_shape", [2, 2]), ("strides", [2, 2])],
                               int: [("ceil_mode", 1), ("count_include_pad", 0)])
                        shortcut = try g.conv("\(p).downsample.1", "\(p).downsample.0", cin: cin, cout: out, k: 1)
                    } else {
                        shortcut = try g.conv("\(p).downsample.0", x, cin: cin, cout: out, k: 1)
                    }
                }
                let blur = b == 0 && c.stageStride(s) == 2
                var y: String
                if c.blockKind(stage: s) == .basic {
                    y = g.leaky(try g.conv("\(p).conv1", x, cin: cin, cout: planes, k: 3), 0.001, "\(p).conv1.act")
                    if blur { y = g.blur(y, channels: planes, "\(p).conv1.aa") }
                    y = try g.conv("\(p).conv2", y, cin: planes, cout: planes, k: 3)
                    if c.stageUsesSE(s) { y = try g.se("\(p).se", y, channels: planes, reduced: c.seReduction(stage: s)) }
                } else {
                    y = g.leaky(try g.conv("\(p).conv1", x, cin: cin, cout: planes, k: 1), 0.001, "\(p).conv1.act")
                    y = g.leaky(try g.conv("\(p).conv2", y, cin: planes, cout: planes, k: 3), 0.001, "\(p).conv2.act")
                    if blur { y = g.blur(y, channels: planes, "\(p).conv2.aa") }
                    if c.stageUsesSE(s) { y = try g.se("\(p).se", y, channels: planes, reduced: c.seReduction(stage: s)) }
                    y = try g.conv("\(p).conv3", y, cin: planes, cout: out, k: 1)
                }
                g.node("Add", [y, shortcut], "\(p).add", name: "\(p).add")
                g.node("Relu", ["\(p).add"], p, name: "\(p).act")
                x = p
            }
        }
        g.node("GlobalAveragePool", [x], "head.global_pool.pool", name: "head.global_pool.pool")
        g.node("Flatten", ["head.global_pool.pool"], "head.global_pool", name: "head.global_pool.flatten",
               int: [("axis", 1)])
        try g.initializer("head.fc.weight", g.floats("head.fc.weight", [c.numClasses, c.numFeatures]),
                          [c.numClasses, c.numFeatures])
        try g.initializer("head.fc.bias", g.floats("head.fc.bias", [c.numClasses]), [c.numClasses])
        g.node("Gemm", ["head.global_pool", "head.fc.weight", "head.fc.bias"], "logits", name: "head.fc",
               int: [("transB", 1)])
        let model = g.model(configuration: c)
        guard model.count <= Int(Int32.max) else {
            throw TResNetError(.limitExceeded, format: "onnx",
                               "the model would be \(model.count) bytes, over protobuf's 2 GiB limit")
        }
        return model
    }

    /// Writes the model to `path` atomically (temp file, fsync, rename).
    public static func write(configuration: TResNetConfiguration, tensor: (String) throws -> Tensor?, to path: String,
                             overwrite: Bool) throws {
        let bytes = try serialize(configuration: configuration, tensor: tensor)
        try TResNetError.naming(path) { try writeFileAtomically(path, bytes, overwrite: overwrite) }
    }
}

/// Accumulates nodes and initializers of the graph `ONNXWriter` emits.
private struct GraphBuilder {
    let tensor: (String) throws -> Tensor?
    var nodes: [[UInt8]] = []
    var initializers: [[UInt8]] = []
    var written: Set<String> = []

    init(tensor: @escaping (String) throws -> Tensor?) { self.tensor = tensor }

    func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
        guard let t = try tensor(name) else { throw TResNetError(.binding, format: "onnx", at: .tensor(name), "missing tensor") }
        guard t.shape == shape else {
            throw TResNetError(.binding, format: "onnx", at: .tensor(name),
                               "shape \(formatShape(t.shape)) does not match the expected \(formatShape(shape))")
        }
        return try t.floats()
    }

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
    mutating func node(_ op: String, _ inputs: [String], _ output: String, name: String,
                       ints: [(String, [Int])] = [], int: [(String, Int)] = [], floats: [(String, Float)] = [],
                       strings: [(String, String)] = []) {
        var e = ProtobufEncoder()
        for i in inputs { e.string(1, i) }
        e.string(2, output)
        e.string(3, name)
        e.string(4, op)
        for (n, v) in ints {
            e.message(5) { a in a.string(1, n); for x in v { a.int(8, x) }; a.int(20, 7) }  // INTS
        }
        for (n, v) in int {
            e.message(5) { a in a.string(1, n); a.int(3, v); a.int(20, 2) }  // INT
        }
        for (n, v) in floats {
            e.message(5) { a in a.string(1, n); a.float(2, v); a.int(20, 1) }
        }
        for (n, v) in strings {
            e.message(5) { a in a.string(1, n); a.string(4, v); a.int(20, 3) }
        }
        nodes.append(e.bytes)
    }

    /// Conv with BatchNorm folded in (W' = W·γ/√(var+ε), b' = (b−μ)·γ/√(var+ε)+β, ε = 1e-5) or the folded bias.
    mutating func conv(_ prefix: String, _ input: String, cin: Int, cout: Int, k: Int) throws -> String {
        let shape = [cout, cin, k, k]
        var w = try floats(prefix + ".conv.weight", shape)
        var b: [Float]
        if try tensor(prefix + ".bn.weight") != nil {
            let g = try floats(prefix + ".bn.weight", [cout]), beta = try floats(prefix + ".bn.bias", [cout])
            let mean = try floats(prefix + ".bn.running_mean", [cout]), variance = try floats(prefix + ".bn.running_var", [cout])
            let b0 = try tensor(prefix + ".conv.bias") != nil ? try floats(prefix + ".conv.bias", [cout])
                : [Float](repeating: 0, count: cout)
            b = [Float](repeating: 0, count: cout)
            let per = cin * k * k
            for o in 0..<cout {
                let s = g[o] / (variance[o] + 1e-5).squareRoot()
                for j in 0..<per { w[o * per + j] *= s }
                b[o] = (b0[o] - mean[o]) * s + beta[o]
            }
        } else {
            b = try floats(prefix + ".conv.bias", [cout])
        }
        initializer(prefix + ".conv.weight", w, shape)
        initializer(prefix + ".conv.bias", b, [cout])
        let out = prefix + ".conv"
        node("Conv", [input, prefix + ".conv.weight", prefix + ".conv.bias"], out, name: out,
             ints: [("kernel_shape", [k, k]), ("pads", [Int](repeating: k / 2, count: 4)), ("strides", [1, 1])])
        return out
    }

    mutating func leaky(_ input: String, _ alpha: Float, _ name: String) -> String {
        node("LeakyRelu", [input], name, name: name, floats: [("alpha", alpha)])
        return name
    }

    /// Pad(reflect, 1 on each spatial side) + depthwise 3×3 conv, stride 2, with the fixed binomial filter.
    mutating func blur(_ input: String, channels: Int, _ prefix: String) -> String {
        initializer("blur.pads", int64: [0, 0, 1, 1, 0, 0, 1, 1])
        let k: [Float] = [1, 2, 1, 2, 4, 2, 1, 2, 1].map { $0 / 16 }
        let filter = prefix + ".filt"
        initializer(filter, (0..<channels).flatMap { _ in k }, [channels, 1, 3, 3])
        node("Pad", [input, "blur.pads"], prefix + ".pad", name: prefix + ".pad", strings: [("mode", "reflect")])
        node("Conv", [prefix + ".pad", filter], prefix, name: prefix,
             ints: [("kernel_shape", [3, 3]), ("strides", [2, 2]), ("pads", [0, 0, 0, 0])], int: [("group", channels)])
        return prefix
    }

    mutating func se(_ p: String, _ input: String, channels: Int, reduced: Int) throws -> String {
        try initializer("\(p).fc1.weight", floats("\(p).fc1.weight", [reduced, channels, 1, 1]), [reduced, channels, 1, 1])
        try initializer("\(p).fc1.bias", floats("\(p).fc1.bias", [reduced]), [reduced])
        try initializer("\(p).fc2.weight", floats("\(p).fc2.weight", [channels, reduced, 1, 1]), [channels, reduced, 1, 1])
        try initializer("\(p).fc2.bias", floats("\(p).fc2.bias", [channels]), [channels])
        node("GlobalAveragePool", [input], "\(p).pool", name: "\(p).pool")
        node("Conv", ["\(p).pool", "\(p).fc1.weight", "\(p).fc1.bias"], "\(p).fc1", name: "\(p).fc1",
             ints: [("kernel_shape", [1, 1])])
        node("Relu", ["\(p).fc1"], "\(p).act", name: "\(p).act")
        node("Conv", ["\(p).act", "\(p).fc2.weight", "\(p).fc2.bias"], "\(p).fc2", name: "\(p).fc2",
             ints: [("kernel_shape", [1, 1])])
        node("Sigmoid", ["\(p).fc2"], "\(p).gate", name: "\(p).gate")
        node("Mul", [input, "\(p).gate"], p, name: p)
        return p
    }

    /// ValueInfoProto with a float tensor type whose dims are fixed sizes or symbolic names.
    static func valueInfo(_ e: inout ProtobufEncoder, field: Int, name: String, dims: [Any]) {
        e.message(field) { v in
            v.string(1, name)
            v.message(2) { type in          // TypeProto
                type.message(1) { tensor in  // TypeProto.Tensor
                    tensor.int(1, 1)         // elem_type FLOAT
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
