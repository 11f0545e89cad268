import Testing
import TResNetCore

/// The one preprocessing validator (`.tw` headers, hub configs, the zoo and the command line all use it).
@Suite("PreprocessingConfig.problem")
struct PreprocessingValidatorTests {
    func problem(
        size: Int = 224, crop: Double = 0.875, mode: String = "center", interpolation: String = "bilinear",
        mean: [Double] = [0, 0, 0], std: [Double] = [1, 1, 1]
    ) -> String? {
        PreprocessingConfig.problem(
            inputSize: [3, size, size], cropPct: crop, cropMode: mode,
            interpolation: interpolation, mean: mean, std: std)?.key
    }

    @Test("timm's TResNet settings and the official 448 squash fit; each bound is named by its timm key")
    func bounds() {
        #expect(problem() == nil)
        #expect(problem(size: 448, crop: 1, mode: "squash", interpolation: "bicubic") == nil)
        #expect(problem(size: 0) == "input_size" && problem(size: 8193) == "input_size")
        #expect(problem(size: 8192, crop: 1) == nil && problem(size: 1, crop: 1) == nil)
        #expect(problem(crop: 0) == "crop_pct" && problem(crop: 4.5) == "crop_pct" && problem(crop: .nan) == "crop_pct")
        #expect(problem(crop: 4) == nil)
        #expect(problem(mode: "squish") == "crop_mode")
        #expect(problem(interpolation: "nearest") == "interpolation")
        #expect(problem(std: [1, 0, 1]) == "mean" && problem(mean: [0, 0]) == "mean")
    }

    @Test("a vanishing crop_pct is refused, never an overflow trap")
    func tinyCrop() {
        #expect(problem(crop: 1e-300) == "crop_pct")
        #expect(problem(crop: .leastNonzeroMagnitude) == "crop_pct")
    }
}
