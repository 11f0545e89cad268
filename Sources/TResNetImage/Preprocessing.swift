import TResNetCore

/// timm's eval transform (`transforms_imagenet_eval`) on an RGB image, step for step as torchvision runs it on a
/// PIL image: `Resize` (torchvision's output-size rule, PIL's resampling), `CenterCrop` (torchvision's offsets,
/// zero padding when the crop is larger), `ToTensor` (`/255` in f32), `Normalize` (`(x − mean) / std` in f32).
public struct Preprocessing: Sendable {
    public let config: PreprocessingConfig

    /// - Throws: `.usage` when the configuration is out of range.
    public init(_ config: PreprocessingConfig) throws {
        try config.validate()
        self.config = config
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

    /// The resized and cropped 8-bit image (`inputSize × inputSize`), before scaling to [0, 1].
    public func resizedAndCropped(_ image: RGBImage) throws -> RGBImage {
        let target = resizeTarget(width: image.width, height: image.height)
        let resized = (target.width == image.width && target.height == image.height)
            ? image : try PILResample.resize(image, width: target.width, height: target.height,
                                             filter: config.interpolation)
        return Self.centerCrop(resized, size: config.inputSize)
    }

    /// torchvision's `center_crop` on a PIL image: zero padding (left/top get the smaller half) when the crop is
    /// larger, then the offsets `int(round((side - crop) / 2.0))` with Python's round-half-to-even.
    public static func centerCrop(_ image: RGBImage, size: Int) -> RGBImage {
        var (w, h) = (image.width, image.height)
        var (padLeft, padTop) = (0, 0)
        if size > w || size > h {
            padLeft = size > w ? (size - w) / 2 : 0
            padTop = size > h ? (size - h) / 2 : 0
            w = max(w, size)
            h = max(h, size)
        }
        if w == image.width, h == image.height, w == size, h == size { return image }
        let top = Int((Double(h - size) / 2.0).rounded(.toNearestOrEven))
        let left = Int((Double(w - size) / 2.0).rounded(.toNearestOrEven))
        var out = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            let sy = y + top - padTop
            guard sy >= 0, sy < image.height else { continue }
            for x in 0..<size {
                let sx = x + left - padLeft
                guard sx >= 0, sx < image.width else { continue }
                let s = (sy * image.width + sx) * 3, d = (y * size + x) * 3
                out[d] = image.pixels[s]
                out[d + 1] = image.pixels[s + 1]
                out[d + 2] = image.pixels[s + 2]
            }
        }
        return RGBImage(unchecked: size, size, out)
    }

    /// The network input for one image: `[3, inputSize, inputSize]` f32, channel-major.
    public func values(_ image: RGBImage) throws -> [Float] {
        let cropped = try resizedAndCropped(image)
        return Self.toTensor(cropped, mean: config.mean, std: config.std)
    }

    /// `ToTensor` + `Normalize`: `(Float(v) / 255 − mean[c]) / std[c]`, CHW.
    public static func toTensor(_ image: RGBImage, mean: [Float], std: [Float]) -> [Float] {
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

    /// A batch `[N, 3, inputSize, inputSize]` f32 of already-decoded images.
    public func batch(_ images: [RGBImage]) throws -> Tensor {
        var all: [Float] = []
        all.reserveCapacity(images.count * 3 * config.inputSize * config.inputSize)
        for image in images { all += try values(image) }
        return Tensor(shape: [images.count, 3, config.inputSize, config.inputSize], floats: all)
    }

    /// Decodes (EXIF orientation honoured) and preprocesses the file at `path`: `[3, inputSize, inputSize]`.
    public func values(path: String) throws -> [Float] {
        let image = try ImageDecoder.decode(path: path)
        return try TResNetError.naming(path) { try values(image) }
    }
}
