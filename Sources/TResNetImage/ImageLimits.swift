import TResNetCore

/// How big an image may be before it is decoded: a pixel count (PIL's `Image.MAX_IMAGE_PIXELS`) and a memory
/// budget for the buffers decoding and preprocessing hold at once. Both are checked from the header, before any
/// image-sized allocation, so a small file that declares a huge image (a decompression bomb) is refused at once.
public struct ImageLimits: Sendable, Equatable {
    /// PIL's `Image.MAX_IMAGE_PIXELS` (1024 × 1024 × 1024 // 4 // 3). PIL warns above it and refuses above twice
    /// it; tresnet-kit refuses above it (raise it with `--max-pixels`).
    public static let pilMaxImagePixels = 89_478_485
    /// The documented bound on the image buffers of one decode + preprocess: 512 MiB.
    public static let defaultMemoryBudget = 512 << 20

    /// The most pixels (width × height as the header declares them) an image may have.
    public var maxPixels: Int
    /// The most bytes the image buffers of one decode + preprocess may hold at once (see `estimatedBytes`).
    public var memoryBudget: Int

    public init(maxPixels: Int = ImageLimits.pilMaxImagePixels, memoryBudget: Int = ImageLimits.defaultMemoryBudget) {
        self.maxPixels = maxPixels
        self.memoryBudget = memoryBudget
    }

    public static let `default` = ImageLimits()

    /// Refuses `width × height` over `maxPixels` (`.limitExceeded`).
    func checkPixels(_ format: String, width: Int, height: Int) throws {
        guard width > 0, height > 0, let pixels = Checked.multiply(width, height), pixels <= maxPixels else {
            throw TResNetError(
                .limitExceeded, format: format,
                "\(width)×\(height) pixels is more than the \(maxPixels) allowed (--max-pixels)")
        }
    }

    /// Refuses a decode whose buffers (`extraBytes` held by the decoder besides the RGB result) would exceed
    /// `memoryBudget` (`.limitExceeded`). The estimate is what decoding and preprocessing hold at once: the RGB
    /// image (3 bytes a pixel), a second copy when the EXIF orientation turns it, and `extraBytes`.
    func checkMemory(_ format: String, width: Int, height: Int, extraBytes: Int, oriented: Bool) throws {
        let total =
            Checked.product([width, height, 3, oriented ? 2 : 1]).flatMap { Checked.add($0, extraBytes) }
            ?? Int.max
        guard total <= memoryBudget else {
            throw TResNetError(
                .limitExceeded, format: format,
                "decoding \(width)×\(height) pixels needs \(Self.megabytes(total)) MB, more than the "
                    + "\(Self.megabytes(memoryBudget)) MB image memory budget")
        }
    }

    static func megabytes(_ bytes: Int) -> Int { bytes == Int.max ? Int.max : (bytes + 999_999) / 1_000_000 }
}
