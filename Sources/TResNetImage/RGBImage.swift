import TResNetCore

/// An 8-bit RGB image, rows top to bottom, pixels interleaved `R G B` — what PIL's `convert("RGB")` holds.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height × width × 3` bytes.
    public let pixels: [UInt8]

    /// - Throws: `.malformed` when `pixels` does not hold `width × height × 3` bytes.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width >= 0, height >= 0, let n = Checked.product([width, height, 3]), n == pixels.count else {
            throw TResNetError(
                .malformed, format: "image",
                "\(pixels.count) bytes do not make a \(width)×\(height) RGB image")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// For callers that built `pixels` with the right size themselves.
    init(unchecked width: Int, _ height: Int, _ pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The `(r, g, b)` at column `x`, row `y`; nil outside the image.
    public func pixel(x: Int, y: Int) -> (UInt8, UInt8, UInt8)? {
        guard x >= 0, x < width, y >= 0, y < height else { return nil }
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}

/// The most pixels a decoded image may have: PIL's decompression-bomb error threshold (2 × 89 478 485).
public let maximumImagePixels = 2 * 89_478_485
