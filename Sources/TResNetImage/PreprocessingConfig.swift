import TResNetCore

/// How an image becomes a network input: timm's eval transform settings (`pretrained_cfg`), carried by each
/// weight file and overridable from the command line.
///
/// - `center` (timm's default): resize the shorter side to `floor(inputSize / cropPct)`, centre-crop
///   `inputSize`.
/// - `squash`: resize both sides to `floor(inputSize / cropPct)` ignoring the aspect ratio, centre-crop
///   `inputSize`. With `cropPct` 1 this is the official MIIL 448 policy, `Resize((448, 448))` and no crop
///   (`PreprocessingConfig.officialSquish`).
///
/// Then `ToTensor` (`/255`) and `Normalize(mean, std)`; TResNet uses mean 0 and std 1.
public struct PreprocessingConfig: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum CropMode: String, Codable, Sendable, CaseIterable {
        case center, squash
    }

    /// The side of the square network input.
    public var inputSize: Int
    public var cropPct: Double
    public var cropMode: CropMode
    public var interpolation: Interpolation
    public var mean: [Float]
    public var std: [Float]

    /// timm's `pretrained_cfg` key names, in JSON as in metadata (docs/JSON.md).
    enum CodingKeys: String, CodingKey {
        case inputSize = "input_size", cropPct = "crop_pct", cropMode = "crop_mode", interpolation, mean, std
    }

    public init(
        inputSize: Int = PreprocessingDefaults.inputSide, cropPct: Double = PreprocessingDefaults.cropPct,
        cropMode: CropMode = CropMode(rawValue: PreprocessingDefaults.cropMode)!,
        interpolation: Interpolation = Interpolation(rawValue: PreprocessingDefaults.interpolation)!,
        mean: [Float] = PreprocessingDefaults.mean.map(Float.init),
        std: [Float] = PreprocessingDefaults.std.map(Float.init)
    ) {
        self.inputSize = inputSize
        self.cropPct = cropPct
        self.cropMode = cropMode
        self.interpolation = interpolation
        self.mean = mean
        self.std = std
    }

    /// timm's cfg for every published TResNet weight (docs/IMAGES.md): bilinear, crop 0.875, no mean/std.
    public static func timm(inputSize: Int = PreprocessingDefaults.inputSide) -> PreprocessingConfig {
        PreprocessingConfig(inputSize: inputSize)
    }

    /// The official MIIL inference policy for 448 weights: squash to `inputSize × inputSize`, no crop.
    public static func officialSquish(inputSize: Int = 448, interpolation: Interpolation = .bilinear)
        -> PreprocessingConfig
    {
        PreprocessingConfig(inputSize: inputSize, cropPct: 1.0, cropMode: .squash, interpolation: interpolation)
    }

    /// timm's resize target: `math.floor(inputSize / cropPct)`.
    public var scaleSize: Int { Int((Double(inputSize) / cropPct).rounded(.down)) }  // after validate(): in range

    /// Throws `.usage` naming the timm key unless the settings are within `PreprocessingBounds` (the one set of
    /// bounds of `.tw` headers, hub configs and the command line).
    public func validate() throws {
        if let (key, message) = PreprocessingBounds.problem(
            inputSize: [3, inputSize, inputSize], cropPct: cropPct, cropMode: cropMode.rawValue,
            interpolation: interpolation.rawValue, mean: mean.map(Double.init), std: std.map(Double.init))
        {
            throw TResNetError(.usage, at: .field(key), message)
        }
    }

    public var description: String {
        func list(_ v: [Float]) -> String { "(" + v.map { "\($0)" }.joined(separator: ", ") + ")" }
        return "input \(inputSize), crop_pct \(cropPct) (\(cropMode.rawValue), resize to \(scaleSize)), "
            + "\(interpolation.rawValue), mean \(list(mean)), std \(list(std))"
    }
}

extension PreprocessingConfig {
    /// The metadata keys, spelled as in timm's `pretrained_cfg`.
    public enum Key {
        public static let inputSize = "input_size"
        public static let cropPct = "crop_pct"
        public static let cropMode = "crop_mode"
        public static let interpolation = "interpolation"
        public static let mean = "mean"
        public static let std = "std"
    }

    /// Reads the settings from string metadata (a `.tw` header, a state dict's metadata), starting from
    /// `defaults` for keys that are absent. `input_size` may be `224`, `3,224,224` or `[3, 224, 224]`;
    /// `mean`/`std` are three numbers, comma separated, brackets optional.
    /// - Throws: `.malformed` naming the key when a value does not parse; `.usage` when `validate` fails.
    public init(metadata: [String: String], defaults: PreprocessingConfig = .timm()) throws {
        var c = defaults
        func numbers(_ key: String) throws -> [Double]? {
            guard let text = metadata[key] else { return nil }
            let trimmed = text.filter { !"[]() ".contains($0) }
            let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false)
            let values = parts.compactMap { Double($0) }
            guard !parts.isEmpty, values.count == parts.count else {
                throw TResNetError(.malformed, at: .field(key), "cannot read '\(displaySafe(text, limit: 60))'")
            }
            return values
        }
        if let v = try numbers(Key.inputSize) {
            guard let side = v.last, v.count == 1 || (v.count == 3 && v[1] == v[2]), let n = Int(exactly: side) else {
                throw TResNetError(.malformed, at: .field(Key.inputSize), "expected one square size, got \(v)")
            }
            c.inputSize = n
        }
        if let v = try numbers(Key.cropPct) {
            guard v.count == 1 else { throw TResNetError(.malformed, at: .field(Key.cropPct), "expected one number") }
            c.cropPct = v[0]
        }
        if let text = metadata[Key.cropMode] {
            guard let m = CropMode(rawValue: text) else {
                throw TResNetError(
                    .malformed, at: .field(Key.cropMode),
                    "'\(displaySafe(text, limit: 40))' is not center or squash")
            }
            c.cropMode = m
        }
        if let text = metadata[Key.interpolation] {
            guard let m = Interpolation(rawValue: text) else {
                throw TResNetError(
                    .malformed, at: .field(Key.interpolation),
                    "'\(displaySafe(text, limit: 40))' is not bilinear or bicubic")
            }
            c.interpolation = m
        }
        if let v = try numbers(Key.mean) { c.mean = v.map { Float($0) } }
        if let v = try numbers(Key.std) { c.std = v.map { Float($0) } }
        try c.validate()
        self = c
    }

    /// The settings as string metadata, readable by `init(metadata:)`.
    public var metadata: [String: String] {
        func list(_ v: [Float]) -> String { v.map { "\($0)" }.joined(separator: ",") }
        return [
            Key.inputSize: "3,\(inputSize),\(inputSize)", Key.cropPct: "\(cropPct)", Key.cropMode: cropMode.rawValue,
            Key.interpolation: interpolation.rawValue, Key.mean: list(mean), Key.std: list(std)
        ]
    }
}

/// Command-line overrides of a weight's preprocessing (`--input-size`, `--crop-pct`, `--crop-mode`,
/// `--interpolation`, `--squish`), shared by the CLIs.
public struct PreprocessingOverrides: Sendable, Equatable {
    public var inputSize: Int?
    public var cropPct: Double?
    public var cropMode: String?
    public var interpolation: String?
    /// The official MIIL 448 policy: squash, crop_pct 1 (wins over `cropPct` / `cropMode`).
    public var squish: Bool

    public init(
        inputSize: Int? = nil, cropPct: Double? = nil, cropMode: String? = nil, interpolation: String? = nil,
        squish: Bool = false
    ) {
        self.inputSize = inputSize
        self.cropPct = cropPct
        self.cropMode = cropMode
        self.interpolation = interpolation
        self.squish = squish
    }

    /// `base` with the overrides applied, validated.
    /// - Throws: `.usage` naming the flag when a value is not understood or out of range.
    public func applied(to base: PreprocessingConfig) throws -> PreprocessingConfig {
        var c = base
        if let inputSize { c.inputSize = inputSize }
        if let cropPct { c.cropPct = cropPct }
        if let cropMode {
            guard let m = PreprocessingConfig.CropMode(rawValue: cropMode) else {
                throw TResNetError(.usage, "--crop-mode must be center or squash, not '\(displaySafe(cropMode))'")
            }
            c.cropMode = m
        }
        if let interpolation {
            guard let m = Interpolation(rawValue: interpolation) else {
                throw TResNetError(
                    .usage,
                    "--interpolation must be bilinear or bicubic, not '\(displaySafe(interpolation))'")
            }
            c.interpolation = m
        }
        if squish {
            c.cropPct = 1.0
            c.cropMode = .squash
        }
        try c.validate()
        return c
    }
}
