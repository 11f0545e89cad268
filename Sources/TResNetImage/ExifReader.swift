/// Finds the EXIF orientation of a JPEG: walks the marker segments up to the first scan, takes the first APP1
/// segment that starts `Exif\0\0` (PIL keeps the first one as the EXIF header), and reads tag 0x0112 from
/// IFD0 of its TIFF structure, in either byte order.
///
/// Every read is bounded by the segment. A missing, malformed or out-of-range orientation is `.normal`, as in
/// PIL, where `exif_transpose` leaves such an image as it is.
public enum ExifReader {
    /// The orientation recorded in the JPEG `bytes` (the first EXIF APP1 segment before the first scan); `.normal`
    /// when there is none.
    public static func jpegOrientation(_ bytes: UnsafeRawBufferPointer) -> ExifOrientation {
        let n = bytes.count
        guard n >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return .normal }
        var i = 2
        while i < n {
            guard bytes[i] == 0xFF else { i += 1; continue }  // junk between segments: skip, like PIL
            while i < n, bytes[i] == 0xFF { i += 1 }  // fill bytes
            guard i < n else { return .normal }
            let marker = bytes[i]
            i += 1
            if marker == 0xDA || marker == 0xD9 { return .normal }  // start of scan / end of image
            if marker == 0x01 || (0xD0...0xD8).contains(marker) || marker == 0x00 { continue }  // no length
            guard i + 2 <= n else { return .normal }
            let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
            guard length >= 2, i + length <= n else { return .normal }
            let start = i + 2, end = i + length
            if marker == 0xE1, end - start >= 6,
                Array(bytes[start..<(start + 6)]) == [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]
            {
                return orientation(tiff: UnsafeRawBufferPointer(rebasing: bytes[(start + 6)..<end])) ?? .normal
            }
            i = end
        }
        return .normal
    }

    /// Tag 0x0112 of IFD0 in a TIFF structure; nil when absent, malformed or not 1…8.
    static func orientation(tiff: UnsafeRawBufferPointer) -> ExifOrientation? {
        guard tiff.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): bigEndian = false
        case (0x4D, 0x4D): bigEndian = true
        default: return nil
        }
        // integers in the structure's byte order at absolute offsets; nil past the end
        func u16(_ at: Int) -> UInt16? {
            guard at >= 0, at <= tiff.count - 2 else { return nil }
            let a = UInt16(tiff[at]), b = UInt16(tiff[at + 1])
            return bigEndian ? a << 8 | b : b << 8 | a
        }
        func u32(_ at: Int) -> UInt32? {
            guard let hi = u16(bigEndian ? at : at + 2), let lo = u16(bigEndian ? at + 2 : at) else { return nil }
            return UInt32(hi) << 16 | UInt32(lo)
        }
        guard u16(2) == 42, let ifd = u32(4), let ifd0 = Int(exactly: ifd), let count = u16(ifd0) else { return nil }
        for k in 0..<Int(count) {
            let entry = ifd0 + 2 + 12 * k
            guard let tag = u16(entry), let type = u16(entry + 2), let values = u32(entry + 4) else { return nil }
            guard tag == 0x0112 else { continue }
            guard values >= 1 else { return nil }
            let value: Int?
            switch type {
            case 3: value = u16(entry + 8).map(Int.init)  // SHORT
            case 4: value = u32(entry + 8).flatMap { Int(exactly: $0) }  // LONG
            default: value = nil
            }
            return value.flatMap(ExifOrientation.init(rawValue:))
        }
        return nil
    }
}
