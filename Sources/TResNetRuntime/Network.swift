import TResNetCore
import TResNetModel

/// A TResNet ready to run on the CPU: BatchNorm folded into every convolution at load, weights widened to f32
/// and laid out for GEMM. Built from a configuration and tensors in the canonical (timm) spelling.
///
/// Forward semantics follow timm's `TResNet` exactly (tresnet.md §2): space-to-depth, stem conv + LeakyReLU
/// 0.01, Basic/Bottleneck blocks with LeakyReLU 0.001, the blur pool after BN+activation of the strided conv,
/// SE, the ceil-mode average-pool shortcut, ReLU after the residual add, global average pool, linear head.
public struct TResNetNetwork: Sendable {
    public let configuration: TResNetConfiguration
    /// The convolution kernels this network runs (never `.automatic`: resolved at init).
    public let backend: ConvolutionBackend
    /// The arithmetic of the convolutions (`Precision`; f32 unless asked).
    public let precision: Precision
    let stem: Convolution
    let stages: [[Block]]
    /// The linear head as a 1×1 convolution over the pooled features.
    let head: Convolution

    struct Block: Sendable {
        let kind: TResNetConfiguration.BlockKind
        let stride: Int
        let conv1: Convolution
        let conv2: Convolution
        let conv3: Convolution?
        let se: SqueezeExcite?
        let projection: Convolution?
        let pooledProjection: Bool
    }

    /// The activation tap points, in forward order, named by timm's module paths.
    public static let tapNames = ["body.s2d", "body.conv1", "body.layer1", "body.layer2", "body.layer3", "body.layer4",
                                  "head.global_pool", "head.fc"]

    /// - Parameter backend: the convolution kernels; `.automatic` picks ours (Winograd) where this CPU has them.
    /// - Parameter tensor: looks a tensor up by its canonical name; nil when absent.
    /// - Parameter precision: `.bf16` needs our kernels on a CPU with AVX512-BF16 (`Precision.check`).
    public init(configuration: TResNetConfiguration, backend: ConvolutionBackend = .automatic,
                precision: Precision = .f32, tensor: (String) throws -> Tensor?) throws {
        try configuration.validate()
        self.configuration = configuration
        let resolved = try backend.resolved()
        self.backend = resolved
        try precision.check(backend: resolved)
        self.precision = precision
        func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let t = try tensor(name) else {
                throw TResNetError(.binding, at: .tensor(name), "missing tensor")
            }
            guard t.shape == shape else {
                throw TResNetError(.binding, at: .tensor(name),
                                   "shape \(formatShape(t.shape)) does not match the expected \(formatShape(shape))")
            }
            return try t.floats()
        }
        func conv(_ prefix: String, _ cin: Int, _ cout: Int, _ k: Int) throws -> Convolution {
            let shape = [cout, cin, k, k]
            let w = try floats(prefix + ".conv.weight", shape)
            if try tensor(prefix + ".bn.weight") != nil {
                let bn = (gamma: try floats(prefix + ".bn.weight", [cout]), beta: try floats(prefix + ".bn.bias", [cout]),
                          mean: try floats(prefix + ".bn.running_mean", [cout]),
                          variance: try floats(prefix + ".bn.running_var", [cout]))
                return Convolution(weight: w, shape: shape, bn: bn, bias: nil, kernels: resolved, precision: precision)
            }
            // BN-folded source (e.g. an exported ONNX graph): the conv carries its own bias.
            return Convolution(weight: w, shape: shape, bn: nil, bias: try floats(prefix + ".conv.bias", [cout]),
                               kernels: resolved, precision: precision)
        }
        let c = configuration
        stem = try conv("body.conv1", 16 * c.inChannels, c.planes, 3)
        var stages: [[Block]] = []
        for s in 0..<4 {
            let kind = c.blockKind(stage: s)
            let planes = c.stagePlanes(s)
            let out = c.stageOutChannels(s)
            var blocks: [Block] = []
            for b in 0..<c.layers[s] {
                let p = "body.layer\(s + 1).\(b)"
                let cin = b == 0 ? c.stageInChannels(s) : out
                let stride = b == 0 ? c.stageStride(s) : 1
                var projection: Convolution?
                var pooled = false
                if b == 0, c.projection(stage: s).present {
                    pooled = c.projection(stage: s).pooled
                    projection = try conv("\(p).downsample.\(pooled ? 1 : 0)", cin, out, 1)
                }
                var se: SqueezeExcite?
                if c.stageUsesSE(s) {
                    let ch = c.seChannels(stage: s), r = c.seReduction(stage: s)
                    se = SqueezeExcite(channels: ch, reduced: r, w1: try floats("\(p).se.fc1.weight", [r, ch, 1, 1]),
                                       b1: try floats("\(p).se.fc1.bias", [r]),
                                       w2: try floats("\(p).se.fc2.weight", [ch, r, 1, 1]),
                                       b2: try floats("\(p).se.fc2.bias", [ch]))
                }
                if kind == .basic {
                    blocks.append(Block(kind: kind, stride: stride, conv1: try conv("\(p).conv1", cin, planes, 3),
                                        conv2: try conv("\(p).conv2", planes, planes, 3), conv3: nil, se: se,
                                        projection: projection, pooledProjection: pooled))
                } else {
                    blocks.append(Block(kind: kind, stride: stride, conv1: try conv("\(p).conv1", cin, planes, 1),
                                        conv2: try conv("\(p).conv2", planes, planes, 3),
                                        conv3: try conv("\(p).conv3", planes, out, 1), se: se,
                                        projection: projection, pooledProjection: pooled))
                }
            }
            stages.append(blocks)
        }
        self.stages = stages
        head = Convolution(weight: try floats("head.fc.weight", [c.numClasses, c.numFeatures]),
                           shape: [c.numClasses, c.numFeatures, 1, 1], bn: nil,
                           bias: try floats("head.fc.bias", [c.numClasses]), kernels: resolved, precision: precision)
    }

    /// Runs the network on `input` (NCHW f32, [N, inChannels, H, W] with H and W multiples of 32).
    /// - Parameter taps: tap names to capture (see `tapNames`); captured activations are NCHW like PyTorch's.
    /// - Parameter profile: when given, each operation's time is added to it (benchmarks); nil does no timing.
    /// - Returns: the logits [N, classes] and the requested taps.
    public func forward(_ input: Tensor, taps: Set<String> = [], profile: ForwardProfile? = nil) throws
        -> (logits: Tensor, taps: [String: Tensor])
    {
        let c = configuration
        guard input.rank == 4, input.shape[1] == c.inChannels else {
            throw TResNetError(.malformed, format: "input",
                               "input must be N×\(c.inChannels)×H×W, got \(formatShape(input.shape))")
        }
        let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        guard n >= 1, h >= 32, w >= 32, h % 32 == 0, w % 32 == 0 else {
            throw TResNetError(.malformed, format: "input",
                               "image sides must be multiples of 32 (at least 32), got \(h)×\(w)")
        }
        let unknown = taps.subtracting(Self.tapNames)
        guard unknown.isEmpty else {
            throw TResNetError(.usage, "unknown tap \(unknown.sorted().joined(separator: ", ")); taps are "
                + Self.tapNames.joined(separator: ", "))
        }
        var captured: [String: Tensor] = [:]
        let pixels = try input.floats()
        var x = timed(profile, "space-to-depth") {
            pixels.withUnsafeBufferPointer { spaceToDepth($0, n: n, c: c.inChannels, h: h, w: w) }
        }
        if taps.contains("body.s2d") { captured["body.s2d"] = x.nchw() }
        x = stem(x, activation: .leakyReLU(0.01), profile: profile)
        if taps.contains("body.conv1") { captured["body.conv1"] = x.nchw() }
        for (s, blocks) in stages.enumerated() {
            for block in blocks { x = run(block, x, profile: profile) }
            let name = "body.layer\(s + 1)"
            if taps.contains(name) { captured[name] = x.nchw() }
        }
        let pooled = timed(profile, "global pool") { globalAveragePool(x) }
        let features = c.numFeatures
        if taps.contains("head.global_pool") { captured["head.global_pool"] = Tensor(shape: [n, features], floats: pooled) }
        let logits = timed(profile, "head fc") {
            head(FeatureMap(n: n, h: 1, w: 1, c: features, data: pooled), activation: .identity)
        }
        let out = Tensor(shape: [n, c.numClasses], floats: logits.data)
        if taps.contains("head.fc") { captured["head.fc"] = out }
        return (out, captured)
    }

    /// The threads the direct kernels use (the calling thread counts as one); OpenBLAS has its own setting
    /// (`BLASThreads`).
    public static var threads: Int {
        get { DirectKernels.threads }
        set { DirectKernels.threads = newValue }
    }

    private func run(_ block: Block, _ x: FeatureMap, profile: ForwardProfile?) -> FeatureMap {
        var shortcut = x
        if let projection = block.projection {
            let pooled = block.pooledProjection ? timed(profile, "avg pool 2×2 (shortcut)") { averagePool2x2(x) } : x
            shortcut = projection(pooled, activation: .identity, profile: profile)
        }
        let leaky = Activation.leakyReLU(0.001)
        switch block.kind {
        case .basic:
            var y = block.conv1(x, activation: leaky, profile: profile)
            if block.stride == 2 { y = timed(profile, "blur pool") { blurPool(y) } }
            if let se = block.se {
                y = block.conv2(y, activation: .identity, profile: profile)
                timed(profile, "SE (+ residual, ReLU)") { se.apply(&y, residual: shortcut) }
                return y
            }
            return block.conv2(y, activation: .relu, residual: shortcut, profile: profile)
        case .bottleneck:
            var y = block.conv1(x, activation: leaky, profile: profile)
            y = block.conv2(y, activation: leaky, profile: profile)
            if block.stride == 2 { y = timed(profile, "blur pool") { blurPool(y) } }
            if let se = block.se { timed(profile, "SE (+ residual, ReLU)") { se.apply(&y) } }
            return block.conv3!(y, activation: .relu, residual: shortcut, profile: profile)
        }
    }
}
