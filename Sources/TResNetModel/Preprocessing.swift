import TResNetCore

/// The preprocessing a model file records (docs/FORMAT.md §4, `preprocess.*`): resize (shorter side to
/// `floor(size / cropPct)` for `center`, both sides for `squash`), centre-crop to `inputSize`, scale to [0, 1],
/// then `(x - mean) / std` per channel. The image pipeline (`TResNetImage.PreprocessingConfig`) is built from it.
public struct ModelPreprocessing: Sendable, Hashable, Codable {
    /// `[channels, height, width]`.
    public var inputSize: [Int]
    public var mean: [Double]
    public var std: [Double]
    public var cropPct: Double
    /// `center` (timm) or `squash` (official MIIL 448 / 21K: resize to a square, no aspect ratio kept).
    public var cropMode: String
    /// `bilinear`, `bicubic`, … (PIL filter names as timm spells them).
    public var interpolation: String

    public init(
        inputSize: [Int] = [3, PreprocessingDefaults.inputSide, PreprocessingDefaults.inputSide],
        mean: [Double] = PreprocessingDefaults.mean, std: [Double] = PreprocessingDefaults.std,
        cropPct: Double = PreprocessingDefaults.cropPct, cropMode: String = PreprocessingDefaults.cropMode,
        interpolation: String = PreprocessingDefaults.interpolation
    ) {
        self.inputSize = inputSize
        self.mean = mean
        self.std = std
        self.cropPct = cropPct
        self.cropMode = cropMode
        self.interpolation = interpolation
    }

    /// Every published TResNet weight (timm cfg; docs/TRESNET.md, §7): 224, no mean/std, crop 0.875 centre,
    /// bilinear.
    public static let tresnetDefault = ModelPreprocessing()
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
