import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// The PIL resample port against PIL's own `Image.resize` on many size pairs (gen_images.resample_cases).
@Suite struct ResampleTests {
    /// The generator's test card: `(x*x*31 + y*17 + x*y*7 + c*101 + (y*y*3) / (c+1)) % 256`.
    static func pattern(width w: Int, height h: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let v = (x * x * 31 + y * 17 + x * y * 7 + c * 101 + (y * y * 3) / (c + 1)) % 256
                    pixels[(y * w + x) * 3 + c] = UInt8(v)
                }
            }
        }
        return RGBImage(unchecked: w, h, pixels)
    }

    @Test func resizeEqualsPILOnEverySizePair() throws {
        let manifest = try ImageManifest.load()
        #expect(manifest.resample_cases.count >= 200)
        var orders = (horizontalFirst: 0, verticalFirst: 0)
        for fields in manifest.resample_cases {
            let w = try #require(fields[0].int), h = try #require(fields[1].int)
            let ow = try #require(fields[2].int), oh = try #require(fields[3].int)
            let filterName = try #require(fields[4].text)
            let filter = try #require(Interpolation(rawValue: filterName))
            let expected = try #require(fields[5].text)
            let out = try PILResample.resize(Self.pattern(width: w, height: h), width: ow, height: oh, filter: filter)
            let digest = out.pixels.withUnsafeBytes { SHA256Hex.of($0) }
            #expect(digest == expected, "\(w)×\(h) → \(ow)×\(oh) \(filter)")
            if ow != w, oh != h {
                if PILResample.verticalFirst(from: (w, h), to: (ow, oh)) { orders.verticalFirst += 1 } else {
                    orders.horizontalFirst += 1
                }
            }
        }
        // both pass orders are exercised
        #expect(orders.verticalFirst >= 20 && orders.horizontalFirst >= 20)
    }

    @Test func sameSizeIsACopyAndBadSizesAreRefused() throws {
        let card = Self.pattern(width: 9, height: 5)
        #expect(try PILResample.resize(card, width: 9, height: 5, filter: .bicubic) == card)
        #expect(throws: TResNetError.self) { try PILResample.resize(card, width: 0, height: 5, filter: .bilinear) }
    }
}
