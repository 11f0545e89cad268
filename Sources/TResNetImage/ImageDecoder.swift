import TResNetCore

/// Decodes JPEG and PNG files to 8-bit RGB the way `ImageOps.exif_transpose(Image.open(p)).convert("RGB")`
/// does in PIL: same libjpeg decode, same mode conversions, EXIF orientation applied (JPEG APP1, PNG eXIf).
/// The format is found from the first bytes, never from the file name.
public enum ImageDecoder {
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

    /// Decodes an in-memory file. The whole image is held (3 bytes a pixel, twice while the EXIF orientation
    /// turns it), so this is checked against `limits` before allocating; `Preprocessing.values(path:)` streams.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, applyOrientation: Bool = true, limits: ImageLimits = .default
    ) throws -> RGBImage {
        var out: [UInt8] = []
        var size = (0, 0)
        var used = ExifOrientation.normal
        // `.normal` unless applyOrientation (decodeRows returns the one it was given)
        let orientation = try decodeRows(
            bytes, limits: limits, orientation: applyOrientation ? nil : .normal,
            start: { header, oriented in
                size = (header.width, header.height)
                used = oriented
                try limits.checkMemory(
                    header.format, width: header.width, height: header.height,
                    bytes: ImageLimits.wholeImageBytes(
                        width: header.width, height: header.height, oriented: oriented != .normal,
                        decoderBytes: header.decoderBytes))
                out = [UInt8](repeating: 0, count: header.width * header.height * 3)
            },
            row: { y, rgb in
                let base = y * rgb.count
                out.withUnsafeMutableBufferPointer { dst in
                    _ = UnsafeMutableBufferPointer(rebasing: dst[base..<(base + rgb.count)]).update(fromContentsOf: rgb)
                }
            })
        if orientation != .normal, used == .normal {  // a PNG eXIf after the image data: the copy is still to come
            try limits.checkMemory(
                "png", width: size.0, height: size.1,
                bytes: ImageLimits.wholeImageBytes(
                    width: size.0, height: size.1, oriented: true, decoderBytes: 0))
        }
        return RGBImage(unchecked: size.0, size.1, out).oriented(orientation)
    }

    /// Decodes `bytes` row by row: `start` sees the header and the orientation that will be applied (`orientation`
    /// when given, else the file's as far as the headers tell: a JPEG's EXIF, a PNG's eXIf before the image data)
    /// and may throw to refuse; then `row` gets every stored RGB row. Returns the orientation the whole file
    /// records (`orientation` when given), which differs from the one `start` saw only for a PNG whose eXIf
    /// follows the image data.
    static func decodeRows(
        _ bytes: UnsafeRawBufferPointer, limits: ImageLimits, orientation: ExifOrientation?,
        start: (DecodeHeader, ExifOrientation) throws -> Void, row: RowHandler
    ) throws -> ExifOrientation {
        switch FileFormat.recognise(bytes) {  // from the signature, never the file name
        case .jpeg:
            let exif = orientation ?? ExifReader.jpegOrientation(bytes)
            try JPEGDecoder.decodeRows(bytes, limits: limits, start: { try start($0, exif) }, row: row)
            return exif
        case .png:
            let final = try PNGDecoder.decodeRows(
                bytes, limits: limits, start: { try start($0, orientation ?? $0.orientation) }, row: row)
            return orientation ?? final
        default:
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
