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
        let squish = PreprocessingConfig.officialSquish()
        #expect(squish.inputSize == 448 && squish.scaleSize == 448 && squish.cropMode == .squash)
    }

    @Test func metadataRoundTripAndSpellings() throws {
        let c = PreprocessingConfig(inputSize: 448, cropPct: 0.9, cropMode: .squash, interpolation: .bicubic)
        #expect(try PreprocessingConfig(metadata: c.metadata) == c)
        let timmStyle = try PreprocessingConfig(metadata: [
            "input_size": "[3, 448, 448]", "crop_pct": "0.875",
            "interpolation": "bilinear", "mean": "(0.0, 0.0, 0.0)"
        ])
        #expect(timmStyle.inputSize == 448 && timmStyle.cropPct == 0.875)
        #expect(try PreprocessingConfig(metadata: [:]) == .timm())
    }

    @Test func badMetadataIsRefusedNamingTheKey() {
        for (key, value) in [
            ("input_size", "3,224,200"), ("input_size", "abc"), ("crop_pct", "0"),
            ("crop_mode", "border"), ("interpolation", "lanczos"), ("std", "1,0,1"), ("mean", "1,2")
        ] {
            let error = #expect(throws: TResNetError.self) { try PreprocessingConfig(metadata: [key: value]) }
            #expect(error?.description.contains(key) == true || error?.location != nil, "\(key)=\(value)")
        }
    }

    @Test func overrides() throws {
        let base = PreprocessingConfig.timm(inputSize: 448)
        let squished = try PreprocessingOverrides(squish: true).applied(to: base)
        #expect(squished == .officialSquish(inputSize: 448))
        let o = try PreprocessingOverrides(inputSize: 224, cropPct: 0.95, interpolation: "bicubic").applied(to: base)
        #expect(o.inputSize == 224 && o.cropPct == 0.95 && o.interpolation == .bicubic && o.cropMode == .center)
        #expect(throws: TResNetError.self) { try PreprocessingOverrides(cropMode: "zoom").applied(to: base) }
        #expect(throws: TResNetError.self) { try PreprocessingOverrides(inputSize: 0).applied(to: base) }
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
