/// The one set of bounds every preprocessing setting is checked against, wherever it comes from: a `.tw`
/// header (`preprocess.*`), a Hugging Face `config.json` (`pretrained_cfg`), the zoo catalog or the command line
/// (`--img-size`, `--crop-pct`, …). Keys are timm's `pretrained_cfg` names.
public enum PreprocessingBounds {
    /// Input side in pixels (height and width).
    public static let inputSide = 1...8192
    /// `crop_pct`: resize to floor(side / crop_pct); above 1 the crop is larger than the resized image.
    public static let cropPct = 0.0...4.0
    /// timm's `crop_mode` values the image pipeline implements.
    public static let cropModes = ["center", "squash"]
    /// timm's `interpolation` values the image pipeline implements (PIL's filters).
    public static let interpolations = ["bilinear", "bicubic"]

    /// The first setting out of bounds, as (timm key, message), or nil when all fit. `channels`: how many mean
    /// and std values there must be.
    public static func problem(
        inputSize: [Int], cropPct: Double, cropMode: String, interpolation: String,
        mean: [Double], std: [Double], channels: Int = 3
    ) -> (key: String, message: String)? {
        guard inputSize.count == 3, inputSize[0] == channels,
            inputSize.dropFirst().allSatisfy({ inputSide.contains($0) })
        else {
            return (
                "input_size",
                "must be [\(channels), H, W] with H and W in \(inputSide.lowerBound)…"
                    + "\(inputSide.upperBound), not \(formatShape(inputSize))"
            )
        }
        // the resize side floor(side / crop_pct) in 1…2·max, compared as a Double (a tiny crop_pct must not trap)
        let resizeSides = inputSize.dropFirst().map { (Double($0) / cropPct).rounded(.down) }
        guard cropPct.isFinite, cropPct > 0, cropPct <= Self.cropPct.upperBound,
            resizeSides.allSatisfy({ $0 >= 1 && $0 <= Double(2 * inputSide.upperBound) })
        else {
            return (
                "crop_pct",
                "must be in (0, \(Self.cropPct.upperBound)] with the resize side floor(size / crop_pct) "
                    + "in 1…\(2 * inputSide.upperBound), not \(cropPct)"
            )
        }
        guard cropModes.contains(cropMode) else {
            return ("crop_mode", "'\(displaySafe(cropMode, limit: 40))' is not " + cropModes.joined(separator: " or "))
        }
        guard interpolations.contains(interpolation) else {
            return (
                "interpolation",
                "'\(displaySafe(interpolation, limit: 40))' is not "
                    + interpolations.joined(separator: " or ")
            )
        }
        guard mean.count == channels, std.count == channels, mean.allSatisfy(\.isFinite),
            std.allSatisfy({ $0.isFinite && $0 > 0 })
        else {
            return ("mean", "mean and std need \(channels) finite values each, std positive")
        }
        return nil
    }
}

/// The one default: timm's `pretrained_cfg` for every published TResNet weight (224, crop_pct 0.875 centre,
/// bilinear, no mean/std normalisation). `ModelPreprocessing` (TResNetModel) and `PreprocessingConfig`
/// (TResNetImage) both start from it.
public enum PreprocessingDefaults {
    public static let inputSide = 224
    public static let cropPct = 0.875
    public static let cropMode = "center"
    public static let interpolation = "bilinear"
    public static let mean: [Double] = [0, 0, 0]
    public static let std: [Double] = [1, 1, 1]
}
