/// How an image becomes a network input: timm's eval transform settings (`pretrained_cfg`), the one description
/// of preprocessing. A `.tw` header (`preprocess.*`), a Hugging Face `config.json` (`pretrained_cfg`), the zoo
/// catalog and the command line (`--img-size`, `--crop-pct`, `--crop-mode`, `--interpolation`, `--squash`) all
/// produce this type, checked by the one validator (`problem`), spelled with timm's keys everywhere.
///
/// - `center` (timm's default): resize the shorter side to `floor(inputSize / cropPct)`, centre-crop
///   `inputSize`.
/// - `squash`: resize both sides to `floor(inputSize / cropPct)` ignoring the aspect ratio, centre-crop
///   `inputSize`. With `cropPct` 1 this is the official MIIL 448 policy, `Resize((448, 448))` and no crop
///   (`PreprocessingConfig.officialSquash`).
///
/// Then `ToTensor` (`/255`) and `Normalize(mean, std)`; TResNet uses mean 0 and std 1.
public struct PreprocessingConfig: Codable, Sendable, Hashable, CustomStringConvertible {
    /// timm's `crop_mode` values the image pipeline implements.
    public enum CropMode: String, Codable, Sendable, CaseIterable {
        case center, squash
    }

    /// The side of the square network input (timm's `input_size` is `[3, inputSize, inputSize]`).
    public var inputSize: Int
    public var cropPct: Double
    public var cropMode: CropMode
    public var interpolation: Interpolation
    public var mean: [Double]
    public var std: [Double]

    /// The input sides the pipeline accepts (height and width, in pixels).
    public static let inputSides = 1...8192
    /// `crop_pct`: resize to floor(side / crop_pct); above 1 the crop is larger than the resized image.
    public static let cropPcts = 0.0...4.0

    public init(
        inputSize: Int = 224, cropPct: Double = 0.875, cropMode: CropMode = .center,
        interpolation: Interpolation = .bilinear, mean: [Double] = [0, 0, 0], std: [Double] = [1, 1, 1]
    ) {
        self.inputSize = inputSize
        self.cropPct = cropPct
        self.cropMode = cropMode
        self.interpolation = interpolation
        self.mean = mean
        self.std = std
    }

    /// The one default: timm's `pretrained_cfg` for every published TResNet weight (224, crop_pct 0.875 centre,
    /// bilinear, no mean/std normalisation; docs/IMAGES.md).
    public static let tresnetDefault = PreprocessingConfig()

    /// timm's cfg for every published TResNet weight at `inputSize`.
    public static func timm(inputSize: Int = 224) -> PreprocessingConfig { PreprocessingConfig(inputSize: inputSize) }

    /// The official MIIL inference policy for 448 weights: squash to `inputSize × inputSize`, no crop.
    public static func officialSquash(inputSize: Int = 448, interpolation: Interpolation = .bilinear)
        -> PreprocessingConfig
    {
        PreprocessingConfig(inputSize: inputSize, cropPct: 1.0, cropMode: .squash, interpolation: interpolation)
    }

    /// timm's resize target: `math.floor(inputSize / cropPct)`.
    public var scaleSize: Int { Int((Double(inputSize) / cropPct).rounded(.down)) }  // after validate(): in range

    /// timm's `input_size`: `[3, inputSize, inputSize]`.
    public var timmInputSize: [Int] { [3, inputSize, inputSize] }

    /// `self` with command-line overrides applied (nil: keep), validated. `squash` is the official MIIL 448
    /// policy (squash, crop_pct 1) and wins over `cropPct` and `cropMode`.
    /// - Throws: `.usage` naming the timm key when the result is out of bounds.
    public func applying(
        inputSize: Int? = nil, cropPct: Double? = nil, cropMode: CropMode? = nil, interpolation: Interpolation? = nil,
        squash: Bool = false
    ) throws -> PreprocessingConfig {
        var c = self
        if let inputSize { c.inputSize = inputSize }
        if let cropPct { c.cropPct = cropPct }
        if let cropMode { c.cropMode = cropMode }
        if let interpolation { c.interpolation = interpolation }
        if squash {
            c.cropPct = 1.0
            c.cropMode = .squash
        }
        try c.validate()
        return c
    }

    /// Throws `.usage` naming the timm key unless the settings are within bounds.
    public func validate() throws {
        if let (key, message) = Self.problem(
            inputSize: timmInputSize, cropPct: cropPct, cropMode: cropMode.rawValue,
            interpolation: interpolation.rawValue, mean: mean, std: std)
        {
            throw TResNetError(.usage, at: .field(key), message)
        }
    }

    public var description: String {
        func list(_ v: [Double]) -> String { "(" + v.map { "\($0)" }.joined(separator: ", ") + ")" }
        return "input \(inputSize), crop_pct \(cropPct) (\(cropMode.rawValue), resize to \(scaleSize)), "
            + "\(interpolation.rawValue), mean \(list(mean)), std \(list(std))"
    }

    /// timm's `pretrained_cfg` key names, in JSON as in metadata (docs/JSON.md).
    enum CodingKeys: String, CodingKey {
        case inputSize = "input_size", cropPct = "crop_pct", cropMode = "crop_mode", interpolation, mean, std
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let size = try c.decode([Int].self, forKey: .inputSize)
        guard size.count == 3, size[0] == 3, size[1] == size[2] else {
            throw DecodingError.dataCorruptedError(
                forKey: .inputSize, in: c, debugDescription: "input_size must be [3, S, S]")
        }
        self.init(
            inputSize: size[2], cropPct: try c.decode(Double.self, forKey: .cropPct),
            cropMode: try c.decode(CropMode.self, forKey: .cropMode),
            interpolation: try c.decode(Interpolation.self, forKey: .interpolation),
            mean: try c.decode([Double].self, forKey: .mean), std: try c.decode([Double].self, forKey: .std))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(timmInputSize, forKey: .inputSize)
        try c.encode(cropPct, forKey: .cropPct)
        try c.encode(cropMode, forKey: .cropMode)
        try c.encode(interpolation, forKey: .interpolation)
        try c.encode(mean, forKey: .mean)
        try c.encode(std, forKey: .std)
    }
}

/// PIL's resampling filters for `Image.resize` on 8-bit images, named as timm's `interpolation` names them.
public enum Interpolation: String, Codable, Sendable, CaseIterable {
    /// Triangle filter, support 1 (PIL `BILINEAR`).
    case bilinear
    /// Keys cubic with a = −0.5, support 2 (PIL `BICUBIC`).
    case bicubic
}

extension PreprocessingConfig {
    /// The one validator, on the values as a file or a command line gives them: the first setting out of
    /// bounds as (timm key, message), or nil when all fit.
    public static func problem(
        inputSize: [Int], cropPct: Double, cropMode: String, interpolation: String, mean: [Double], std: [Double]
    ) -> (key: String, message: String)? {
        guard inputSize.count == 3, inputSize[0] == 3, inputSize[1] == inputSize[2],
            inputSize.dropFirst().allSatisfy({ inputSides.contains($0) })
        else {
            return (
                "input_size",
                "must be [3, S, S] (square RGB) with S in \(inputSides.lowerBound)…\(inputSides.upperBound), "
                    + "not \(formatShape(inputSize))"
            )
        }
        // the resize side floor(side / crop_pct) in 1…2·max, compared as a Double (a tiny crop_pct must not trap)
        let resizeSide = (Double(inputSize[2]) / cropPct).rounded(.down)
        guard cropPct.isFinite, cropPct > 0, cropPct <= cropPcts.upperBound,
            resizeSide >= 1 && resizeSide <= Double(2 * inputSides.upperBound)
        else {
            return (
                "crop_pct",
                "must be in (0, \(cropPcts.upperBound)] with the resize side floor(size / crop_pct) "
                    + "in 1…\(2 * inputSides.upperBound), not \(cropPct)"
            )
        }
        guard CropMode(rawValue: cropMode) != nil else {
            return (
                "crop_mode",
                "'\(displaySafe(cropMode, limit: 40))' is not "
                    + CropMode.allCases.map(\.rawValue).joined(separator: " or ")
            )
        }
        guard Interpolation(rawValue: interpolation) != nil else {
            return (
                "interpolation",
                "'\(displaySafe(interpolation, limit: 40))' is not "
                    + Interpolation.allCases.map(\.rawValue).joined(separator: " or ")
            )
        }
        guard mean.count == 3, std.count == 3, mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 })
        else {
            return ("mean", "mean and std need 3 finite values each, std positive")
        }
        return nil
    }

    /// The settings from a file's values (a `.tw` header, a hub `config.json`), checked by `problem`.
    /// - Throws: whatever `fail(key, message)` makes of the first setting out of bounds (the caller names its
    ///   own field spelling, e.g. `preprocess.crop_pct` or `pretrained_cfg.crop_pct`).
    public init(
        checking inputSize: [Int], cropPct: Double, cropMode: String, interpolation: String, mean: [Double],
        std: [Double], fail: (_ key: String, _ message: String) -> any Error
    ) throws {
        if let (key, message) = Self.problem(
            inputSize: inputSize, cropPct: cropPct, cropMode: cropMode, interpolation: interpolation, mean: mean,
            std: std)
        {
            throw fail(key, message)
        }
        self.init(
            inputSize: inputSize[2], cropPct: cropPct, cropMode: CropMode(rawValue: cropMode)!,
            interpolation: Interpolation(rawValue: interpolation)!, mean: mean, std: std)
    }
}
