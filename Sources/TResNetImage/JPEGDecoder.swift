import CJPEG
import TResNetCore

/// The one file that calls libjpeg(-turbo) (through the setjmp helpers in Sources/CJPEG/shim.h).
///
/// Decodes like PIL: libjpeg's defaults (islow IDCT, fancy upsampling); 1 component → gray, 3 → RGB (libjpeg
/// converts YCbCr), 4 → CMYK, which PIL always reads as Adobe-inverted (`CMYK;I`) and turns into RGB with
/// `cmyk2rgb`. Warnings are ignored as PIL ignores them, except a premature end of data (a truncated file).
enum JPEGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> RGBImage {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw TResNetError(.truncated, format: "jpeg", "empty file")
        }
        guard let j = tk_jpeg_new() else { throw TResNetError(.io, format: "jpeg", "out of memory") }
        defer { tk_jpeg_free(j) }
        func failure(_ stage: String) -> TResNetError {
            let message = String(cString: tk_jpeg_message(j))
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
        guard w > 0, h > 0, let pixels = Checked.multiply(w, h), pixels <= maximumImagePixels,
              let rowBytes = Checked.multiply(w, c), let total = Checked.multiply(rowBytes, h) else {
            throw TResNetError(.limitExceeded, format: "jpeg",
                               "\(w)×\(h) pixels is more than the \(maximumImagePixels) allowed")
        }
        var raw = [UInt8](repeating: 0, count: total)
        let status = raw.withUnsafeMutableBufferPointer { out in
            tk_jpeg_decode(j, out.baseAddress, rowBytes, h)
        }
        guard status == 0 else { throw failure("cannot decode") }
        switch c {
        case 3: return RGBImage(unchecked: w, h, raw)
        case 1: return PixelConversions.grayToRGB(raw, width: w, height: h)
        default: return PixelConversions.invertedCMYKToRGB(raw, width: w, height: h)
        }
    }
}
