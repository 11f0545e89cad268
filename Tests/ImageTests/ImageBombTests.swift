import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// Decompression bombs (issue 20 #1): small files whose headers declare 13000×13000 (Fixtures/gen_bombs.py).
/// Refused from the header, by the pixel cap (PIL's MAX_IMAGE_PIXELS) or, when the cap is raised, by the memory
/// budget, before anything image-sized is allocated.
@Suite struct ImageBombTests {
    static let bombs = ["png_rgba16_13000.png", "jpeg_baseline_13000.jpg", "jpeg_progressive_13000.jpg"]
    static func path(_ name: String) -> String { FixturePaths.tiny("bombs/" + name) }

    @Test("each bomb is a few kB that declares 13000×13000")
    func bombsAreSmall() throws {
        for name in Self.bombs {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: Self.path(name))[.size] as? Int)
            #expect(size < 12_000, "\(name): \(size) bytes")
        }
    }

    @Test("the default limit is PIL's MAX_IMAGE_PIXELS and refuses 169,000,000 pixels from the header")
    func refusedByThePixelCap() throws {
        #expect(ImageLimits.default.maxPixels == 89_478_485)
        for name in Self.bombs {
            let probe = try ResourceProbe.measure {
                let e = try #require(throws: TResNetError.self) { try ImageDecoder.decode(path: Self.path(name)) }
                #expect(e.code == .limitExceeded, "\(name): \(e)")
                #expect(e.description.contains("13000×13000 pixels is more than the 89478485 allowed"), "\(e)")
                #expect(e.file == Self.path(name))
            }
            #expect(probe.peakGrowthBytes < 256 << 20, "\(name): peak grew \(probe.peakGrowthBytes) bytes")
        }
    }

    @Test("with the cap raised past them, the memory budget refuses them before allocating")
    func refusedByTheMemoryBudget() throws {
        let limits = ImageLimits(maxPixels: 2 * 89_478_485, memoryBudget: 256 << 20)
        for name in Self.bombs {
            let e = try #require(throws: TResNetError.self) {
                try ImageDecoder.decode(path: Self.path(name), limits: limits)
            }
            #expect(e.code == .limitExceeded, "\(name): \(e)")
            #expect(e.description.contains("image memory budget"), "\(e)")
        }
        // the progressive file needs its coefficients too: refused under the default budget as well
        let progressive = try #require(throws: TResNetError.self) {
            try ImageDecoder.decode(
                path: Self.path("jpeg_progressive_13000.jpg"),
                limits: ImageLimits(maxPixels: 2 * 89_478_485))
        }
        #expect(progressive.description.contains("image memory budget"), "\(progressive)")
    }

    @Test("with the cap raised, the baseline bomb streams into the resize within the bound; whole, it is refused")
    func baselineBombStreams() throws {
        let limits = ImageLimits(maxPixels: 2 * 89_478_485)
        let path = Self.path("jpeg_baseline_13000.jpg")
        let pre = try Preprocessing(.timm(inputSize: 64), limits: limits)
        var values: [Float] = []
        let probe = try ResourceProbe.measure(attempts: 2, until: { $0.peakGrowthBytes < 256 << 20 }) {
            values = try pre.values(path: path)
        }
        #expect(values.count == 3 * 64 * 64)
        #expect(probe.peakGrowthBytes < 256 << 20, "\(probe)")
        print("jpeg_baseline_13000.jpg streamed: \(probe)")
        let e = try #require(throws: TResNetError.self) { try ImageDecoder.decode(path: path, limits: limits) }
        #expect(e.description.contains("image memory budget"), "\(e)")
    }

    @Test("limits below an ordinary image refuse it; the default decodes it unchanged")
    func smallLimits() throws {
        let p = ImageManifest.folder + "/" + (try ImageManifest.load()).images[0].file
        let image = try ImageDecoder.decode(path: p)
        let tight = ImageLimits(maxPixels: image.width * image.height - 1)
        #expect(throws: TResNetError.self) { try ImageDecoder.decode(path: p, limits: tight) }
        let exact = ImageLimits(maxPixels: image.width * image.height)
        #expect(try ImageDecoder.decode(path: p, limits: exact) == image)
        let noMemory = ImageLimits(memoryBudget: image.width * image.height * 3 - 1)
        #expect(throws: TResNetError.self) { try ImageDecoder.decode(path: p, limits: noMemory) }
    }
}
