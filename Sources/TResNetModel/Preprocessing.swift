/// How images are prepared for a model: resize so the crop is `cropPct` of the shorter side, centre-crop to
/// `inputSize`, scale to [0, 1], then `(x - mean) / std` per channel.
public struct Preprocessing: Sendable, Hashable, Codable {
    /// `[channels, height, width]`.
    public var inputSize: [Int]
    public var mean: [Double]
    public var std: [Double]
    public var cropPct: Double
    public var interpolation: String

    public init(inputSize: [Int] = [3, 224, 224], mean: [Double] = [0, 0, 0], std: [Double] = [1, 1, 1],
                cropPct: Double = 0.875, interpolation: String = "bilinear") {
        self.inputSize = inputSize
        self.mean = mean
        self.std = std
        self.cropPct = cropPct
        self.interpolation = interpolation
    }

    /// Every published TResNet weight (timm cfg; tresnet.md §2.11, §7): 224, no mean/std, crop 0.875, bilinear.
    public static let tresnetDefault = Preprocessing()
}

/// Label set identifiers.
public enum LabelSet {
    /// `imagenet-1k` for 1000 classes, `imagenet-21k-miil` for 11221 (fall11 ImageNet-21K-P), empty otherwise.
    public static func id(numClasses: Int) -> String {
        switch numClasses {
        case 1000: return "imagenet-1k"
        case 11221: return "imagenet-21k-miil"
        default: return ""
        }
    }
}
