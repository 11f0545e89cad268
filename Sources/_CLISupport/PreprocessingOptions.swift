import TResNetImage
/// The preprocessing overrides of the CLIs that read images (`tresnet-predict`, `tresnet-validate`); without
/// them the weights' own settings apply.
public struct PreprocessingOptions: ParsableArguments {
    @Option(name: .customLong("input-size"), help: "Override the network input side.")
    public var inputSize: Int?

    @Option(name: .customLong("crop-pct"), help: "Override the crop fraction (resize to floor(size / crop_pct)).")
    public var cropPct: Double?

    @Option(name: .customLong("crop-mode"), help: "Override: center or squash.")
    public var cropMode: String?

    @Option(help: "Override: bilinear or bicubic.")
    public var interpolation: String?

    @Flag(help: "The official MIIL 448 policy: squash to size × size, no crop (crop_pct 1, squash).")
    public var squish = false

    @Option(name: .customLong("max-pixels"),
            help: ArgumentHelp("Refuse images with more pixels than this (PIL's MAX_IMAGE_PIXELS; PIL only warns "
                               + "up to twice it).", valueName: "n"))
    public var maxPixels: Int = ImageLimits.pilMaxImagePixels

    public init() {}

    public mutating func validate() throws {
        guard maxPixels >= 1 else { throw ValidationError("--max-pixels must be at least 1") }
    }

    /// The image limits: `--max-pixels` and the documented memory budget (docs/IMAGES.md).
    public var limits: ImageLimits { ImageLimits(maxPixels: maxPixels) }

    public var overrides: PreprocessingOverrides {
        PreprocessingOverrides(inputSize: inputSize, cropPct: cropPct, cropMode: cropMode, interpolation: interpolation,
                               squish: squish)
    }
}
