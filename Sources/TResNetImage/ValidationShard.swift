import TResNetCore

/// One of N deterministic shares of a validation's samples (`tresnet-validate --shard K/N`): sample i of the
/// folder (0-based, folder order, after `--limit`) belongs to shard `i mod N + 1`. Any batch scheduler can run
/// the N shards on N machines; `ValidationReport.merge` adds their reports up to the exact totals of one run.
public struct ValidationShard: Codable, Sendable, Hashable, CustomStringConvertible {
    /// 1…count.
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (1...count).contains(index) else {
            throw TResNetError(.usage, "--shard K/N needs 1 ≤ K ≤ N, not \(index)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `K/N`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw TResNetError(.usage, "--shard takes K/N (e.g. 2/8), not '\(displaySafe(text, limit: 40))'")
        }
        try self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// This shard's share of `samples`, in order.
    public func select<T>(_ samples: [T]) -> [T] {
        stride(from: index - 1, to: samples.count, by: count).map { samples[$0] }
    }
}

extension ValidationReport {
    /// The report of the whole run from the reports of its shards (`tresnet-validate --merge`): counts, lists
    /// and per-image results added up exactly; percentages recomputed from the totals; `elapsed_s` the longest
    /// shard's (the shards ran side by side) and `images_per_s` the sum of the shards' rates.
    /// - Throws: `.usage` unless the reports are shards 1…N of one N, each once, of the same folder classes,
    ///   preprocessing and semantic scoring.
    public static func merge(_ reports: [ValidationReport]) throws -> ValidationReport {
        guard let first = reports.first else { throw TResNetError(.usage, "--merge needs at least one report") }
        let shards = reports.map(\.shard)
        guard let n = first.shard?.count, shards.allSatisfy({ $0?.count == n }) else {
            throw TResNetError(.usage, "--merge takes shard reports (written with --shard K/N) of one N")
        }
        let indices = shards.compactMap { $0?.index }.sorted()
        guard indices == Array(1...n) else {
            let missing = Set(1...n).subtracting(indices).sorted()
            let twice = Dictionary(grouping: indices, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            func listed(_ what: String, _ shards: [Int]) -> String {
                shards.isEmpty ? "" : "; \(what) " + shards.map { "\($0)/\(n)" }.joined(separator: ", ")
            }
            throw TResNetError(
                .usage,
                "--merge needs each of the shards 1/\(n) … \(n)/\(n) once" + listed("missing", missing)
                    + listed("given twice", twice))
        }
        for r in reports.dropFirst() {
            guard r.classes == first.classes else {
                throw TResNetError(
                    .usage, "--merge: shard \(r.shard!) has other folder classes than shard \(first.shard!)")
            }
            guard r.preprocessing == first.preprocessing else {
                throw TResNetError(
                    .usage, "--merge: shard \(r.shard!) ran with other preprocessing than shard \(first.shard!)")
            }
            guard (r.semanticValid == nil) == (first.semanticValid == nil) else {
                throw TResNetError(.usage, "--merge: some shards were scored with a semantic tree, others not")
            }
        }
        let ordered = reports.sorted { $0.shard!.index < $1.shard!.index }
        let images = ordered.map(\.images).reduce(0, +)
        let top1 = ordered.map(\.top1Correct).reduce(0, +), top5 = ordered.map(\.top5Correct).reduce(0, +)
        var merged = ValidationReport(
            root: first.root, classes: first.classes, preprocessing: first.preprocessing,
            samples: ordered.map(\.samples).reduce(0, +), images: images, top1Correct: top1, top5Correct: top5,
            top1: percent(top1, of: images), top5: percent(top5, of: images),
            unreadable: ordered.flatMap(\.unreadable), imagesPerSecond: ordered.map(\.imagesPerSecond).reduce(0, +),
            batchSize: first.batchSize, perImage: ordered.flatMap(\.perImage),
            mergedShards: ordered.compactMap(\.shard), elapsedSeconds: ordered.map(\.seconds).max() ?? 0)
        if first.semanticValid != nil {
            let correct = ordered.compactMap(\.semanticCorrect).reduce(0, +)
            let valid = ordered.compactMap(\.semanticValid).reduce(0, +)
            merged.semanticCorrect = correct
            merged.semanticValid = valid
            merged.semanticAccuracy = percent(correct, of: valid)
        }
        return merged
    }
}
