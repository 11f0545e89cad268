import Foundation
import TResNetCore
import TResNetImage

/// One image's multi-label prediction (`tresnet-predict` on a multi-label model): sigmoid scores, the classes
/// above the threshold (best first, at most `top`), and every score for `--json`.
public struct MultiLabelPrediction: Codable, Sendable {
    public struct Label: Codable, Sendable, Equatable {
        public let index: Int
        public let label: String?
        public let score: Double
    }

    public let path: String
    /// Classes with score > threshold, highest first (ties: lower index first), at most `top`.
    public let labels: [Label]
    /// Every class's sigmoid score, in class order (empty for an unreadable image).
    public let scores: [Double]
    public let threshold: Double
    public let error: String?

    /// The prediction of one logit row.
    public init(path: String, logits: [Float], names: [String]?, threshold: Double, top: Int) {
        self.path = path
        self.threshold = threshold
        error = nil
        let s = logits.map { 1 / (1 + exp(-Double($0))) }
        scores = s
        let order = s.indices.sorted { s[$0] > s[$1] || (s[$0] == s[$1] && $0 < $1) }
        labels = order.prefix(max(top, 0)).filter { s[$0] > threshold }.map { i in
            Label(index: i, label: names.flatMap { i < $0.count ? $0[i] : nil }, score: s[i])
        }
    }

    public init(unreadable path: String, error: String, threshold: Double) {
        (self.path, self.error, self.threshold, labels, scores) = (path, error, threshold, [], [])
    }

    /// The lines a CLI prints: the path, then `label (index)  score` per class above the threshold.
    public var lines: [String] {
        guard error == nil else { return ["\(displaySafe(path)): unreadable: \(error ?? "")"] }
        let head = displaySafe(path) + String(format: "  (multi-label: sigmoid scores above %.2f)", threshold)
        guard !labels.isEmpty else { return [head, "  no class above the threshold"] }
        return [head]
            + labels.map { c in
                let name = c.label.map { "\(displaySafe($0, limit: 60)) (\(c.index))" } ?? "class \(c.index)"
                return "  \(name)  " + String(format: "%.4f", c.score)
            }
    }
}

extension LoadedModel {
    /// The class names to show: the `.tw`'s own `labels.names`, else the label set's.
    public func classNames() throws -> [String]? {
        if let names = metadata?.labelNames, names.count == configuration.numClasses { return names }
        return try labelNames()?.names
    }

    /// Whether predictions are multi-label: an ML-Decoder head, or a `.tw` card saying so.
    public var isMultiLabel: Bool { configuration.isMLDecoder || metadata?.multiLabel != nil }

    /// The threshold the card records, else the published default (0.75).
    public var multiLabelThreshold: Double { metadata?.multiLabel?.threshold ?? MultiLabelCard.defaultThreshold }
}
