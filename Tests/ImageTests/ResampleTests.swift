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
                if PILResample.verticalFirst(from: (w, h), to: (ow, oh)) {
                    orders.verticalFirst += 1
                } else {
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

@Suite struct ResampleWindowTests {
    /// A window of the resize equals the same window cropped out of the full resize (which equals PIL's), for
    /// both pass orders and windows touching every edge.
    @Test func windowEqualsCropOfFullResize() throws {
        let pairs = [
            (97, 75, 73, 56), (64, 100, 32, 32), (100, 100, 52, 3), (45, 61, 80, 90), (300, 40, 7, 9),
            (80, 120, 80, 60), (80, 120, 40, 120)
        ]
        for (w, h, ow, oh) in pairs {
            let card = ResampleTests.pattern(width: w, height: h)
            for filter in Interpolation.allCases {
                let full = try PILResample.resize(card, width: ow, height: oh, filter: filter)
                for (cols, rows) in [
                    (0..<ow, 0..<oh), (1..<ow, 0..<(oh / 2 + 1)), ((ow / 3)..<ow, (oh / 4)..<oh),
                    (0..<1, (oh - 1)..<oh)
                ] {
                    let window = try PILResample.resize(
                        card, width: ow, height: oh, filter: filter, columns: cols,
                        rows: rows)
                    var expected: [UInt8] = []
                    for y in rows {
                        expected += full.pixels[((y * ow + cols.lowerBound) * 3)..<((y * ow + cols.upperBound) * 3)]
                    }
                    #expect(window.width == cols.count && window.height == rows.count)
                    #expect(window.pixels == expected, "\(w)×\(h) → \(ow)×\(oh) \(filter) window \(cols) × \(rows)")
                }
            }
        }
    }

    @Test func windowsOutsideTheImageAreRefused() throws {
        let card = ResampleTests.pattern(width: 10, height: 10)
        #expect(throws: TResNetError.self) {
            try PILResample.resize(card, width: 5, height: 5, filter: .bilinear, columns: 0..<6, rows: 0..<5)
        }
    }

    /// An extreme aspect ratio would need a huge resize; the crop window is computed alone, and a target past
    /// the pixel limit is refused instead of allocated.
    @Test func extremeAspectRatios() throws {
        let strip = ResampleTests.pattern(width: 4000, height: 2)
        let pre = try Preprocessing(.timm(inputSize: 32))
        let values = try pre.values(strip)  // resize to 73×146000 — only 32×32 of it is computed
        #expect(values.count == 3 * 32 * 32)
        let tall = RGBImage(unchecked: 1, 200_000, [UInt8](repeating: 7, count: 600_000))
        let big = try Preprocessing(.timm(inputSize: 2048))
        #expect(throws: TResNetError.self) { try big.resizedAndCropped(tall) }
    }
}
