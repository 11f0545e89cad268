import CPNG
import TResNetCore

/// The one file that calls libpng (through the setjmp helpers in Sources/CPNG/shim.h).
///
/// libpng only unpacks (sub-byte samples to one byte, interlacing undone); the conversion to RGB is PIL's
/// (`PngImagePlugin._MODES` raw modes, then `convert("RGB")`): 1/2/4-bit gray scaled to 0…255, 16-bit colour
/// keeps the high byte, 16-bit gray (`I;16`) is clipped at 255, palettes are looked up, alpha and `tRNS` are
/// dropped, and gamma, ICC and other colour chunks are ignored. An `eXIf` chunk's orientation is returned.
enum PNGDecoder {
    /// Decodes `bytes`: `start` sees the header (and may throw to refuse), then `row` every RGB row in order.
    /// Returns the orientation the eXIf chunk records, which PIL's `exif_transpose` honours; a chunk after the
    /// image data is only known then, and may differ from `DecodeHeader.orientation`. A non-interlaced image is
    /// decoded row by row; an interlaced one needs libpng's whole stored image first (in `decoderBytes`).
    static func decodeRows(
        _ bytes: UnsafeRawBufferPointer, limits: ImageLimits, start: (DecodeHeader) throws -> Void,
        row: RowHandler
    ) throws -> ExifOrientation {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw TResNetError(.truncated, format: "png", "empty file")
        }
        guard let p = tk_png_new() else { throw TResNetError(.io, format: "png", "out of memory") }
        defer { tk_png_free(p) }
        func failure(_ stage: String) -> TResNetError {
            let message = displaySafe(String(cString: tk_png_message(p)))
            if tk_png_truncated(p) != 0 { return TResNetError(.truncated, format: "png", message) }
            return TResNetError(.malformed, format: "png", "\(stage): \(message)")
        }
        var width: UInt32 = 0, height: UInt32 = 0
        var depth: Int32 = 0, colorType: Int32 = 0, interlaced: Int32 = 0
        var rowBytes = 0
        let header = tk_png_read_header(
            p, base, bytes.count, UInt64(max(limits.maxPixels, 0)), &width, &height,
            &depth, &colorType, &interlaced, &rowBytes)
        if header == -2 { try limits.checkPixels("png", width: Int(width), height: Int(height)) }
        guard header == 0 else { throw failure("cannot read the headers") }
        let w = Int(width), h = Int(height)
        let samples: Int
        switch colorType {
        case 0, 3: samples = 1
        case 2: samples = 3
        case 4: samples = 2
        case 6: samples = 4
        default: throw TResNetError(.unsupported, format: "png", "colour type \(colorType)")
        }
        let sampleBytes = depth == 16 ? 2 : 1
        try limits.checkPixels("png", width: w, height: h)
        guard let expected = Checked.product([w, samples, sampleBytes]), expected == rowBytes,
            let stored = Checked.multiply(rowBytes, h)
        else {
            throw TResNetError(.malformed, format: "png", "row size \(rowBytes) does not fit \(w) pixels")
        }
        var palette = [UInt8](repeating: 0, count: 768)
        let paletteCount =
            colorType == 3 ? palette.withUnsafeMutableBufferPointer { tk_png_palette(p, $0.baseAddress) } : 0
        if colorType == 3, paletteCount == 0 {
            throw TResNetError(.malformed, format: "png", "palette image without a PLTE chunk")
        }
        // libpng's two row buffers (current and previous, for the filters), our stored row, our RGB row; an
        // interlaced file: the whole stored image instead of our stored row
        let decoderBytes = 2 * rowBytes + (interlaced != 0 ? stored : rowBytes) + w * 3
        try start(
            DecodeHeader(
                format: "png", width: w, height: h, decoderBytes: decoderBytes, orientation: exifOrientation(p)))
        let format = RowFormat(
            colorType: Int(colorType), depth: Int(depth), palette: palette,
            paletteCount: Int(paletteCount))
        var rgb = [UInt8](repeating: 0, count: w * 3)
        var raw = [UInt8](repeating: 0, count: interlaced != 0 ? stored : rowBytes)
        if interlaced != 0 {
            let status = raw.withUnsafeMutableBufferPointer { tk_png_decode(p, $0.baseAddress, rowBytes, h) }
            guard status == 0 else { throw failure("cannot decode") }
        }
        var failed = false
        raw.withUnsafeMutableBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { out in
                for y in 0..<h {
                    // interlaced: row y of the whole stored image; else the one row buffer, read now
                    let offset = interlaced != 0 ? y * rowBytes : 0
                    let line = UnsafeMutableBufferPointer(rebasing: src[offset..<(offset + rowBytes)])
                    if interlaced == 0, tk_png_read_row(p, line.baseAddress) != 0 { failed = true; return }
                    format.convert(UnsafeBufferPointer(line), width: w, into: out)
                    row(y, UnsafeBufferPointer(out))
                }
            }
        }
        guard !failed else { throw failure("cannot decode") }
        _ = tk_png_read_end(p)  // trailing chunks: a broken or missing tail is ignored, as PIL ignores it
        return exifOrientation(p)
    }

    /// The orientation of the eXIf chunk read so far (normal when there is none).
    static func exifOrientation(_ p: UnsafeMutablePointer<tk_png>) -> ExifOrientation {
        var exifLength: UInt32 = 0
        guard let exif = tk_png_exif(p, &exifLength), exifLength > 0 else { return .normal }
        return ExifReader.orientation(tiff: UnsafeRawBufferPointer(start: exif, count: Int(exifLength))) ?? .normal
    }

    /// How one stored row becomes RGB.
    struct RowFormat {
        let colorType: Int
        let depth: Int
        let palette: [UInt8]
        let paletteCount: Int

        /// Converts the `width` pixels of the stored row `raw` into `out` (3 bytes a pixel).
        func convert(_ raw: UnsafeBufferPointer<UInt8>, width n: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
            func put(_ i: Int, _ r: UInt8, _ g: UInt8, _ b: UInt8) {
                out[3 * i] = r
                out[3 * i + 1] = g
                out[3 * i + 2] = b
            }
            switch (colorType, depth) {
            case (0, 16):  // I;16B → I;16 → RGB: values above 255 become 255 (PIL I16_RGB)
                for i in 0..<n {
                    let v = raw[2 * i] == 0 ? raw[2 * i + 1] : 255
                    put(i, v, v, v)
                }
            case (0, _):  // 1/2/4-bit gray are scaled to 0…255 (PIL "1", L;2, L;4), 8-bit kept
                let scale: UInt8 = depth == 1 ? 255 : depth == 2 ? 85 : depth == 4 ? 17 : 1
                for i in 0..<n {
                    let v = raw[i] &* scale
                    put(i, v, v, v)
                }
            case (2, _), (6, _), (4, _):  // RGB, RGBA, LA; 16-bit (RGB;16B, …): the high byte of each sample
                let b = depth == 16 ? 2 : 1, s = colorType == 2 ? 3 : colorType == 6 ? 4 : 2
                let (green, blue) = colorType == 4 ? (0, 0) : (b, 2 * b)  // LA: the gray sample in all three
                for i in 0..<n {
                    let px = b * s * i
                    put(i, raw[px], raw[px + green], raw[px + blue])
                }
            default:  // palette; an index past the PLTE entries is black in PIL 13
                for i in 0..<n {
                    let index = Int(raw[i])
                    if index < paletteCount {
                        put(i, palette[3 * index], palette[3 * index + 1], palette[3 * index + 2])
                    } else {
                        put(i, 0, 0, 0)
                    }
                }
            }
        }
    }
}
