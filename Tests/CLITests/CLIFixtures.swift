import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetCheckpoint
import TResNetCore
import TResNetModel

extension ImageManifest.Policy {
    /// The `tresnet-predict` / `tresnet-validate` flags for this policy.
    var flags: [String] {
        [
            "--img-size", String(img_size), "--crop-pct", String(crop_pct), "--crop-mode", crop_mode,
            "--interpolation", interpolation
        ]
    }

    /// The settings as a model file records them.
    var modelPreprocessing: PreprocessingConfig {
        get throws {
            PreprocessingConfig(
                inputSize: img_size, cropPct: crop_pct,
                cropMode: try #require(PreprocessingConfig.CropMode(rawValue: crop_mode)),
                interpolation: try #require(Interpolation(rawValue: interpolation)))
        }
    }
}

/// A built tool, or a test failure naming it.
func tool(_ name: String) throws -> String {
    try #require(builtTool(name), "build the \(name) product first (swift build)")
}

/// The reference arrays of a fixture `.npz`, by name.
func referenceArrays(_ file: String) throws -> [String: Tensor] {
    Dictionary(uniqueKeysWithValues: try NpzArchive.read(path: FixturePaths.tiny(file)).map { ($0.name, $0.tensor) })
}

/// Elementwise `|actual − expected| ≤ atol + rtol·|expected|` (docs/PARITY.md), the number of elements that fail.
func failingElements(_ actual: [Float], _ expected: [Float], atol: Double = 1e-4, rtol: Double = 1e-4) -> Int {
    zip(actual, expected).filter { abs(Double($0) - Double($1)) > atol + rtol * abs(Double($1)) }.count
}

/// `tiny_v1.pth` converted to a `.tw` that records `policy` as its preprocessing (no flags needed to run it).
func tinyTW(recording policy: ImageManifest.Policy) throws -> String {
    let out = FixturePaths.temporaryDirectory("tw") + "/tiny_v1.tw"
    var options = Conversion.Options()
    options.preprocessing = try policy.modelPreprocessing
    _ = try Conversion.convert(source: FixturePaths.tiny("tiny_v1.pth"), output: out, options: options)
    return out
}
