import TResNetCore
import TResNetImage
import TResNetKit
import TResNetZoo

extension PreprocessingConfig.CropMode: ExpressibleByArgument {}
extension Interpolation: ExpressibleByArgument {}

/// The preprocessing overrides of the CLIs that read images (`tresnet-predict`, `tresnet-validate`), named as
/// timm's validate.py names them (docs/CLI.md); without them the weights' own settings apply. Every value is
/// checked before any file is read (exit 64).
public struct PreprocessingOptions: ParsableArguments {
    @Option(
        name: .customLong("img-size"),
        help: ArgumentHelp(
            "Override the network input side (a multiple of 32, 32…8192).", valueName: "n"))
    public var imgSize: Int?

    @Option(name: .customLong("input-size"), help: .hidden)
    var inputSizeAlias: Int?

    @Option(name: .customLong("crop-pct"), help: "Override the crop fraction (resize to floor(size / crop_pct)).")
    public var cropPct: Double?

    @Option(name: .customLong("crop-mode"), help: "Override: center or squash.")
    public var cropMode: PreprocessingConfig.CropMode?

    @Option(help: "Override: bilinear or bicubic.")
    public var interpolation: Interpolation?

    @Flag(help: "The official MIIL 448 policy: squash to size × size, no crop (--crop-mode squash --crop-pct 1).")
    public var squash = false

    /// The old spelling of `--squash`, kept working but hidden (timm names the mode `squash`).
    @Flag(name: .customLong("squish"), help: .hidden)
    var squishAlias = false

    @Option(
        name: .customLong("max-pixels"),
        help: ArgumentHelp(
            "Refuse images with more pixels than this (PIL's MAX_IMAGE_PIXELS; PIL only warns "
                + "up to twice it).", valueName: "n"))
    public var maxPixels: Int = ImageLimits.pilMaxImagePixels

    public init() {}

    /// `--img-size` (or its old spelling `--input-size`).
    public var inputSize: Int? { imgSize ?? inputSizeAlias }

    public mutating func validate() throws {
        guard maxPixels >= 1 else { throw ValidationError("--max-pixels must be at least 1") }
        if imgSize != nil, inputSizeAlias != nil { throw ValidationError("give --img-size once") }
        if let size = inputSize {
            guard size >= 32, size <= 8192, size % 32 == 0 else {
                throw ValidationError(
                    "--img-size must be a multiple of 32 in 32…8192 (TResNet halves the input "
                        + "five times), not \(size)")
            }
        }
        if let cropPct, !(cropPct.isFinite && cropPct > 0 && cropPct <= PreprocessingConfig.cropPcts.upperBound) {
            throw ValidationError(
                "--crop-pct must be in (0, \(Int(PreprocessingConfig.cropPcts.upperBound))], not \(cropPct)")
        }
        do {
            _ = try applied(to: .tresnetDefault)
        } catch let error as TResNetError {
            throw ValidationError(error.message)
        }
    }

    /// The image limits: `--max-pixels` and the documented memory budget (docs/IMAGES.md).
    public var limits: ImageLimits { ImageLimits(maxPixels: maxPixels) }

    /// The image classifier of `loaded`: its preprocessing with these overrides (checked first), the class names
    /// `labels` gives (the label set's by default), these image limits and the compiled network.
    public func classifier(
        for loaded: LoadedModel, labels: (LoadedModel) throws -> [String]? = { try $0.labelNames()?.names }
    ) throws -> ImageClassifier {
        let config = try applied(to: loaded.preprocessing)
        return try ImageClassifier(
            preprocessing: config, labels: try labels(loaded), limits: limits, run: try loaded.batchRunner())
    }

    /// The weights' settings `base` with these overrides applied, validated (`.usage` naming the timm key).
    public func applied(to base: PreprocessingConfig) throws -> PreprocessingConfig {
        try base.applying(
            inputSize: inputSize, cropPct: cropPct, cropMode: cropMode, interpolation: interpolation,
            squash: squash || squishAlias)
    }
}
