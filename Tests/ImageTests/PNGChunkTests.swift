import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// Hand-built PNGs for the chunk cases the fixtures do not cover: an eXIf after the image data (PIL honours it,
/// so the streaming path, which learns it only at the end, decodes again) and an eXIf over the chunk cap.
@Suite struct PNGChunkTests {
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return DecoderLimitTests.be32(UInt32(data.count)) + body + DecoderLimitTests.be32(NpzWriter.crc32(body))
    }

    /// An 8-bit RGB PNG of `image` (zlib stored blocks), with `exif` as an eXIf chunk before or after IDAT.
    static func png(_ image: RGBImage, exif: [UInt8]?, late: Bool) -> [UInt8] {
        var raw: [UInt8] = []
        for y in 0..<image.height {
            raw.append(0)  // filter: none
            raw += image.pixels[(y * image.width * 3)..<((y + 1) * image.width * 3)]
        }
        let n = UInt16(raw.count)  // small images only: one stored block
        var a: UInt32 = 1, b: UInt32 = 0
        for v in raw {
            a = (a + UInt32(v)) % 65521
            b = (b + a) % 65521
        }
        let zlib: [UInt8] =
            [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + raw
            + DecoderLimitTests.be32(b << 16 | a)
        let ihdr =
            DecoderLimitTests.be32(UInt32(image.width)) + DecoderLimitTests.be32(UInt32(image.height)) + [8, 2, 0, 0, 0]
        let exifChunk = exif.map { Self.chunk("eXIf", $0) } ?? []
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Self.chunk("IHDR", ihdr)
            + (late ? [] : exifChunk) + Self.chunk("IDAT", zlib) + (late ? exifChunk : []) + Self.chunk("IEND", [])
    }

    /// A big-endian TIFF with orientation `o`.
    static func tiff(_ o: Int) -> [UInt8] {
        [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, UInt8(o), 0, 0, 0, 0]
    }

    @Test("an eXIf after the image data is honoured by the streamed path too (decoded a second time)")
    func lateExifStreams() throws {
        var rng = SplitMix64(seed: 6)
        let image = StreamingResizeTests.random(width: 23, height: 11, &rng)
        let pre = try Preprocessing(.timm(inputSize: 8))
        for late in [false, true] {
            for o in ExifOrientation.allCases {
                let file = Self.png(image, exif: Self.tiff(o.rawValue), late: late)
                #expect(try ImageDecoder.decode(file) == image.oriented(o), "late \(late) \(o)")
                let streamed = try file.withUnsafeBytes { try pre.resizedAndCropped(bytes: $0) }
                #expect(streamed == (try pre.resizedAndCropped(image.oriented(o))), "late \(late) \(o)")
            }
        }
    }

    @Test("an eXIf declaring 2 GiB in a small file: truncated before the image data, ignored after it")
    func exifLongerThanTheFile() throws {
        var rng = SplitMix64(seed: 7)
        let image = StreamingResizeTests.random(width: 5, height: 3, &rng)
        let full = Self.png(image, exif: Self.tiff(6), late: false)
        // the eXIf chunk's length field (after the signature and IHDR) set to 2^31 − 1
        var early = full
        early.replaceSubrange(33..<37, with: DecoderLimitTests.be32(0x7FFF_FFFF))
        let e = try #require(throws: TResNetError.self) { try ImageDecoder.decode(early) }
        #expect(e.code == .truncated, "\(e)")
        #expect(e.description.contains("chunk eXIf at offset 33 declares 2147483647 bytes"), "\(e)")
        var late = Self.png(image, exif: Self.tiff(6), late: true)
        let at = late.count - 12 - (12 + 24)  // the eXIf before IEND
        late.replaceSubrange(at..<(at + 4), with: DecoderLimitTests.be32(0x7FFF_FFFF))
        #expect(try ImageDecoder.decode(late) == image)
    }
}
