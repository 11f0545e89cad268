import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

@Suite struct DecoderErrorTests {
    static func path(_ name: String) -> String { ImageManifest.folder + "/" + name }

    /// The generator's broken files (PIL refuses both) give errors that name the file and say truncated.
    @Test func brokenFilesFailWithTheirPath() throws {
        let manifest = try ImageManifest.load()
        #expect(manifest.broken.map(\.file).sorted() == ["corrupt_truncated.jpg", "truncated.png"])
        for broken in manifest.broken {
            let p = Self.path(broken.file)
            let error = try #require(throws: TResNetError.self) { try ImageDecoder.decode(path: p) }
            #expect(error.code == .truncated, "\(broken.file): \(error)")
            #expect(error.file == p)
            #expect(error.description.hasPrefix(p + ": "))
            #expect(error.description.contains("truncated"), "\(error)")
        }
    }

    @Test func notAnImageAndEmptyAndMissingFiles() throws {
        let dir = FixturePaths.temporaryDirectory("decode")
        let text = dir + "/notes.jpg"
        try Data("just text, not a JPEG".utf8).write(to: URL(fileURLWithPath: text))
        let e1 = try #require(throws: TResNetError.self) { try ImageDecoder.decode(path: text) }
        #expect(e1.code == .unsupported && e1.file == text)
        #expect(e1.description.contains("not a JPEG or PNG"))

        let empty = dir + "/empty.png"
        try Data().write(to: URL(fileURLWithPath: empty))
        let e2 = try #require(throws: TResNetError.self) { try ImageDecoder.decode(path: empty) }
        #expect(e2.file == empty)

        let e3 = try #require(throws: TResNetError.self) { try ImageDecoder.decode(path: dir + "/absent.jpg") }
        #expect(e3.code == .io)
    }

    /// Every prefix of a good JPEG or PNG either throws a `TResNetError` (never traps) or — cut only after the
    /// image data, in the trailing chunks PIL does not need either — decodes to the full image.
    @Test func everyTruncationIsRefusedCleanly() throws {
        for name in ["progressive_80x120.jpg", "interlaced_81x67.png", "palette4_83x57.png"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.path(name))))
            let full = try ImageDecoder.decode(bytes)
            var refused = 0, cuts = 0
            for cut in Array(stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97))) + [bytes.count - 1] {
                cuts += 1
                do {
                    let image = try ImageDecoder.decode(Array(bytes[0..<cut]))
                    #expect(image == full && cut > bytes.count - 16, "\(name) cut at \(cut) decoded to something else")
                } catch is TResNetError {
                    refused += 1
                }
            }
            #expect(refused >= cuts - 2, "\(name): only \(refused) of \(cuts) prefixes refused")
        }
    }

    /// A JPEG whose entropy-coded data is overwritten still decodes (libjpeg warns, as PIL tolerates), but one
    /// with a broken frame header is refused.
    @Test func corruptHeadersAreRefused() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.path("baseline_97x75.jpg"))))
        // find SOF0 (FF C0) and zero its component count
        let sof = try #require((0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
        bytes[sof + 9] = 0
        let error = try #require(throws: TResNetError.self) { try ImageDecoder.decode(bytes) }
        #expect(error.code == .malformed && error.format == "jpeg", "\(error)")
    }
}

@Suite struct OrientationTests {
    /// EXIF orientation 3, 6 and 8 (JPEG APP1, PNG eXIf): decoded size swapped as PIL's exif_transpose does, pixels equal to PIL's
    /// (decodedPixelsEqualPIL), and equal to the stored image transposed by hand.
    @Test func exifOrientationIsHonoured() throws {
        let manifest = try ImageManifest.load()
        let rotated = manifest.images.filter { $0.orientation != 1 }
        #expect(Set(rotated.map(\.orientation)) == [3, 6, 8])
        #expect(Set(rotated.map(\.format)) == ["JPEG", "PNG"])  // APP1 Exif and the PNG eXIf chunk
        for record in rotated {
            let p = DecoderErrorTests.path(record.file)
            let stored = try ImageDecoder.decode(path: p, applyOrientation: false)
            #expect([stored.width, stored.height] == record.stored_size)
            let upright = try ImageDecoder.decode(path: p)
            #expect(upright.width == record.width && upright.height == record.height)
            let orientation = try #require(ExifOrientation(rawValue: record.orientation))
            #expect(upright == stored.oriented(orientation))
            #expect(orientation.swapsSides == (record.width != record.stored_size[0]))
            // the stored top-left pixel lands where the orientation says
            let corner = try #require(stored.pixel(x: 0, y: 0))
            let (cx, cy): (Int, Int) =
                switch orientation {
                case .rotate180: (upright.width - 1, upright.height - 1)
                case .rotate270: (upright.width - 1, 0)  // shown turned clockwise: top-left goes top-right
                case .rotate90: (0, upright.height - 1)  // counter-clockwise: top-left goes bottom-left
                default: (0, 0)
                }
            let moved = try #require(upright.pixel(x: cx, y: cy))
            #expect(moved == corner, "\(record.file)")
        }
    }

    @Test func allEightOrientationsRoundTrip() throws {
        let card = ResampleTests.pattern(width: 5, height: 3)
        for o in ExifOrientation.allCases {
            let turned = card.oriented(o)
            #expect((turned.width, turned.height) == (o.swapsSides ? (3, 5) : (5, 3)))
        }
        // transpose twice is the identity; rotate 90 then 270 is the identity
        #expect(card.oriented(.transpose).oriented(.transpose) == card)
        #expect(card.oriented(.rotate90).oriented(.rotate270) == card)
        #expect(card.oriented(.transverse).oriented(.transverse) == card)
    }

    /// A hostile EXIF block (offsets past the end, huge entry count) is ignored, never read out of bounds.
    @Test func malformedExifIsIgnored() throws {
        let tiffs: [[UInt8]] = [
            [0x49, 0x49, 42, 0, 0xFF, 0xFF, 0xFF, 0x7F],  // IFD offset far outside
            [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0xFF, 0xFF],  // 65535 entries, none present
            [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 9, 0, 0, 0],  // orientation 9
            [0x49, 0x49]
        ]
        for tiff in tiffs {
            let orientation = tiff.withUnsafeBytes { ExifReader.orientation(tiff: $0) }
            #expect(orientation == nil)
        }
        let good: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]
        #expect(good.withUnsafeBytes { ExifReader.orientation(tiff: $0) } == .rotate270)
    }
}

@Suite struct DecoderLimitTests {
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// A PNG header declaring 100000 × 100000 pixels is refused before libpng sizes a row or we allocate.
    @Test func hugePNGIsRefusedBeforeAllocation() throws {
        let ihdr: [UInt8] = Array("IHDR".utf8) + Self.be32(100_000) + Self.be32(100_000) + [8, 2, 0, 0, 0]
        let idat: [UInt8] = Array("IDAT".utf8)  // empty: png_read_info stops at the first IDAT
        let png =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Self.be32(13) + ihdr + Self.be32(Self.crc32(ihdr))
            + Self.be32(0) + idat + Self.be32(Self.crc32(idat))
        let error = try #require(throws: TResNetError.self) { try ImageDecoder.decode(png) }
        #expect(error.code == .limitExceeded, "\(error)")
    }

    /// A JPEG header declaring 60000 × 60000 pixels is refused before decoding.
    @Test func hugeJPEGIsRefusedBeforeAllocation() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: DecoderErrorTests.path("baseline_97x75.jpg"))))
        let sof = try #require((0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
        bytes[sof + 5] = 0xEA; bytes[sof + 6] = 0x60  // height 60000
        bytes[sof + 7] = 0xEA; bytes[sof + 8] = 0x60  // width 60000
        let error = try #require(throws: TResNetError.self) { try ImageDecoder.decode(bytes) }
        #expect(error.code == .limitExceeded, "\(error)")
    }

    /// A progressive JPEG whose last scan is repeated 1,100 times (libjpeg only warns about the bogus
    /// progression) is stopped at 1,000 scans instead of burning CPU.
    @Test func tooManyProgressiveScansAreRefused() throws {
        let bytes = [UInt8](
            try Data(contentsOf: URL(fileURLWithPath: DecoderErrorTests.path("progressive_80x120.jpg"))))
        let sos = try #require((0..<(bytes.count - 1)).last { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        let eoi = bytes.count - 2
        #expect(bytes[eoi] == 0xFF && bytes[eoi + 1] == 0xD9)
        let scan = Array(bytes[sos..<eoi])
        var bomb = Array(bytes[0..<eoi])
        for _ in 0..<1100 { bomb += scan }
        bomb += [0xFF, 0xD9]
        let error = try #require(throws: TResNetError.self) { try ImageDecoder.decode(bomb) }
        #expect(error.code == .limitExceeded && error.description.contains("scans"), "\(error)")
        // the same file with a few repeats still decodes (the limit is not hit by ordinary files)
        var fine = Array(bytes[0..<eoi])
        for _ in 0..<3 { fine += scan }
        fine += [0xFF, 0xD9]
        _ = try ImageDecoder.decode(fine)
    }
}
