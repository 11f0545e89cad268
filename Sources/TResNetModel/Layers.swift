import TResNetCore

/// How a conv's normalisation is stored.
public enum Normalization: String, Sendable, Codable, Hashable {
    /// Conv without bias, then BatchNorm (`conv.weight` + `bn.{weight,bias,running_mean,running_var}`).
    case batchNorm = "batchnorm"
    /// BatchNorm folded into the conv (`conv.weight` + `conv.bias`), as in BN-folded ONNX graphs.
    case folded
}

/// The activation after a conv+norm.
public enum Activation: Sendable, Hashable {
    case identity
    case leakyReLU(slope: Float)
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

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, activation: Activation, antiAliased: Bool = false,
                normalization: Normalization) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.activation = activation
        self.antiAliased = antiAliased
        self.normalization = normalization
    }

    public var kind: String { "ConvNormAct" }

    public func walk(_ w: inout ParameterWalker) {
        w.child("conv", Conv2d(inChannels: inChannels, outChannels: outChannels, kernel: kernel,
                               bias: normalization == .folded))
        if normalization == .batchNorm { w.child("bn", BatchNorm2d(channels: outChannels)) }
    }
}

/// `nn.Conv2d` (groups 1).
public struct Conv2d: Layer {
    public var inChannels: Int
    public var outChannels: Int
    public var kernel: Int
    public var bias: Bool
    public var kind: String { "Conv2d" }

    public func walk(_ w: inout ParameterWalker) {
        w.tensor("weight", [outChannels, inChannels, kernel, kernel])
        if bias { w.tensor("bias", [outChannels]) }
    }
}

/// `nn.BatchNorm2d` (eps 1e-5), eval mode.
public struct BatchNorm2d: Layer {
    public var channels: Int
    public static let epsilon: Float = 1e-5
    public var kind: String { "BatchNorm2d" }

    public func walk(_ w: inout ParameterWalker) {
        w.tensor("weight", [channels])
        w.tensor("bias", [channels])
        w.tensor("running_mean", [channels], .buffer)
        w.tensor("running_var", [channels], .buffer)
        w.tensor("num_batches_tracked", [], .optionalBuffer, dtype: .int64)
    }
}

/// `nn.Linear`.
public struct Linear: Layer {
    public var inFeatures: Int
    public var outFeatures: Int
    public var kind: String { "Linear" }

    public func walk(_ w: inout ParameterWalker) {
        w.tensor("weight", [outFeatures, inFeatures])
        w.tensor("bias", [outFeatures])
    }
}

/// Squeeze-and-excitation: mean over H,W → 1×1 conv (+bias) → ReLU → 1×1 conv (+bias) → sigmoid → scale.
public struct SqueezeExcite: Layer {
    public var channels: Int
    public var reduction: Int
    public var kind: String { "SEModule" }

    public func walk(_ w: inout ParameterWalker) {
        w.child("fc1", Conv2d(inChannels: channels, outChannels: reduction, kernel: 1, bias: true))
        w.child("fc2", Conv2d(inChannels: reduction, outChannels: channels, kernel: 1, bias: true))
    }
}

/// The shortcut projection of block 0: `downsample.0` = AvgPool2d(2, ceil, no pad count) then
/// `downsample.1` = conv1×1 + BN, or (v2 layer1, stride 1) just `downsample.0` = conv1×1 + BN.
public struct Projection: Layer {
    public var pooled: Bool
    public var conv: ConvNormAct
    public var kind: String { "Sequential" }

    public func walk(_ w: inout ParameterWalker) {
        w.child(pooled ? "1" : "0", conv)
    }
}

/// A residual block: BasicBlock (conv1 3×3, conv2 3×3, SE on the output) or Bottleneck (conv1 1×1,
/// conv2 3×3, SE on the mid channels, conv3 1×1). State-dict order: downsample, conv1, conv2, se, conv3.
public struct ResidualBlock: Layer {
    public var blockKind: TResNetConfiguration.BlockKind
    public var stride: Int
    public var downsample: Projection?
    public var conv1: ConvNormAct
    public var conv2: ConvNormAct
    public var se: SqueezeExcite?
    public var conv3: ConvNormAct?
    public var kind: String { blockKind == .basic ? "BasicBlock" : "Bottleneck" }

    public func walk(_ w: inout ParameterWalker) {
        if let downsample { w.child("downsample", downsample) }
        w.child("conv1", conv1)
        w.child("conv2", conv2)
        if let se { w.child("se", se) }
        if let conv3 { w.child("conv3", conv3) }
    }
}
