import TResNetCore
import TResNetImage
import TResNetModel
import TResNetZoo

// `ModelPreprocessing` (what a `.tw` file records, TResNetModel) and `PreprocessingConfig` (what the image
// pipeline runs, TResNetImage) describe the same settings. They are kept apart for now and bridged here.

extension PreprocessingConfig {
    /// The image pipeline's settings from a model file's recorded preprocessing.
    /// - Throws: `.unsupported` for a non-square or non-RGB input size; `.malformed` naming the field for a crop
    ///   mode or interpolation the image pipeline does not implement; `.usage` when `validate()` refuses the values.
    public init(_ m: ModelPreprocessing) throws {
        guard m.inputSize.count == 3, m.inputSize[0] == 3, m.inputSize[1] == m.inputSize[2] else {
            throw TResNetError(
                .unsupported, format: "preprocessing", at: .field("preprocess.input_size"),
                "input size \(formatShape(m.inputSize)) is not a square RGB input [3, S, S]")
        }
        guard let mode = CropMode(rawValue: m.cropMode) else {
            throw TResNetError(
                .malformed, format: "preprocessing", at: .field("preprocess.crop_mode"),
                "'\(displaySafe(m.cropMode, limit: 40))' is not center or squash")
        }
        guard let interpolation = Interpolation(rawValue: m.interpolation) else {
            throw TResNetError(
                .malformed, format: "preprocessing", at: .field("preprocess.interpolation"),
                "'\(displaySafe(m.interpolation, limit: 40))' is not "
                    + Interpolation.allCases.map(\.rawValue).joined(separator: " or "))
        }
        self.init(
            inputSize: m.inputSize[2], cropPct: m.cropPct, cropMode: mode, interpolation: interpolation,
            mean: m.mean.map { Float($0) }, std: m.std.map { Float($0) })
        try validate()
    }
}

extension ModelPreprocessing {
    /// The settings to record in a model file for an image-pipeline configuration (mean and std widen from f32).
    public init(_ c: PreprocessingConfig) {
        self.init(
            inputSize: [3, c.inputSize, c.inputSize], mean: c.mean.map { Double($0) }, std: c.std.map { Double($0) },
            cropPct: c.cropPct, cropMode: c.cropMode.rawValue, interpolation: c.interpolation.rawValue)
    }

    /// A zoo entry's evaluation settings (`entry.preprocessing`, input side `entry.inputSize`).
    public init(zoo p: ZooPreprocessing, inputSize: Int) {
        self.init(
            inputSize: [3, inputSize, inputSize], mean: p.mean, std: p.std, cropPct: p.cropPct,
            cropMode: p.cropMode, interpolation: p.interpolation)
    }
}
