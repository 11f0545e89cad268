/// What a decoder knows once it has read the headers, before anything image-sized is allocated: the stored size,
/// the bytes it will hold itself while it hands out rows, and (PNG) the orientation an eXIf chunk before the image
/// data records. The caller checks its own buffers plus `decoderBytes` against `ImageLimits` at this point.
struct DecodeHeader {
    let format: String
    let width: Int
    let height: Int
    /// The decoder's own buffers: libjpeg's whole-image coefficient buffer (progressive or multi-scan JPEG) and
    /// its strip buffers, libpng's stored image (interlaced PNG), the row buffers.
    let decoderBytes: Int
    /// The orientation known from the headers (a PNG eXIf before IDAT; `.normal` for JPEG, whose EXIF the caller
    /// reads itself).
    let orientation: ExifOrientation
}

/// Receives the decoded rows, top to bottom as stored: row `y` as `width × 3` RGB bytes, valid during the call.
typealias RowHandler = (_ y: Int, _ rgb: UnsafeBufferPointer<UInt8>) -> Void
