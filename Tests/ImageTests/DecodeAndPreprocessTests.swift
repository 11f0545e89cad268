import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// Decoding and preprocessing against PIL + timm (Fixtures/gen_images.py): every test image, every policy.
@Suite struct DecodeAndPreprocessTests {
    static func config(_ p: ImageManifest.Policy) throws -> PreprocessingConfig {
        PreprocessingConfig(
            inputSize: p.img_size, cropPct: p.crop_pct,
            cropMode: try #require(PreprocessingConfig.CropMode(rawValue: p.crop_mode)),
            interpolation: try #require(Interpolation(rawValue: p.interpolation)))
    }

    @Test func decodedPixelsEqualPIL() throws {
        let manifest = try ImageManifest.load()
        #expect(manifest.images.count >= 20)
        for record in manifest.images {
            let image = try ImageDecoder.decode(path: ImageManifest.folder + "/" + record.file)
            #expect(image.width == record.width && image.height == record.height, "\(record.file)")
            let digest = image.pixels.withUnsafeBytes { SHA256Hex.of($0) }
            #expect(digest == record.rgb_sha256, "\(record.file) (\(record.description)) decodes differently from PIL")
        }
    }

    @Test func pngCornerCasesDecodeLikePIL() throws {
        let manifest = try ImageManifest.load()
        #expect(manifest.decode_only.count >= 7)
        for record in manifest.decode_only {
            let image = try ImageDecoder.decode(path: ImageManifest.folder + "/" + record.file)
            #expect(image.width == record.width && image.height == record.height, "\(record.file)")
            let digest = image.pixels.withUnsafeBytes { SHA256Hex.of($0) }
            #expect(digest == record.rgb_sha256, "\(record.file) (\(record.description)) decodes differently from PIL")
        }
    }

    /// Every value within 1/255 of the reference tensor, and the fraction of exactly equal values measured.
    @Test func tensorsEqualTimmTransform() throws {
        let manifest = try ImageManifest.load()
        var total = 0, exact = 0, worst: Float = 0
        var perPolicy: [String: (Int, Int)] = [:]
        for record in manifest.images {
            let image = try ImageDecoder.decode(path: ImageManifest.folder + "/" + record.file)
            for (name, policy) in manifest.policies.sorted(by: { $0.key < $1.key }) {
                let file = try #require(record.references[name])
                let reference = try NPYUInt8.read(ImageManifest.folder + "/" + file)
                let pre = try Preprocessing(try Self.config(policy))
                let values = try pre.values(image)
                #expect(reference.shape == [3, policy.img_size, policy.img_size])
                try #require(values.count == reference.values.count, "\(record.file) \(name)")
                var same = 0, maxDiff: Float = 0
                for (v, r) in zip(values, reference.values) {
                    let d = abs(v - Float(r) / 255)
                    if d == 0 { same += 1 }
                    maxDiff = max(maxDiff, d)
                }
                #expect(maxDiff <= 1.0 / 255 + 1e-7, "\(record.file) \(name): max difference \(maxDiff * 255)/255")
                if same != values.count {
                    print(
                        "\(record.file) \(name): \(values.count - same) of \(values.count) values differ, "
                            + "max \(maxDiff * 255)/255")
                }
                total += values.count
                exact += same
                worst = max(worst, maxDiff)
                let p = perPolicy[name] ?? (0, 0)
                perPolicy[name] = (p.0 + same, p.1 + values.count)
            }
        }
        let fraction = Double(exact) / Double(total)
        print(
            "preprocessing parity: \(exact) of \(total) values identical (\(fraction * 100)%), worst \(worst * 255)/255; "
                + perPolicy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.0)/\($0.value.1)" }.joined(
                    separator: ", "))
        #expect(fraction == 1.0)
    }
}
