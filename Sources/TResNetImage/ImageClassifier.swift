import Foundation
import TResNetCore

/// Runs the network on one batch: input `[N, 3, S, S]` f32 (NCHW), output logits `[N, classes]`. How the weights
/// were loaded is the closure's business, so classification and validation work for any source.
public typealias BatchRunner = @Sendable (Tensor) throws -> Tensor

/// One ranked class.
public struct Classification: Codable, Sendable, Equatable {
    public let index: Int
    public let label: String?
    public let probability: Double
    public let logit: Double
}

/// The top classes for one image, or why it could not be read.
public struct ImagePrediction: Codable, Sendable {
    public let path: String
    public let top: [Classification]
    public let error: String?

    public init(path: String, top: [Classification], error: String?) {
        self.path = path
        self.top = top
        self.error = error
    }

    public var isReadable: Bool { error == nil }
}

/// Classifies image files: decode (EXIF orientation honoured), preprocess with the weight's settings, run in
/// batches through a `BatchRunner`, softmax, top-k.
public struct ImageClassifier: Sendable {
    public let preprocessing: Preprocessing
    /// Class names by index (e.g. the zoo's label set); nil leaves labels out.
    public let labels: [String]?
    let run: BatchRunner

    public init(
        preprocessing config: PreprocessingConfig, labels: [String]? = nil, limits: ImageLimits = .default,
        run: @escaping BatchRunner
    ) throws {
        self.preprocessing = try Preprocessing(config, limits: limits)
        self.labels = labels
        self.run = run
    }

    /// The logits of already-decoded images, `[images.count][classes]`, in batches of `batchSize`.
    public func logits(_ images: [RGBImage], batchSize: Int = 16) throws -> [[Float]] {
        var out: [[Float]] = []
        for start in stride(from: 0, to: images.count, by: max(batchSize, 1)) {
            let end = min(start + max(batchSize, 1), images.count)
            out += try runChecked(images[start..<end].map { try preprocessing.values($0) })
        }
        return out
    }

    /// Runs the closure on a batch of network inputs (`[3, inputSize, inputSize]` each) and checks it answered
    /// `[count, classes]`.
    func runChecked(_ inputs: [[Float]]) throws -> [[Float]] {
        let side = preprocessing.config.inputSize, count = inputs.count
        let logits = try run(Tensor(shape: [count, 3, side, side], floats: inputs.flatMap { $0 }))
        guard logits.rank == 2, logits.shape[0] == count, logits.shape[1] >= 1 else {
            throw TResNetError(
                .malformed, format: "logits",
                "the network returned \(formatShape(logits.shape)) for a batch of \(count)")
        }
        let classes = logits.shape[1]
        let flat = try logits.floats()
        return (0..<count).map { Array(flat[($0 * classes)..<(($0 + 1) * classes)]) }
    }

    /// The `k` most probable classes of one logit row, named by `labels` when given (softmax in f64; ties keep
    /// the lower index first).
    public static func ranked(_ logits: [Float], labels: [String]?, k: Int = 5) -> [Classification] {
        let p = softmax(logits)
        return topK(logits, k: k).map { i in
            Classification(
                index: i, label: labels.flatMap { i < $0.count ? $0[i] : nil }, probability: p[i],
                logit: Double(logits[i]))
        }
    }

    /// Classifies files; an unreadable file gets an entry with `error` set and no classes, never stops the rest.
    /// Each file is decoded and preprocessed at once, so only one decoded image is held at a time.
    /// `observe` receives each readable image's index in `paths` and its logits.
    public func classify(
        paths: [String], topK k: Int = 5, batchSize: Int = 16,
        observe: ((_ index: Int, _ logits: [Float]) -> Void)? = nil
    ) throws -> [ImagePrediction] {
        var results: [ImagePrediction?] = Array(repeating: nil, count: paths.count)
        var pending: [(Int, [Float])] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            for ((i, _), row) in zip(pending, try runChecked(pending.map(\.1))) {
                let top = Self.ranked(row, labels: labels, k: k)
                results[i] = ImagePrediction(path: paths[i], top: top, error: nil)
                observe?(i, row)
            }
            pending.removeAll()
        }
        for (i, path) in paths.enumerated() {
            do {
                pending.append((i, try preprocessing.values(path: path)))
            } catch let e as TResNetError {
                results[i] = ImagePrediction(path: path, top: [], error: e.description)
            }
            if pending.count >= max(batchSize, 1) { try flush() }
        }
        try flush()
        return results.compactMap { $0 }
    }

    /// Indices of the `k` largest values, largest first; equal values keep index order.
    public static func topK(_ values: [Float], k: Int) -> [Int] {
        let order = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
        return Array(order.prefix(max(k, 0)))
    }

    /// Softmax in f64 with the maximum subtracted first.
    public static func softmax(_ logits: [Float]) -> [Double] {
        guard let m = logits.max() else { return [] }
        let e = logits.map { exp(Double($0) - Double(m)) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

extension ImagePrediction {
    /// The lines `tresnet-predict` prints: the path, then `rank. label (index)  probability` per class, or the
    /// error.
    public var lines: [String] {
        guard error == nil else { return ["\(displaySafe(path)): unreadable: \(error ?? "")"] }
        return [displaySafe(path)]
            + top.enumerated().map { rank, c in
                let name = c.label.map { "\(displaySafe($0, limit: 60)) (\(c.index))" } ?? "class \(c.index)"
                return "  \(rank + 1). \(name)  " + String(format: "%.4f", c.probability)
            }
    }
}
