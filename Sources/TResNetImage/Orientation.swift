/// The EXIF orientation (tag 0x0112) and the transpose that shows the image upright — the mapping of PIL's
/// `ImageOps.exif_transpose`.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case normal = 1
    case flipLeftRight = 2
    case rotate180 = 3
    case flipTopBottom = 4
    case transpose = 5
    /// Stored rotated: shown turned 90° clockwise (PIL `ROTATE_270`).
    case rotate270 = 6
    case transverse = 7
    /// Stored rotated: shown turned 90° counter-clockwise (PIL `ROTATE_90`).
    case rotate90 = 8

    /// Whether width and height swap.
    public var swapsSides: Bool { rawValue >= 5 }
}

extension RGBImage {
    /// The image as it should be shown for `orientation`.
    public func oriented(_ orientation: ExifOrientation) -> RGBImage {
        if orientation == .normal { return self }
        let (w, h) = (width, height)
        let (ow, oh) = orientation.swapsSides ? (h, w) : (w, h)
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<oh {
                    for x in 0..<ow {
                        let (sx, sy): (Int, Int)
                        switch orientation {
                        case .normal: (sx, sy) = (x, y)
                        case .flipLeftRight: (sx, sy) = (w - 1 - x, y)
                        case .rotate180: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case .flipTopBottom: (sx, sy) = (x, h - 1 - y)
                        case .transpose: (sx, sy) = (y, x)
                        case .rotate270: (sx, sy) = (y, h - 1 - x)
                        case .transverse: (sx, sy) = (w - 1 - y, h - 1 - x)
                        case .rotate90: (sx, sy) = (w - 1 - y, x)
                        }
                        let s = (sy * w + sx) * 3, d = (y * ow + x) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(unchecked: ow, oh, out)
    }
}

extension ExifOrientation {
    /// Where stored row `y` of an image `height` rows high lands once oriented: an oriented row (`alongX`, for
    /// orientations 1–4) or column (5–8), its index, and whether the stored pixels run backwards along it (stored
    /// pixel `x` of a `width`-pixel row is at position `reversed ? width − 1 − x : x` of the oriented line).
    /// The same mapping as `RGBImage.oriented(_:)`.
    func line(ofStoredRow y: Int, height h: Int) -> (alongX: Bool, index: Int, reversed: Bool) {
        switch self {
        case .normal: (true, y, false)
        case .flipLeftRight: (true, y, true)
        case .rotate180: (true, h - 1 - y, true)
        case .flipTopBottom: (true, h - 1 - y, false)
        case .transpose: (false, y, false)
        case .rotate270: (false, h - 1 - y, false)
        case .transverse: (false, h - 1 - y, true)
        case .rotate90: (false, y, true)
        }
    }
}
