/// Pixel conversions to RGB exactly as PIL's unpackers and `Image.convert("RGB")` do them
/// (Pillow `Unpack.c`, `Convert.c`), one row (or any run of pixels) at a time.
enum PixelConversions {
    /// `L` → `RGB`: the gray value in all three channels.
    static func grayToRGB(_ gray: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) {
        for i in 0..<gray.count {
            let v = gray[i]
            out[3 * i] = v
            out[3 * i + 1] = v
            out[3 * i + 2] = v
        }
    }

    /// JPEG CMYK as PIL reads it: raw mode `CMYK;I` (every channel inverted, the Adobe convention), then
    /// `cmyk2rgb`: `channel = clip(nk − nk·c/255)` with `nk = 255 − k` and PIL's rounded `MULDIV255`.
    static func invertedCMYKToRGB(_ cmyk: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) {
        let n = cmyk.count / 4
        for i in 0..<n {
            // CMYK;I: PIL's K is 255 − stored, so nk = 255 − K is the stored byte; C, M, Y are 255 − stored
            let nk = Int(cmyk[4 * i + 3])
            for ch in 0..<3 {
                let c = 255 - Int(cmyk[4 * i + ch])
                out[3 * i + ch] = UInt8(clamping: nk - mulDiv255(c, nk))
            }
        }
    }

    /// PIL's `MULDIV255(a, b)`: `a·b/255` rounded, as `((t >> 8) + t) >> 8` with `t = a·b + 128`.
    @inline(__always) static func mulDiv255(_ a: Int, _ b: Int) -> Int {
        let t = a * b + 128
        return ((t >> 8) + t) >> 8
    }
}
