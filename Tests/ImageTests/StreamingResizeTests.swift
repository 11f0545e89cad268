import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// The streaming path (rows straight from the decoder into the first resampling pass, EXIF orientation applied
/// on the way) against the whole-image path (`RGBImage.oriented` then `PILResample.resize`): the same bytes on
/// random images of many sizes, every orientation, both filters, both pass orders, every crop setting.
@Suite struct StreamingResizeTests {
    static func random(width w: Int, height h: Int, _ rng: inout SplitMix64) -> RGBImage {
        RGBImage(unchecked: w, h, (0..<(w * h * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// Noise, or the extremes that push the sums furthest (and the clipping): 0/255 stripes either way, all 255.
    static func content(width w: Int, height h: Int, _ rng: inout SplitMix64) -> RGBImage {
        let kind = Int.random(in: 0...3, using: &rng)
        if kind == 0 { return random(width: w, height: h, &rng) }
        var pixels = [UInt8](repeating: 255, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w where kind != 3 && (kind == 1 ? x : y) % 2 == 1 {
                pixels[(y * w + x) * 3] = 0
                pixels[(y * w + x) * 3 + 1] = 0
                pixels[(y * w + x) * 3 + 2] = 0
            }
        }
        return RGBImage(unchecked: w, h, pixels)
    }

    /// Feeds the stored rows of `image` to `resize`, as a decoder does.
    static func stream(_ image: RGBImage, into resize: inout StreamingResize) {
        image.pixels.withUnsafeBufferPointer { all in
            for y in 0..<image.height {
                resize.add(
                    UnsafeBufferPointer(rebasing: all[(y * image.width * 3)..<((y + 1) * image.width * 3)]), y: y)
            }
        }
    }

    /// Which of the streaming modes a case exercises.
    static func mode(_ r: StreamingResize) -> String {
        guard let first = r.first else { return "copy" }
        return "\(first.axis)-first \(r.scatter ? "scatter" : "gather")\(r.second == nil ? " (one pass)" : "")"
    }

    @Test("StreamingResize equals PILResample.resize of the oriented image: 4,800 random cases")
    func resizeWindowsEqualWholeImage() throws {
        var rng = SplitMix64(seed: 20)
        var modes: [String: Int] = [:]
        for _ in 0..<300 {
            let w = Int.random(in: 1...40, using: &rng), h = Int.random(in: 1...40, using: &rng)
            let image = Self.content(width: w, height: h, &rng)
            for orientation in ExifOrientation.allCases {
                let (ow, oh) = orientation.swapsSides ? (h, w) : (w, h)
                let oriented = image.oriented(orientation)
                for filter in Interpolation.allCases {
                    // the same size on an axis sometimes (no pass there), else up or down to 1…60
                    let width = Int.random(in: 0...3, using: &rng) == 0 ? ow : Int.random(in: 1...60, using: &rng)
                    let height = Int.random(in: 0...3, using: &rng) == 0 ? oh : Int.random(in: 1...60, using: &rng)
                    let x0 = Int.random(in: 0..<width, using: &rng), x1 = Int.random(in: (x0 + 1)...width, using: &rng)
                    let y0 = Int.random(in: 0..<height, using: &rng)
                    let y1 = Int.random(in: (y0 + 1)...height, using: &rng)
                    var resize = StreamingResize(
                        storedWidth: w, storedHeight: h, orientation: orientation, width: width, height: height,
                        filter: filter, columns: x0..<x1, rows: y0..<y1)
                    resize.allocate()
                    Self.stream(image, into: &resize)
                    modes[Self.mode(resize), default: 0] += 1
                    let streamed = resize.finish()
                    let whole = try PILResample.resize(
                        oriented, width: width, height: height, filter: filter, columns: x0..<x1, rows: y0..<y1)
                    #expect(
                        streamed == whole,
                        "\(w)×\(h) \(orientation) → \(width)×\(height) [\(x0)..<\(x1)]×[\(y0)..<\(y1)] \(filter)")
                }
            }
        }
        print(
            "streaming resize modes: "
                + modes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", "))
        for mode in [
            "copy", "horizontal-first gather", "horizontal-first scatter", "vertical-first gather",
            "vertical-first scatter", "horizontal-first gather (one pass)", "horizontal-first scatter (one pass)",
            "vertical-first gather (one pass)", "vertical-first scatter (one pass)"
        ] {
            #expect((modes[mode] ?? 0) >= 20, "mode \(mode) seen \(modes[mode] ?? 0) times")
        }
    }

    @Test("streamed preprocessing equals resizedAndCropped(image.oriented(o)) for random policies")
    func preprocessingEqualsWholeImage() throws {
        var rng = SplitMix64(seed: 21)
        for _ in 0..<400 {
            let w = Int.random(in: 1...50, using: &rng), h = Int.random(in: 1...50, using: &rng)
            let image = Self.random(width: w, height: h, &rng)
            let orientation = try #require(ExifOrientation(rawValue: Int.random(in: 1...8, using: &rng)))
            let config = PreprocessingConfig(
                inputSize: Int.random(in: 2...48, using: &rng),
                cropPct: [0.5, 0.875, 0.9, 1.0, 1.25, 2.0].randomElement(using: &rng)!,
                cropMode: Bool.random(using: &rng) ? .center : .squash,
                interpolation: Bool.random(using: &rng) ? .bilinear : .bicubic)
            let pre = try Preprocessing(config)
            var (resize, plan) = try pre.streamingResize(
                format: "test", storedWidth: w, storedHeight: h, orientation: orientation, decoderBytes: 0)
            Self.stream(image, into: &resize)
            let streamed = plan.padded(resize.finish())
            #expect(
                streamed == (try pre.resizedAndCropped(image.oriented(orientation))),
                "\(w)×\(h) \(orientation) \(config)")
        }
    }

    static func files() throws -> [String] {
        let manifest = try ImageManifest.load()
        return (manifest.images.map(\.file) + manifest.decode_only.map(\.file)).map { ImageManifest.folder + "/" + $0 }
    }

    @Test("every test file, every orientation, every policy: streamed from the decoder = decoded then resized")
    func filesStreamLikeWholeImages() throws {
        let manifest = try ImageManifest.load()
        var cases = 0
        for path in try Self.files() {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let stored = try ImageDecoder.decode(path: path, applyOrientation: false)
            let upright = try ImageDecoder.decode(path: path)
            for policy in manifest.policies.values {
                let pre = try Preprocessing(try DecodeAndPreprocessTests.config(policy))
                try bytes.withUnsafeBytes { raw in
                    #expect(try pre.resizedAndCropped(bytes: raw) == (try pre.resizedAndCropped(upright)), "\(path)")
                    for orientation in ExifOrientation.allCases {
                        let streamed = try pre.resizedAndCropped(bytes: raw, orientation: orientation)
                        #expect(
                            streamed == (try pre.resizedAndCropped(stored.oriented(orientation))),
                            "\(path) \(orientation)")
                        cases += 1
                    }
                }
            }
        }
        #expect(cases >= 28 * 5 * 8)
    }

    @Test("values(path:) streams and equals timm's tensors exactly (the Pillow references)")
    func streamedTensorsEqualTimm() throws {
        let manifest = try ImageManifest.load()
        var total = 0
        for record in manifest.images {
            for (name, policy) in manifest.policies {
                let reference = try NPYUInt8.read(ImageManifest.folder + "/" + (try #require(record.references[name])))
                let values = try Preprocessing(try DecodeAndPreprocessTests.config(policy))
                    .values(path: ImageManifest.folder + "/" + record.file)
                #expect(values == reference.values.map { Float($0) / 255 }, "\(record.file) \(name)")
                total += values.count
            }
        }
        #expect(total == 524_160)
    }
}
