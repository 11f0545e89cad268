import TResNetCore

/// timm's eval transform (`transforms_imagenet_eval`) on an RGB image, step for step as torchvision runs it on a
/// PIL image: `Resize` (torchvision's output-size rule, PIL's resampling), `CenterCrop` (torchvision's offsets,
/// zero padding when the crop is larger), `ToTensor` (`/255` in f32), `Normalize` (`(x − mean) / std` in f32).
public struct Preprocessing: Sendable {
    public let config: PreprocessingConfig
    /// How big a file's image may be (pixels, decoding memory); see `ImageLimits`.
    public var limits: ImageLimits

    /// - Throws: `.usage` when the configuration is out of range.
    public init(_ config: PreprocessingConfig, limits: ImageLimits = .default) throws {
        try config.validate()
        self.config = config
        self.limits = limits
    }

    /// torchvision's `Resize` target `(width, height)` for an image of `width × height`.
    public func resizeTarget(width: Int, height: Int) -> (width: Int, height: Int) {
        let s = config.scaleSize
        switch config.cropMode {
        case .squash:
            return (s, s)
        case .center:
            // _compute_resized_output_size: the shorter side to s, the longer to int(s * long / short)
            let (short, long) = width <= height ? (width, height) : (height, width)
            let newLong = Int((Double(s * long) / Double(short)).rounded(.towardZero))
            return width <= height ? (s, newLong) : (newLong, s)
        }
    }

    /// The resized and cropped 8-bit image (`inputSize × inputSize`), before scaling to [0, 1]. Only the cropped
    /// window of the resize is computed (identical to resizing everything, see `PILResample`).
    /// - Throws: `.limitExceeded` when the resize target would have more than `maximumImagePixels` pixels.
    public func resizedAndCropped(_ image: RGBImage) throws -> RGBImage {
        let plan = try cropPlan(width: image.width, height: image.height)
        let window = try PILResample.resize(
            image, width: plan.target.width, height: plan.target.height,
            filter: config.interpolation, columns: plan.columns, rows: plan.rows)
        return plan.padded(window)
    }

    /// Where the crop of an image of `width × height` lies in its resize.
    struct CropPlan {
        let target: (width: Int, height: Int)
        let crop: (x: Int, y: Int)
        let size: Int
        /// The resize's columns and rows inside the crop.
        let columns: Range<Int>
        let rows: Range<Int>

        /// The crop from its part inside the resize (`columns × rows`): zero padding where the crop is larger.
        func padded(_ window: RGBImage) -> RGBImage {
            if columns.count == size, rows.count == size { return window }
            var out = [UInt8](repeating: 0, count: size * size * 3)
            for (yy, y) in rows.enumerated() {
                let d = ((y - crop.y) * size + (columns.lowerBound - crop.x)) * 3, s = yy * columns.count * 3
                out[d..<(d + columns.count * 3)] = window.pixels[s..<(s + columns.count * 3)]
            }
            return RGBImage(unchecked: size, size, out)
        }
    }

    /// The crop plan for an image of `width × height`.
    /// - Throws: `.limitExceeded` when the resize target would have more than `maximumImagePixels` pixels.
    func cropPlan(width: Int, height: Int) throws -> CropPlan {
        let target = resizeTarget(width: width, height: height)
        guard let pixels = Checked.multiply(target.width, target.height), pixels <= maximumImagePixels else {
            throw TResNetError(
                .limitExceeded, format: "resize",
                "resizing \(width)×\(height) to "
                    + "\(target.width)×\(target.height) is more than \(maximumImagePixels) pixels")
        }
        let size = config.inputSize
        let crop = Self.centerCropWindow(width: target.width, height: target.height, size: size)
        let columns = max(0, crop.x)..<min(target.width, crop.x + size)
        let rows = max(0, crop.y)..<min(target.height, crop.y + size)
        return CropPlan(target: target, crop: crop, size: size, columns: columns, rows: rows)
    }

    /// torchvision's `center_crop` on a PIL image as a window of the image: its top-left corner, which is
    /// negative where the crop is larger than the image (zero padding, left/top getting the smaller half), with
    /// the offsets `int(round((side - crop) / 2.0))` (Python's round-half-to-even) taken in the padded image.
    public static func centerCropWindow(width: Int, height: Int, size: Int) -> (x: Int, y: Int) {
        let padLeft = size > width ? (size - width) / 2 : 0
        let padTop = size > height ? (size - height) / 2 : 0
        let (w, h) = (max(width, size), max(height, size))
        let top = Int((Double(h - size) / 2.0).rounded(.toNearestOrEven))
        let left = Int((Double(w - size) / 2.0).rounded(.toNearestOrEven))
        return (left - padLeft, top - padTop)
    }

    /// The network input for one image: `[3, inputSize, inputSize]` f32, channel-major.
    public func values(_ image: RGBImage) throws -> [Float] {
        tensor(try resizedAndCropped(image))
    }

    /// Decodes (EXIF orientation honoured) and preprocesses the file at `path`: `[3, inputSize, inputSize]`.
    /// The rows stream into the resize (`resizedAndCropped(bytes:)`), so no decoded image is held.
    public func values(path: String) throws -> [Float] {
        let store = try ByteStore.map(path: path)
        return try TResNetError.naming(path) { try values(bytes: store.bytes) }
    }

    /// Decodes (EXIF orientation honoured) and preprocesses an in-memory file: `[3, inputSize, inputSize]`.
    public func values(bytes: UnsafeRawBufferPointer) throws -> [Float] {
        tensor(try resizedAndCropped(bytes: bytes))
    }

    /// `ToTensor` + `Normalize` with this configuration's mean and std (in f32, as torchvision computes them):
    /// `(Float(v) / 255 − mean[c]) / std[c]`, CHW.
    func tensor(_ image: RGBImage) -> [Float] {
        let mean = config.mean.map(Float.init), std = config.std.map(Float.init)
        let plane = image.width * image.height
        var out = [Float](repeating: 0, count: plane * 3)
        let identity = mean == [0, 0, 0] && std == [1, 1, 1]
        for i in 0..<plane {
            for c in 0..<3 {
                let v = Float(image.pixels[3 * i + c]) / 255
                out[c * plane + i] = identity ? v : (v - mean[c]) / std[c]
            }
        }
        return out
    }
}
