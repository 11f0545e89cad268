import TResNetCore

/// Decodes JPEG and PNG files to 8-bit RGB the way `ImageOps.exif_transpose(Image.open(p)).convert("RGB")`
/// does in PIL: same libjpeg decode, same mode conversions, EXIF orientation applied (JPEG APP1, PNG eXIf).
/// The format is found from the first bytes, never from the file name.
public enum ImageDecoder {
    /// The container formats understood.
    public enum Format: String, Sendable {
        case jpeg, png
    }

    /// The format of `bytes` from its signature (`FileFormat.recognise`); nil when neither JPEG nor PNG.
    public static func format(of bytes: UnsafeRawBufferPointer) -> Format? {
        switch FileFormat.recognise(bytes) {
        case .jpeg: .jpeg
        case .png: .png
        default: nil
        }
    }

    /// Decodes the file at `path`.
    /// - Parameter applyOrientation: honour the EXIF orientation (default); false keeps the stored layout.
    /// - Throws: `TResNetError` naming the file: `.io` when it cannot be read, `.unsupported` for other formats,
    ///   `.truncated` / `.malformed` for broken files, `.limitExceeded` for images over `limits` (pixels or
    ///   memory), found from the header before the pixels are allocated.
    public static func decode(path: String, applyOrientation: Bool = true, limits: ImageLimits = .default) throws
        -> RGBImage
    {
        let store = try ByteStore.map(path: path)
        return try TResNetError.naming(path) {
            try decode(store.bytes, applyOrientation: applyOrientation, limits: limits)
        }
    }

    /// Decodes an in-memory file.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, applyOrientation: Bool = true,
        limits: ImageLimits = .default
    ) throws -> RGBImage {
        switch format(of: bytes) {
        case .jpeg:
            let orientation = applyOrientation ? ExifReader.jpegOrientation(bytes) : .normal
            let image = try JPEGDecoder.decode(bytes, limits: limits, oriented: orientation != .normal)
            return image.oriented(orientation)
        case .png:
            let (image, orientation) = try PNGDecoder.decode(bytes, limits: limits)
            return applyOrientation ? image.oriented(orientation) : image
        case nil:
            let head = bytes.prefix(8).map { String($0, radix: 16).leftPad(2) }.joined(separator: " ")
            throw TResNetError(
                .unsupported, format: "image",
                bytes.isEmpty ? "empty file" : "not a JPEG or PNG file (starts \(head))")
        }
    }

    /// Decodes an in-memory file.
    public static func decode(_ bytes: [UInt8], applyOrientation: Bool = true, limits: ImageLimits = .default) throws
        -> RGBImage
    {
        try bytes.withUnsafeBytes { try decode($0, applyOrientation: applyOrientation, limits: limits) }
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
