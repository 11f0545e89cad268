import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// Legitimate images near PIL's pixel cap (Fixtures/gen_large_images.py writes them to the git-ignored
/// Fixtures/full/large/; skipped when absent): preprocessed by streaming within the 256 MiB bound (measured peak
/// RSS growth, the mapped file included), equal to timm's tensor (a sha256 from Pillow 13) and to the whole-image
/// path, which needs more than the budget. The progressive JPEG's coefficients alone exceed the budget: refused.
@Suite(.serialized) struct LargeImageTests {
    struct Record: Decodable {
        let pixels: Int
        let orientation: Int
        let bilinear224_sha256: String
    }

    struct Manifest: Decodable {
        let pillow: String
        let files: [String: Record]
    }

    static let folder = FixturePaths.full("large")
    static let bound = 256 << 20

    static func manifest() throws -> Manifest {
        let data = try Data(contentsOf: URL(fileURLWithPath: try #require(folder) + "/large.json"))
        return try JSONDecoder().decode(Manifest.self, from: data)
    }

    /// The sha256 of the crop as timm's uint8 `[3, H, W]`.
    static func chwDigest(_ image: RGBImage) -> String {
        let plane = image.width * image.height
        var chw = [UInt8](repeating: 0, count: plane * 3)
        for i in 0..<plane {
            for c in 0..<3 { chw[c * plane + i] = image.pixels[3 * i + c] }
        }
        return chw.withUnsafeBytes { SHA256Hex.of($0) }
    }

    @Test(
        "a baseline JPEG (EXIF 6) and a PNG near the pixel cap stream within 256 MiB and equal PIL and the whole path",
        .enabled(if: folder != nil, "Fixtures/full/large absent (Fixtures/gen_large_images.py)"),
        arguments: ["baseline_exif6_11184x8000.jpg", "plain_9459x9459.png"])
    func streamsWithinTheBound(_ name: String) throws {
        let record = try #require(try Self.manifest().files[name])
        let path = try #require(Self.folder) + "/" + name
        let pre = try Preprocessing(.timm(inputSize: 224))
        var streamed: RGBImage?
        let probe = try ResourceProbe.measure(attempts: 2, until: { $0.peakGrowthBytes < Self.bound }) {
            let store = try ByteStore.map(path: path)
            streamed = try pre.resizedAndCropped(bytes: store.bytes)
        }
        let crop = try #require(streamed)
        #expect(Self.chwDigest(crop) == record.bilinear224_sha256, "\(name): differs from timm + Pillow")
        #expect(probe.peakGrowthBytes < Self.bound, "\(name) streamed: \(probe)")
        // the whole-image path: the decoded image (3 bytes a pixel, twice while turning) is over the budget
        let e = try #require(throws: TResNetError.self) { try ImageDecoder.decode(path: path) }
        #expect(e.code == .limitExceeded && e.description.contains("image memory budget"), "\(e)")
        var whole: RGBImage?
        let wholeProbe = try ResourceProbe.measure {
            let image = try ImageDecoder.decode(path: path, limits: ImageLimits(memoryBudget: 1 << 30))
            #expect(image.width * image.height == record.pixels)
            whole = try pre.resizedAndCropped(image)
        }
        #expect(whole == crop, "\(name): the streamed crop differs from the whole image's")
        print("\(name): streamed \(probe); whole image \(wholeProbe)")
    }

    @Test(
        "a progressive JPEG near the cap: libjpeg's coefficients exceed the budget, refused before decoding",
        .enabled(if: folder != nil, "Fixtures/full/large absent (Fixtures/gen_large_images.py)"))
    func progressiveIsRefused() throws {
        let record = try #require(try Self.manifest().files["progressive_9459x9459.jpg"])
        let path = try #require(Self.folder) + "/progressive_9459x9459.jpg"
        let pre = try Preprocessing(.timm(inputSize: 224))
        let probe = try ResourceProbe.measure {
            let e = try #require(throws: TResNetError.self) { try pre.values(path: path) }
            #expect(e.code == .limitExceeded && e.description.contains("image memory budget"), "\(e)")
        }
        #expect(probe.peakGrowthBytes < 16 << 20, "refused from the header: \(probe)")
        // with a budget that holds the coefficients it streams, and equals PIL
        let roomy = try Preprocessing(.timm(inputSize: 224), limits: ImageLimits(memoryBudget: 512 << 20))
        var crop: RGBImage?
        let decoded = try ResourceProbe.measure {
            let store = try ByteStore.map(path: path)
            crop = try roomy.resizedAndCropped(bytes: store.bytes)
        }
        #expect(Self.chwDigest(try #require(crop)) == record.bilinear224_sha256)
        print("progressive_9459x9459.jpg: refused \(probe); with a 512 MiB budget \(decoded)")
    }
}
