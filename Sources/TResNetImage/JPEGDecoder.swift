import CJPEG
import TResNetCore

/// The one file that calls libjpeg(-turbo) (through the setjmp helpers in Sources/CJPEG/shim.h).
///
/// Decodes like PIL: libjpeg's defaults (islow IDCT, fancy upsampling); 1 component → gray, 3 → RGB (libjpeg
/// converts YCbCr), 4 → CMYK, which PIL always reads as Adobe-inverted (`CMYK;I`) and turns into RGB with
/// `cmyk2rgb`. Warnings are ignored as PIL ignores them, except a premature end of data (a truncated file).
/// Rows are handed out one at a time (gray and CMYK converted per row), so the only image-sized buffer the decoder
/// holds is, for progressive or multi-scan files, libjpeg's coefficient buffer, reported in `DecodeHeader` before
/// it is allocated and capped inside libjpeg too.
enum JPEGDecoder {
    /// libjpeg's strip buffers (context rows for fancy upsampling, colour conversion), bounded by this many
    /// stored rows: at most 2 × 8 × the largest vertical sampling factor (4) rows are kept, per component.
    static let stripRows = 64

    /// Decodes `bytes`: `start` sees the header (and may throw to refuse), then `row` every RGB row in order.
    static func decodeRows(
        _ bytes: UnsafeRawBufferPointer, limits: ImageLimits, start: (DecodeHeader) throws -> Void,
        row: RowHandler
    ) throws {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw TResNetError(.truncated, format: "jpeg", "empty file")
        }
        guard let j = tk_jpeg_new() else { throw TResNetError(.io, format: "jpeg", "out of memory") }
        defer { tk_jpeg_free(j) }
        func failure(_ stage: String) -> TResNetError {
            let message = displaySafe(String(cString: tk_jpeg_message(j)))
            if tk_jpeg_too_many_scans(j) != 0 {
                return TResNetError(.limitExceeded, format: "jpeg", message)
            }
            if tk_jpeg_truncated(j) != 0 {
                return TResNetError(.truncated, format: "jpeg", "file is truncated (\(message))")
            }
            return TResNetError(.malformed, format: "jpeg", "\(stage): \(message)")
        }
        var width: Int32 = 0, height: Int32 = 0, components: Int32 = 0, colorSpace: Int32 = 0
        guard tk_jpeg_read_header(j, base, UInt(bytes.count), &width, &height, &components, &colorSpace) == 0 else {
            throw failure("cannot read the headers")
        }
        let w = Int(width), h = Int(height), c = Int(components)
        try limits.checkPixels("jpeg", width: w, height: h)
        var progressive: Int32 = 0
        let coefficients = Int(clamping: tk_jpeg_coefficient_bytes(j, &progressive))
        let rowBytes = w * c  // w × h ≤ maxPixels was checked, c ≤ 4
        // the coefficients, libjpeg's strips, one stored row and one RGB row
        let decoderBytes = coefficients + (Self.stripRows + 1) * rowBytes + w * 3
        try start(DecodeHeader(format: "jpeg", width: w, height: h, decoderBytes: decoderBytes, orientation: .normal))
        // libjpeg's own cap for its image-sized buffers, in case the estimate above missed one
        tk_jpeg_set_memory_limit(j, Int(clamping: max(limits.memoryBudget, coefficients + (16 << 20))))
        guard tk_jpeg_start(j, rowBytes, h) == 0 else { throw failure("cannot decode") }
        var rgb = [UInt8](repeating: 0, count: w * 3)
        var stored = [UInt8](repeating: 0, count: c == 3 ? 0 : rowBytes)
        var failed = false
        rgb.withUnsafeMutableBufferPointer { out in
            stored.withUnsafeMutableBufferPointer { tmp in
                for y in 0..<h {
                    if tk_jpeg_read_row(j, c == 3 ? out.baseAddress : tmp.baseAddress) != 0 { failed = true; return }
                    if c == 1 {
                        PixelConversions.grayToRGB(UnsafeBufferPointer(tmp), into: out)
                    } else if c != 3 {
                        PixelConversions.invertedCMYKToRGB(UnsafeBufferPointer(tmp), into: out)
                    }
                    row(y, UnsafeBufferPointer(out))
                }
            }
        }
        guard !failed, tk_jpeg_finish(j) == 0 else { throw failure("cannot decode") }
    }
}
