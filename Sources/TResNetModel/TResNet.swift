import TResNetCore

/// The stem and the four stages (`body.*`). `s2d` (space-to-depth, block 4) has no tensors.
public struct Body: Layer {
    /// `body.conv1`: conv3×3 (16·inChannels → P) + BN + LeakyReLU(0.01).
    public var conv1: ConvNormAct
    /// `body.layer1` … `body.layer4`.
    public var stages: [[ResidualBlock]]
    public var s2d = SpaceToDepth()
    public var path = ""
    public var kind: String { "Sequential" }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.child("s2d", &s2d)
        try w.child("conv1", &conv1)
        for s in stages.indices { try w.sequence("layer\(s + 1)", &stages[s]) }
    }

    /// The module path of stage `s` (0-based), as the walk names it.
    public func stagePath(_ s: Int) -> String { stages[s].first.map { String($0.path.dropLast(2)) } ?? "" }
}

/// Space-to-depth with block size 4 (offset-major, channel-minor; docs/TRESNET.md). No tensors.
public struct SpaceToDepth: Layer {
    /// The block size: 4×4 pixels become 16 channels.
    public static let blockSize = 4
    public var path = ""
    public var kind: String { "SpaceToDepth" }
    public mutating func walk(_ w: inout ParameterWalker) throws {}
}

/// Global average pool. No tensors.
public struct GlobalAveragePool: Layer {
    public var path = ""
    public var kind: String { "SelectAdaptivePool2d" }
    public mutating func walk(_ w: inout ParameterWalker) throws {}
}

/// `head`: global average pool, then `head.fc`.
public struct Head: Layer {
    public var globalPool = GlobalAveragePool()
    public var fc: Linear
    public var path = ""
    public var kind: String { "ClassifierHead" }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.child("global_pool", &globalPool)
        try w.child("fc", &fc)
    }
}

/// One TResNet as a tree of value types, built from a configuration exactly as timm's `TResNet.__init__`
/// builds it. Its walk yields the canonical (current timm) parameter paths.
public struct TResNet: Layer {
    public var configuration: TResNetConfiguration
    public var body: Body
    /// The global pool + `head.fc` head; not part of the walk when `mlDecoder` is present.
    public var head: Head
    /// The ML-Decoder head (`head.decoder.*`), present when the configuration has one: it replaces `head`.
    public var mlDecoder: MLDecoderHead?
    public var path = ""
    public var kind: String { "TResNet" }

    /// LeakyReLU slope of the stem (timm default 0.01).
    public static let stemSlope: Float = 0.01
    /// LeakyReLU slope inside the blocks (timm 1e-3).
    public static let blockSlope: Float = 0.001

    public init(_ c: TResNetConfiguration) {
        configuration = c
        body = Self.body(c)
        head = Head(fc: Linear(inFeatures: c.numFeatures, outFeatures: c.numClasses))
        mlDecoder = c.mlDecoder.map { MLDecoderHead(classes: c.numClasses, features: c.numFeatures, $0) }
        // Name every module by its path (a walk without a visit closure never throws).
        var w = ParameterWalker()
        do { try walk(&w) } catch { preconditionFailure("a walk without a visit closure threw: \(error)") }
    }

    /// The stem and the four stages, as timm's `TResNet.__init__` / `_make_layer` build them.
    private static func body(_ c: TResNetConfiguration) -> Body {
        let norm = c.normalization
        let stem = ConvNormAct(
            SpaceToDepth.blockSize * SpaceToDepth.blockSize * c.inChannels, c.planes, kernel: 3,
            activation: .leakyReLU(slope: Self.stemSlope),
            normalization: norm)
        var stages: [[ResidualBlock]] = []
        var inChannels = c.planes
        for s in 0..<4 {
            let kind = c.blockKind(stage: s)
            let planes = c.stagePlanes(s)
            let out = c.stageOutChannels(s)
            let act = Activation.leakyReLU(slope: Self.blockSlope)
            var blocks: [ResidualBlock] = []
            for b in 0..<max(c.layers.count > s ? c.layers[s] : 0, 0) {
                let stride = b == 0 ? c.stageStride(s) : 1
                let blockIn = b == 0 ? inChannels : out
                var projection: Projection?
                if b == 0 {
                    let p = c.projection(stage: s)
                    if p.present {
                        projection = Projection(
                            pooled: p.pooled,
                            conv: ConvNormAct(blockIn, out, kernel: 1, activation: .identity, normalization: norm))
                    }
                }
                let se =
                    c.stageUsesSE(s)
                    ? SqueezeExcite(channels: c.seChannels(stage: s), reduction: c.seReduction(stage: s)) : nil
                let aa = stride == 2
                switch kind {
                case .basic:
                    blocks.append(
                        ResidualBlock(
                            blockKind: kind, stride: stride, downsample: projection,
                            conv1: ConvNormAct(
                                blockIn, planes, kernel: 3, activation: act, antiAliased: aa, normalization: norm),
                            conv2: ConvNormAct(planes, planes, kernel: 3, activation: .identity, normalization: norm),
                            se: se, conv3: nil))
                case .bottleneck:
                    blocks.append(
                        ResidualBlock(
                            blockKind: kind, stride: stride, downsample: projection,
                            conv1: ConvNormAct(blockIn, planes, kernel: 1, activation: act, normalization: norm),
                            conv2: ConvNormAct(
                                planes, planes, kernel: 3, activation: act, antiAliased: aa, normalization: norm),
                            se: se,
                            conv3: ConvNormAct(planes, out, kernel: 1, activation: .identity, normalization: norm)))
                }
            }
            stages.append(blocks)
            inChannels = out
        }
        return Body(conv1: stem, stages: stages)
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.child("body", &body)
        if mlDecoder != nil { try w.optionalChild("head", &mlDecoder) } else { try w.child("head", &head) }
    }

    /// Applies `body` to every `ConvNormAct` of the tree (stem, projections, block convs), in forward order.
    public mutating func forEachConvUnit(_ body: (inout ConvNormAct) throws -> Void) rethrows {
        try body(&self.body.conv1)
        for s in self.body.stages.indices {
            for b in self.body.stages[s].indices {
                try self.body.stages[s][b].forEachConvUnit(body)
            }
        }
    }

    /// Every tensor in canonical spelling and state-dict order: `(path, shape, role, dtype)`.
    public var listing: [TensorSpec] { tensorListing }

    /// The tensors an output file holds: the listing without optional buffers (`num_batches_tracked`).
    public var storedTensors: [TensorSpec] { listing.filter { $0.role != .optionalBuffer } }

    /// Every module with its path, in walk order (tap points: `body.s2d`, `body.conv1`, `body.layer1`…,
    /// `head.global_pool`, `head.fc`).
    public var modules: [ModuleSpec] { (try? walked().modules) ?? [] }

    /// The activation tap points, in forward order: the space-to-depth, the stem, each stage, the pool and the
    /// head's output — the module paths of this tree.
    public var taps: [String] {
        let heads = mlDecoder.map { [$0.path] } ?? [head.globalPool.path, head.fc.path]
        return [body.s2d.path, body.conv1.path] + body.stages.indices.map(body.stagePath) + heads
    }

    /// The tap points of every TResNet (the stage count is fixed at four), in forward order.
    public static let tapPoints = TResNet(
        TResNetConfiguration(
            layout: .v1, layers: [1, 1, 1, 1], planes: 1,
            numClasses: 1)
    ).taps
}
