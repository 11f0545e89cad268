import TResNetCore

/// How big an image may be before it is decoded: a pixel count (PIL's `Image.MAX_IMAGE_PIXELS`) and a memory
/// budget for the buffers decoding and preprocessing hold at once. Both are checked from the header, before any
/// image-sized allocation, so a small file that declares a huge image (a decompression bomb) is refused at once.
public struct ImageLimits: Sendable, Equatable {
    /// PIL's `Image.MAX_IMAGE_PIXELS` (1024 × 1024 × 1024 // 4 // 3). PIL warns above it and refuses above twice
    /// it; tresnet-kit refuses above it (raise it with `--max-pixels`).
    public static let pilMaxImagePixels = 89_478_485
    /// The documented bound on the image buffers of one decode + preprocess: 256 MiB. Preprocessing a file
    /// (`Preprocessing.values(path:)`) streams its rows into the resize, so any image up to `pilMaxImagePixels`
    /// fits it; decoding a whole `RGBImage` (`ImageDecoder.decode`) needs 3 bytes a pixel and may not.
    public static let defaultMemoryBudget = 256 << 20

    /// The most pixels (width × height as the header declares them) an image may have.
    public var maxPixels: Int
    /// The most bytes the image buffers of one decode + preprocess may hold at once (see `checkMemory`).
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

    /// Refuses a decode of `width × height` pixels whose buffers, `bytes` in all (the decoder's own, see
    /// `DecodeHeader.decoderBytes`, plus what the caller holds: a whole `RGBImage` or the streaming resize's
    /// buffers), would exceed `memoryBudget` (`.limitExceeded`). Checked before any of them is allocated.
    func checkMemory(_ format: String, width: Int, height: Int, bytes: Int?) throws {
        let total = bytes ?? Int.max
        guard total <= memoryBudget else {
            throw TResNetError(
                .limitExceeded, format: format,
                "decoding \(width)×\(height) pixels needs \(Self.megabytes(total)) MB, more than the "
                    + "\(Self.megabytes(memoryBudget)) MB image memory budget")
        }
    }

    /// The bytes a whole decoded image holds: the RGB result (3 bytes a pixel), a second copy when the EXIF
    /// orientation turns it, and the decoder's own buffers.
    static func wholeImageBytes(width: Int, height: Int, oriented: Bool, decoderBytes: Int) -> Int? {
        Checked.product([width, height, 3, oriented ? 2 : 1]).flatMap { Checked.add($0, decoderBytes) }
    }

    static func megabytes(_ bytes: Int) -> Int { bytes == Int.max ? Int.max : (bytes + 999_999) / 1_000_000 }
}
