import Foundation
import Testing
import TResNetCore
@testable import TResNetImage

@Suite struct PreprocessingConfigTests {
    @Test func timmDefaultsAndScaleSize() {
        let c = PreprocessingConfig.timm()
        #expect(c.inputSize == 224 && c.cropPct == 0.875 && c.cropMode == .center && c.interpolation == .bilinear)
        #expect(c.mean == [0, 0, 0] && c.std == [1, 1, 1])
        #expect(c.scaleSize == 256)  // math.floor(224 / 0.875)
        #expect(PreprocessingConfig.timm(inputSize: 448).scaleSize == 512)
        let squish = PreprocessingConfig.officialSquash()
        #expect(squish.inputSize == 448 && squish.scaleSize == 448 && squish.cropMode == .squash)
    }

    /// One spelling: timm's `pretrained_cfg` keys, `input_size` as `[3, S, S]`, in JSON as in `.tw` metadata.
    @Test func jsonRoundTripAndSpelling() throws {
        let c = PreprocessingConfig(inputSize: 448, cropPct: 0.9, cropMode: .squash, interpolation: .bicubic)
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(PreprocessingConfig.self, from: data) == c)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["input_size", "crop_pct", "crop_mode", "interpolation", "mean", "std"])
        #expect(object["input_size"] as? [Int] == [3, 448, 448] && object["crop_mode"] as? String == "squash")
    }

    @Test func badValuesAreRefusedNamingTheKey() {
        for (key, size, crop, mode, interpolation, std): (String, [Int], Double, String, String, [Double]) in [
            ("input_size", [3, 224, 200], 0.875, "center", "bilinear", [1, 1, 1]),
            ("input_size", [224], 0.875, "center", "bilinear", [1, 1, 1]),
            ("crop_pct", [3, 224, 224], 0, "center", "bilinear", [1, 1, 1]),
            ("crop_mode", [3, 224, 224], 0.875, "border", "bilinear", [1, 1, 1]),
            ("interpolation", [3, 224, 224], 0.875, "center", "lanczos", [1, 1, 1]),
            ("mean", [3, 224, 224], 0.875, "center", "bilinear", [1, 0, 1])
        ] {
            let error = #expect(throws: TResNetError.self) {
                try PreprocessingConfig(
                    checking: size, cropPct: crop, cropMode: mode, interpolation: interpolation, mean: [0, 0, 0],
                    std: std, fail: { TResNetError(.malformed, at: .field($0), $1) })
            }
            #expect(error?.location?.description == TResNetError.Location.field(key).description, "\(key)")
        }
    }

    @Test func overrides() throws {
        let base = PreprocessingConfig.timm(inputSize: 448)
        let squashed = try base.applying(squash: true)
        #expect(squashed == .officialSquash(inputSize: 448))
        let o = try base.applying(inputSize: 224, cropPct: 0.95, interpolation: .bicubic)
        #expect(o.inputSize == 224 && o.cropPct == 0.95 && o.interpolation == .bicubic && o.cropMode == .center)
        #expect(throws: TResNetError.self) { try base.applying(cropPct: 0) }
        #expect(throws: TResNetError.self) { try base.applying(inputSize: 0) }
    }

    /// torchvision's output size rule and crop offsets (round half to even). The expected values were printed by
    /// torchvision 0.29.2 (`F._compute_resized_output_size`, `int(round((h - th) / 2.0))`) and Python's
    /// `math.floor(224 / 0.875)`; the image fixtures check the same rules end to end.
    @Test func resizeTargetAndCropWindow() throws {
        let pre = try Preprocessing(.timm(inputSize: 64))  // scale 73
        #expect(pre.resizeTarget(width: 97, height: 75) == (94, 73))  // int(73 * 97 / 75) = 94
        #expect(pre.resizeTarget(width: 80, height: 120) == (73, 109))  // int(73 * 120 / 80) = 109
        #expect(Preprocessing.centerCropWindow(width: 73, height: 109, size: 64) == (4, 22))  // round(4.5) = 4
        #expect(Preprocessing.centerCropWindow(width: 19, height: 25, size: 24) == (-2, 0))  // pad (5 // 2) left
    }
}
