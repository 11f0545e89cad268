import Foundation
import TResNetCore
import TResNetImage
import TResNetRuntime

/// Classify images in one call:
///
///     let model = try TResNetClassifier(contentsOf: URL(fileURLWithPath: "tresnet_m.tw"))
///     let top5 = try model.classify(imageAt: URL(fileURLWithPath: "photo.jpg"))
///     print(top5.map { "\($0.label ?? "#\($0.index)") \($0.probability)" })
///
/// The weights are a `.tw` file, any checkpoint `tresnet-convert` reads (PyTorch, safetensors, ONNX, a hub
/// folder), or a zoo tag (`tresnet_m.miil_in1k`) already in the Hugging Face cache (`ZooModelSource`). Images
/// are JPEG or PNG, decoded and preprocessed exactly as timm's eval transform with the weights' settings
/// (the `.tw` metadata, else timm's TResNet defaults); probabilities are the softmax of the logits.
public struct TResNetClassifier: Sendable {
    /// The loaded weights (configuration, metadata, how the file was understood).
    public let model: LoadedModel
    /// The decoder, preprocessing and network behind `classify`.
    public let classifier: ImageClassifier

    /// Opens the weights at `url` (a file URL; its path may also be a zoo tag in the cache).
    public init(contentsOf url: URL, precision: Precision = .f32) throws {
        try self.init(path: url.isFileURL ? url.path : url.absoluteString, precision: precision)
    }

    /// Opens the weights at `path` (or the cached zoo tag `path` names).
    public init(path: String, precision: Precision = .f32, zoo: ZooModelSource = ZooModelSource()) throws {
        var loaded = try ModelLoader.load(path: try zoo.resolve(path))
        loaded.precision = precision
        model = loaded
        classifier = try ImageClassifier(
            preprocessing: loaded.preprocessing,
            labels: try loaded.labelNames()?.names, run: try loaded.batchRunner())
    }

    /// The `topK` most probable classes of the image at `url`, most probable first. Throws `TResNetError`
    /// naming the file when it cannot be read or decoded.
    public func classify(imageAt url: URL, topK: Int = 5) throws -> [Classification] {
        try classify(imagesAt: [url], topK: topK)[0]
    }

    /// `classify(imageAt:)` for several images, run in batches; throws at the first unreadable one.
    public func classify(imagesAt urls: [URL], topK: Int = 5, batchSize: Int = 16) throws -> [[Classification]] {
        let predictions = try classifier.classify(paths: urls.map(\.path), topK: topK, batchSize: batchSize)
        return try predictions.map { p in
            if let error = p.error { throw TResNetError(.unsupported, format: "image", error) }  // names the file
            return p.top
        }
    }
}
