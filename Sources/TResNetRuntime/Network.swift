import TResNetCore
import TResNetModel

/// A TResNet ready to run on the CPU, compiled from the bound layer tree: each `ConvNormAct` becomes a
/// `Convolution` (BatchNorm folded by `ConvNormAct.folded()`, laid out and packed for the backend), each
/// `SqueezeExcite` an `SEGate`, `head.fc` a 1×1 convolution. No tensor is looked up by name.
///
/// Forward semantics follow timm's `TResNet` exactly (docs/TRESNET.md): space-to-depth, the stem conv and its
/// activation, Basic/Bottleneck blocks, the blur pool after BN+activation of the strided conv, SE, the ceil-mode
/// average-pool shortcut, the block's output activation after the residual add, global average pool, linear head.
public struct TResNetNetwork: Sendable {
    public let configuration: TResNetConfiguration
    /// The convolution kernels this network runs (never `.automatic`: resolved at init).
    public let backend: ConvolutionBackend
    /// The tree's tap points (module paths), in forward order.
    public let tapPaths: [String]
    /// The arithmetic of the convolutions (`Precision`; f32 unless asked).
    public let precision: Precision
    let stem: Compiled
    let stages: [[Block]]
    /// The linear head as a 1×1 convolution over the pooled features (nil with an ML-Decoder head).
    let head: Convolution?
    /// The ML-Decoder head, when the tree has one (it reads the last stage's tokens; no global pool).
    let decoder: MLDecoderKernel?
    let headPath: String

    /// A compiled `ConvNormAct`: the convolution with its activation and whether the blur pool follows.
    struct Compiled: Sendable {
        let path: String
        let convolution: Convolution
        let activation: Activation
        let blurred: Bool

        init(_ unit: ConvNormAct, _ backend: ConvolutionBackend, _ precision: Precision) throws {
            path = unit.path
            let (w, b) = try unit.folded()
            convolution = Convolution(
                weight: w, shape: [unit.outChannels, unit.inChannels, unit.kernel, unit.kernel],
                bias: b, kernels: backend, precision: precision)
            activation = unit.activation
            blurred = unit.antiAliased
        }
    }

    struct Block: Sendable {
        let conv1: Compiled
        let conv2: Compiled
        let conv3: Compiled?
        let se: SEGate?
        let projection: Compiled?
        let pooledProjection: Bool
    }

    /// The activation tap points, in forward order, named by timm's module paths (the tree's `taps`).
    public static let tapNames = TResNet.tapPoints

    /// The tree modules this network compiled, by path, in forward order: every `ConvNormAct`, `SqueezeExcite`
    /// and the head's `Linear`.
    public var modulePaths: [String] {
        var paths = [stem.path]
        for block in stages.joined() {
            paths += [block.projection?.path, block.conv1.path, block.conv2.path, block.se?.path, block.conv3?.path]
                .compactMap { $0 }
        }
        return paths + [headPath]
    }

    /// Compiles a bound tree (`Binder.bind`, `BoundModel.tree`).
    /// - Parameter backend: the convolution kernels; `.automatic` picks ours (Winograd) where this CPU has them.
    /// - Parameter precision: `.bf16` needs our kernels on a CPU with AVX512-BF16 (`Precision.check`).
    public init(_ tree: TResNet, backend: ConvolutionBackend = .automatic, precision: Precision = .f32) throws {
        try tree.configuration.validate()
        configuration = tree.configuration
        let resolved = try backend.resolved()
        self.backend = resolved
        try precision.check(backend: resolved)
        self.precision = precision
        tapPaths = tree.taps
        stem = try Compiled(tree.body.conv1, resolved, precision)
        stages = try tree.body.stages.map { blocks in
            try blocks.map { block in
                Block(
                    conv1: try Compiled(block.conv1, resolved, precision),
                    conv2: try Compiled(block.conv2, resolved, precision),
                    conv3: try block.conv3.map { try Compiled($0, resolved, precision) },
                    se: try block.se.map(SEGate.init),
                    projection: try block.downsample.map { try Compiled($0.conv, resolved, precision) },
                    pooledProjection: block.downsample?.pooled ?? false)
            }
        }
        if let mld = tree.mlDecoder {
            decoder = try MLDecoderKernel(mld)
            headPath = mld.path
            head = nil
            return
        }
        decoder = nil
        let fc = tree.head.fc
        headPath = fc.path
        head = Convolution(
            weight: try fc.weight.required(fc.path + ".weight").floats(),
            shape: [fc.outFeatures, fc.inFeatures, 1, 1],
            bias: try fc.bias.required(fc.path + ".bias").floats(), kernels: resolved,
            precision: precision)
    }

    /// Binds the tensors `tensor` gives by canonical name to `configuration` (strictly: every missing or
    /// mis-shaped tensor reported at once), then compiles the tree.
    public init(
        configuration: TResNetConfiguration, backend: ConvolutionBackend = .automatic,
        precision: Precision = .f32, tensor: (String) throws -> Tensor?
    ) throws {
        try self.init(try Binder.bind(configuration, lookup: tensor).tree, backend: backend, precision: precision)
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
            throw TResNetError(
                .malformed, format: "input",
                "input must be N×\(c.inChannels)×H×W, got \(formatShape(input.shape))")
        }
        let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        guard n >= 1, h >= 32, w >= 32, h % 32 == 0, w % 32 == 0 else {
            throw TResNetError(
                .malformed, format: "input",
                "image sides must be multiples of 32 (at least 32), got \(h)×\(w)")
        }
        let unknown = taps.subtracting(tapPaths)
        guard unknown.isEmpty else {
            throw TResNetError(
                .usage,
                "unknown tap \(unknown.sorted().joined(separator: ", ")); taps are "
                    + tapPaths.joined(separator: ", "))
        }
        // Tap points in forward order: s2d, stem, each stage, global pool, head.
        var points = tapPaths.makeIterator()
        var captured: [String: Tensor] = [:]
        func tap(_ value: @autoclosure () -> Tensor) {
            if let name = points.next(), taps.contains(name) { captured[name] = value() }
        }
        let pixels = try input.floats()
        var x = timed(profile, "space-to-depth") {
            pixels.withUnsafeBufferPointer { spaceToDepth($0, n: n, c: c.inChannels, h: h, w: w) }
        }
        tap(x.nchw())
        x = run(stem, x, profile: profile)
        tap(x.nchw())
        for blocks in stages {
            for block in blocks { x = run(block, x, profile: profile) }
            tap(x.nchw())
        }
        if let decoder {
            let final = x
            let out = Tensor(shape: [n, c.numClasses], floats: timed(profile, "ML-Decoder head") { decoder(final) })
            tap(out)
            return (out, captured)
        }
        guard let head else { preconditionFailure("a network has a linear or an ML-Decoder head") }
        let pooled = timed(profile, "global pool") { globalAveragePool(x) }
        let features = c.numFeatures
        tap(Tensor(shape: [n, features], floats: pooled))
        let logits = timed(profile, "head fc") {
            head(FeatureMap(n: n, h: 1, w: 1, c: features, data: pooled), activation: .identity)
        }
        let out = Tensor(shape: [n, c.numClasses], floats: logits.data)
        tap(out)
        return (out, captured)
    }

    /// The threads the direct kernels use (the calling thread counts as one); OpenBLAS has its own setting
    /// (`BLASThreads`).
    public static var threads: Int {
        get { DirectKernels.threads }
        set { DirectKernels.threads = newValue }
    }

    /// A conv unit: the convolution with its activation fused, then the blur pool when it has one.
    private func run(
        _ unit: Compiled, _ x: FeatureMap, residual: FeatureMap? = nil, activation: Activation? = nil,
        profile: ForwardProfile?
    ) -> FeatureMap {
        let y = unit.convolution(x, activation: activation ?? unit.activation, residual: residual, profile: profile)
        return unit.blurred ? timed(profile, "blur pool") { blurPool(y) } : y
    }

    /// A residual block: the units in order, SE where the tree has it, the shortcut added and the block's
    /// output activation fused into the last convolution (or applied with the SE scale).
    private func run(_ block: Block, _ x: FeatureMap, profile: ForwardProfile?) -> FeatureMap {
        var shortcut = x
        if let projection = block.projection {
            let pooled = block.pooledProjection ? timed(profile, "avg pool 2×2 (shortcut)") { averagePool2x2(x) } : x
            shortcut = run(projection, pooled, profile: profile)
        }
        let out = ResidualBlock.outputActivation
        var y = run(block.conv1, x, profile: profile)
        guard let conv3 = block.conv3 else {
            // BasicBlock: conv2, then SE on the output (+ residual, ReLU), or the residual fused into conv2.
            if let se = block.se {
                y = run(block.conv2, y, profile: profile)
                timed(profile, "SE (+ residual, ReLU)") { se.apply(&y, residual: shortcut) }
                return y
            }
            return run(block.conv2, y, residual: shortcut, activation: out, profile: profile)
        }
        // Bottleneck: conv2, SE on the mid channels, conv3 with the residual and the output activation fused.
        y = run(block.conv2, y, profile: profile)
        if let se = block.se { timed(profile, "SE (+ residual, ReLU)") { se.apply(&y) } }
        return run(conv3, y, residual: shortcut, activation: out, profile: profile)
    }
}
