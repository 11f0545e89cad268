import TResNetCore

/// The stem and the four stages (`body.*`). `s2d` (space-to-depth, block 4) has no tensors.
public struct Body: Layer {
    /// `body.conv1`: conv3×3 (16·inChannels → P) + BN + LeakyReLU(0.01).
    public var conv1: ConvNormAct
    /// `body.layer1` … `body.layer4`.
    public var stages: [[ResidualBlock]]
    public var kind: String { "Sequential" }

    public func walk(_ w: inout ParameterWalker) {
        w.child("s2d", SpaceToDepth())
        w.child("conv1", conv1)
        for (s, blocks) in stages.enumerated() { w.sequence("layer\(s + 1)", blocks) }
    }
}

/// Space-to-depth with block size 4 (offset-major, channel-minor; tresnet.md §2.1). No tensors.
public struct SpaceToDepth: Layer {
    public var kind: String { "SpaceToDepth" }
    public func walk(_ w: inout ParameterWalker) {}
}

/// Global average pool. No tensors.
public struct GlobalAveragePool: Layer {
    public var kind: String { "SelectAdaptivePool2d" }
    public func walk(_ w: inout ParameterWalker) {}
}

/// `head`: global average pool, then `head.fc`.
public struct Head: Layer {
    public var fc: Linear
    public var kind: String { "ClassifierHead" }

    public func walk(_ w: inout ParameterWalker) {
        w.child("global_pool", GlobalAveragePool())
        w.child("fc", fc)
    }
}

/// One TResNet as a tree of value types, built from a configuration exactly as timm's `TResNet.__init__`
/// builds it. Its walk yields the canonical (current timm) parameter paths.
public struct TResNet: Layer {
    public var configuration: TResNetConfiguration
    public var body: Body
    public var head: Head
    public var kind: String { "TResNet" }

    /// LeakyReLU slope of the stem (timm default 0.01).
    public static let stemSlope: Float = 0.01
    /// LeakyReLU slope inside the blocks (timm 1e-3).
    public static let blockSlope: Float = 0.001

    public init(_ c: TResNetConfiguration) {
        configuration = c
        let norm = c.normalization
        let stem = ConvNormAct(16 * c.inChannels, c.planes, kernel: 3, activation: .leakyReLU(slope: Self.stemSlope),
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
                let se = c.stageUsesSE(s) ? SqueezeExcite(channels: c.seChannels(stage: s), reduction: c.seReduction(stage: s)) : nil
                let aa = stride == 2
                switch kind {
                case .basic:
                    blocks.append(ResidualBlock(
                        blockKind: kind, stride: stride, downsample: projection,
                        conv1: ConvNormAct(blockIn, planes, kernel: 3, activation: act, antiAliased: aa, normalization: norm),
                        conv2: ConvNormAct(planes, planes, kernel: 3, activation: .identity, normalization: norm),
                        se: se, conv3: nil))
                case .bottleneck:
                    blocks.append(ResidualBlock(
                        blockKind: kind, stride: stride, downsample: projection,
                        conv1: ConvNormAct(blockIn, planes, kernel: 1, activation: act, normalization: norm),
                        conv2: ConvNormAct(planes, planes, kernel: 3, activation: act, antiAliased: aa, normalization: norm),
                        se: se,
                        conv3: ConvNormAct(planes, out, kernel: 1, activation: .identity, normalization: norm)))
                }
            }
            stages.append(blocks)
            inChannels = out
        }
        body = Body(conv1: stem, stages: stages)
        head = Head(fc: Linear(inFeatures: c.numFeatures, outFeatures: c.numClasses))
    }

    public func walk(_ w: inout ParameterWalker) {
        w.child("body", body)
        w.child("head", head)
    }

    /// Every tensor in canonical spelling and state-dict order: `(path, shape, role, dtype)`.
    public var listing: [TensorSpec] { tensorListing }

    /// The tensors an output file holds: the listing without optional buffers (`num_batches_tracked`).
    public var storedTensors: [TensorSpec] { listing.filter { $0.role != .optionalBuffer } }

    /// Every module with its path, in walk order (tap points: `body.s2d`, `body.conv1`, `body.layer1`…,
    /// `head.global_pool`, `head.fc`).
    public var modules: [ModuleSpec] {
        var w = ParameterWalker()
        walk(&w)
        return w.modules
    }

    /// The standard activation tap points, in forward order.
    public static let tapPoints = ["body.s2d", "body.conv1", "body.layer1", "body.layer2", "body.layer3", "body.layer4",
                                   "head.global_pool", "head.fc"]
}
