import TResNetCore

/// How a conv's normalisation is stored.
public enum Normalization: String, Sendable, Codable, Hashable {
    /// Conv without bias, then BatchNorm (`conv.weight` + `bn.{weight,bias,running_mean,running_var}`).
    case batchNorm = "batchnorm"
    /// BatchNorm folded into the conv (`conv.weight` + `conv.bias`), as in BN-folded ONNX graphs.
    case folded
}

/// The pointwise function after a conv + norm (or after a residual add).
public enum Activation: Sendable, Hashable {
    case identity
    /// `x >= 0 ? x : slope · x` (PyTorch's LeakyReLU).
    case leakyReLU(slope: Float)
    case relu
}

/// timm `ConvNormAct`: a bias-free conv (stride 1, padding k/2), BatchNorm, an activation and, for the
/// stride-2 convs, a blur pool after the activation (`aa`, no tensors: its filter is synthesised).
public struct ConvNormAct: Layer {
    public var inChannels: Int
    public var outChannels: Int
    public var kernel: Int
    public var activation: Activation
    /// BlurPool (reflect pad 1, [1,2,1]⊗[1,2,1]/16, stride 2) after the activation.
    public var antiAliased: Bool
    public var normalization: Normalization
    public var conv: Conv2d
    /// nil when the normalisation is folded into `conv`.
    public var bn: BatchNorm2d?
    public var path = ""

    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, activation: Activation, antiAliased: Bool = false,
        normalization: Normalization
    ) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.activation = activation
        self.antiAliased = antiAliased
        self.normalization = normalization
        conv = Conv2d(
            inChannels: inChannels, outChannels: outChannels, kernel: kernel, hasBias: normalization == .folded)
        bn = normalization == .batchNorm ? BatchNorm2d(channels: outChannels) : nil
    }

    public var kind: String { "ConvNormAct" }

    /// Switches how this unit stores its normalisation (a graph may fold some convs and keep others' BatchNorm).
    public mutating func store(_ normalization: Normalization) {
        guard normalization != self.normalization else { return }
        self = ConvNormAct(
            inChannels, outChannels, kernel: kernel, activation: activation, antiAliased: antiAliased,
            normalization: normalization)
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.child("conv", &conv)
        try w.optionalChild("bn", &bn)
    }
}

/// `nn.Conv2d` (groups 1).
public struct Conv2d: Layer {
    public var inChannels: Int
    public var outChannels: Int
    public var kernel: Int
    public var hasBias: Bool
    public var weight: Tensor?
    public var bias: Tensor?
    public var path = ""
    public var kind: String { "Conv2d" }

    public init(inChannels: Int, outChannels: Int, kernel: Int, hasBias: Bool) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.hasBias = hasBias
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.tensor("weight", [outChannels, inChannels, kernel, kernel], &weight)
        if hasBias { try w.tensor("bias", [outChannels], &bias) }
    }
}

/// `nn.BatchNorm2d`, eval mode.
public struct BatchNorm2d: Layer {
    public var channels: Int
    /// PyTorch's default ε, which every TResNet uses.
    public static let epsilon: Double = 1e-5
    public var weight: Tensor?
    public var bias: Tensor?
    public var runningMean: Tensor?
    public var runningVar: Tensor?
    /// Read when present, never used nor written.
    public var numBatchesTracked: Tensor?
    public var path = ""
    public var kind: String { "BatchNorm2d" }

    public init(channels: Int) { self.channels = channels }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.tensor("weight", [channels], &weight)
        try w.tensor("bias", [channels], &bias)
        try w.tensor("running_mean", [channels], &runningMean, .buffer)
        try w.tensor("running_var", [channels], &runningVar, .buffer)
        try w.tensor("num_batches_tracked", [], &numBatchesTracked, .optionalBuffer, dtype: .int64)
    }
}

/// `nn.Linear`.
public struct Linear: Layer {
    public var inFeatures: Int
    public var outFeatures: Int
    public var weight: Tensor?
    public var bias: Tensor?
    public var path = ""
    public var kind: String { "Linear" }

    public init(inFeatures: Int, outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.tensor("weight", [outFeatures, inFeatures], &weight)
        try w.tensor("bias", [outFeatures], &bias)
    }
}

/// Squeeze-and-excitation: mean over H,W → 1×1 conv (+bias) → ReLU → 1×1 conv (+bias) → sigmoid → scale.
public struct SqueezeExcite: Layer {
    public var channels: Int
    public var reduction: Int
    public var fc1: Conv2d
    public var fc2: Conv2d
    public var path = ""
    public var kind: String { "SEModule" }

    public init(channels: Int, reduction: Int) {
        self.channels = channels
        self.reduction = reduction
        fc1 = Conv2d(inChannels: channels, outChannels: reduction, kernel: 1, hasBias: true)
        fc2 = Conv2d(inChannels: reduction, outChannels: channels, kernel: 1, hasBias: true)
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.child("fc1", &fc1)
        try w.child("fc2", &fc2)
    }
}

/// The shortcut projection of block 0: `downsample.0` = AvgPool2d(2, ceil, no pad count) then
/// `downsample.1` = conv1×1 + BN, or (v2 layer1, stride 1) just `downsample.0` = conv1×1 + BN.
public struct Projection: Layer {
    public var pooled: Bool
    public var conv: ConvNormAct
    public var path = ""
    public var kind: String { "Sequential" }

    public init(pooled: Bool, conv: ConvNormAct) {
        self.pooled = pooled
        self.conv = conv
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.child(pooled ? "1" : "0", &conv)
    }
}

/// A residual block: BasicBlock (conv1 3×3, conv2 3×3, SE on the output) or Bottleneck (conv1 1×1,
/// conv2 3×3, SE on the mid channels, conv3 1×1); the shortcut is added, then `outputActivation`.
/// State-dict order: downsample, conv1, conv2, se, conv3.
public struct ResidualBlock: Layer {
    public var blockKind: TResNetConfiguration.BlockKind
    public var stride: Int
    public var downsample: Projection?
    public var conv1: ConvNormAct
    public var conv2: ConvNormAct
    public var se: SqueezeExcite?
    public var conv3: ConvNormAct?
    public var path = ""
    public var kind: String { blockKind == .basic ? "BasicBlock" : "Bottleneck" }
    /// After the residual add (timm's `act` of both block types).
    public static let outputActivation = Activation.relu

    public init(
        blockKind: TResNetConfiguration.BlockKind, stride: Int, downsample: Projection?, conv1: ConvNormAct,
        conv2: ConvNormAct, se: SqueezeExcite?, conv3: ConvNormAct?
    ) {
        self.blockKind = blockKind
        self.stride = stride
        self.downsample = downsample
        self.conv1 = conv1
        self.conv2 = conv2
        self.se = se
        self.conv3 = conv3
    }

    /// Applies `body` to the block's `ConvNormAct`s in forward order (projection, conv1, conv2, conv3).
    public mutating func forEachConvUnit(_ body: (inout ConvNormAct) throws -> Void) rethrows {
        if downsample != nil { try body(&downsample!.conv) }
        try body(&conv1)
        try body(&conv2)
        if conv3 != nil { try body(&conv3!) }
    }

    /// The conv whose output the blur pool halves (conv1 in a BasicBlock, conv2 in a Bottleneck), if any.
    public var antiAliasedConv: ConvNormAct? { [conv1, conv2].first { $0.antiAliased } }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.optionalChild("downsample", &downsample)
        try w.child("conv1", &conv1)
        try w.child("conv2", &conv2)
        try w.optionalChild("se", &se)
        try w.optionalChild("conv3", &conv3)
    }
}
