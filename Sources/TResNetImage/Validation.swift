import Foundation
import TResNetCore

/// A validation run's result: top-1/top-5 over the readable images, the unreadable files with their errors,
/// the speed, and each image's predicted class indices. Encodes to the JSON `tresnet-validate --json` writes.
public struct ValidationReport: Codable, Sendable {
    public struct Unreadable: Codable, Sendable, Equatable {
        /// Relative to the folder root.
        public let path: String
        public let error: String
    }

    public struct PerImage: Codable, Sendable, Equatable {
        public let path: String
        public let target: Int
        /// The top-k class indices, most probable first.
        public let predicted: [Int]
    }

    public let root: String
    public let classes: [String]
    public let preprocessing: PreprocessingConfig
    /// Samples considered (after `--limit`), readable or not.
    public let samples: Int
    /// Images classified (readable samples).
    public let images: Int
    public let top1Correct: Int
    public let top5Correct: Int
    /// Percentages of `images`.
    public let top1: Double
    public let top5: Double
    public let unreadable: [Unreadable]
    public let imagesPerSecond: Double
    public let batchSize: Int
    public let perImage: [PerImage]
    /// Semantic accuracy (ImageNet-21K semantic softmax, docs/SEMANTIC.md) when a tree was given: level checks
    /// passed, level checks made, and their percentage.
    public var semanticCorrect: Int?
    public var semanticValid: Int?
    public var semanticAccuracy: Double?
    /// Which shard of the samples this report covers (`tresnet-validate --shard K/N`); nil for all of them.
    public var shard: ValidationShard?
    /// The shards a merged report was combined from (`--merge`), in order.
    public var mergedShards: [ValidationShard]?

    enum CodingKeys: String, CodingKey {
        case root, classes, preprocessing, samples, images, unreadable, top1, top5, shard
        case elapsedSeconds = "elapsed_s"
        case semanticCorrect = "semantic_correct", semanticValid = "semantic_valid"
        case semanticAccuracy = "semantic_accuracy"
        case top1Correct = "top1_correct", top5Correct = "top5_correct", imagesPerSecond = "images_per_s"
        case batchSize = "batch_size", perImage = "per_image", mergedShards = "merged_shards"
    }

    /// Seconds the run took (`elapsed_s`).
    public var seconds: Double { elapsedSeconds }
    let elapsedSeconds: Double

    /// `100 · part / whole` (0 when `whole` is 0).
    static func percent(_ part: Int, of whole: Int) -> Double { whole == 0 ? 0 : 100 * Double(part) / Double(whole) }

    /// The JSON report (snake_case keys, sorted, pretty printed; docs/JSON.md).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The summary lines a CLI prints.
    public var summary: String {
        var lines = [
            String(
                format: "top-1 %.3f%% (%d/%d)  top-5 %.3f%% (%d/%d)", top1, top1Correct, images,
                top5, top5Correct, images)
        ]
        if let semanticCorrect, let semanticValid {
            lines.append(
                String(
                    format: "semantic top-1 %.3f%% (%d/%d level checks)", semanticAccuracy ?? 0,
                    semanticCorrect, semanticValid))
        }
        if let shard {
            lines.append(
                "shard \(shard): \(samples) samples (sample i of the folder when i mod \(shard.count) = \(shard.index - 1))"
            )
        }
        if let mergedShards { lines.append("merged from \(mergedShards.count) shard reports") }
        lines += [String(format: "%.1f images/s (%.2f s, batch %d)", imagesPerSecond, seconds, batchSize)]
        if !unreadable.isEmpty {
            lines.append("\(unreadable.count) unreadable image(s):")
            lines += unreadable.map { "  \(displaySafe($0.path)): \($0.error)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// Progress of a running validation (the CLI draws it with `ProgressReporter`).
public struct ValidationProgress: Sendable {
    public let done: Int
    public let total: Int
    public let correctTop1: Int
    public let classified: Int
    public let unreadable: Int
    public let elapsed: Double
}

/// Validation on an `ImageFolder` (the seed's `infer.py` loop): batches of decoded, preprocessed images through
/// the classifier's runner, top-1 and top-5 against the folder's class index, unreadable files counted and
/// listed, never fatal.
public enum Validation {
    /// - Parameters:
    ///   - limit: only the first `limit` samples (in folder order).
    ///   - progress: called after every batch (and once at the start).
    ///   - targets: the head's class index of each folder class (by folder position), when it is not the
    ///     position itself (synset-named folders mapped through a semantic tree).
    ///   - observe: called with each classified image's target and logits.
    ///   - shard: only this deterministic share of the samples (after `limit`): sample i (0-based, folder order)
    ///     belongs to shard `i % count + 1`.
    public static func run(
        folder: ImageFolder, classifier: ImageClassifier, batchSize: Int = 32, limit: Int? = nil,
        shard: ValidationShard? = nil, progress: ((ValidationProgress) -> Void)? = nil, targets: [Int]? = nil,
        observe: ((_ target: Int, _ logits: [Float]) -> Void)? = nil
    ) throws -> ValidationReport {
        if let targets, targets.count != folder.classes.count {
            throw TResNetError(.usage, "\(targets.count) class targets for \(folder.classes.count) folder classes")
        }
        guard batchSize >= 1 else { throw TResNetError(.usage, "batch size must be at least 1") }
        if let limit, limit < 0 { throw TResNetError(.usage, "limit must not be negative") }
        let all = Array(folder.samples.prefix(limit ?? folder.samples.count))
        let samples = shard.map { $0.select(all) } ?? all
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double {
            let d = clock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        var unreadable: [ValidationReport.Unreadable] = []
        var perImage: [ValidationReport.PerImage] = []
        var top1 = 0, top5 = 0, done = 0
        var pending: [(ImageFolder.Sample, [Float])] = []

        func report() {
            progress?(
                ValidationProgress(
                    done: done, total: samples.count, correctTop1: top1, classified: perImage.count,
                    unreadable: unreadable.count, elapsed: elapsed()))
        }
        func flush() throws {
            guard !pending.isEmpty else { return }
            for ((sample, _), row) in zip(pending, try classifier.runChecked(pending.map(\.1))) {
                let target = targets?[sample.classIndex] ?? sample.classIndex
                let predicted = ImageClassifier.topK(row, k: 5)
                if predicted.first == target { top1 += 1 }
                if predicted.contains(target) { top5 += 1 }
                perImage.append(.init(path: sample.relativePath, target: target, predicted: predicted))
                observe?(target, row)
            }
            pending.removeAll(keepingCapacity: true)
            report()
        }

        report()
        for sample in samples {
            do {
                pending.append((sample, try classifier.preprocessing.values(path: folder.path(of: sample))))
            } catch let e as TResNetError {
                var described = e
                described.file = nil  // the path is listed beside it
                unreadable.append(.init(path: sample.relativePath, error: described.description))
            }
            done += 1
            if pending.count >= batchSize { try flush() }
        }
        try flush()
        report()
        let seconds = elapsed()
        let n = perImage.count
        return ValidationReport(
            root: folder.root, classes: folder.classes, preprocessing: classifier.preprocessing.config,
            samples: samples.count, images: n, top1Correct: top1, top5Correct: top5,
            top1: ValidationReport.percent(top1, of: n), top5: ValidationReport.percent(top5, of: n),
            unreadable: unreadable, imagesPerSecond: seconds > 0 ? Double(n) / seconds : 0,
            batchSize: batchSize, perImage: perImage, shard: shard, elapsedSeconds: seconds)
    }
}
