import Foundation
import _CLISupport
import TResNetCore
import TResNetImage
import TResNetKit

extension PredictCommand {
    /// Multi-label images: sigmoid scores, classes above the threshold within `--top`; `--json` adds all scores
    /// (and `--report` writes the same JSON).
    func predictMultiLabel(_ loaded: LoadedModel, report: ReportFile?) throws {
        let t = threshold ?? loaded.multiLabelThreshold
        guard t.isFinite, t >= 0, t <= 1 else { throw TResNetError(.usage, "--threshold must be in [0, 1]") }
        let classifier = try preprocessing.classifier(for: loaded) { try $0.classNames() }
        let names = classifier.labels
        var rows: [Int: [Float]] = [:]
        let plain = try classifier.classify(paths: images, topK: 1, batchSize: batch) { i, logits in rows[i] = logits }
        let predictions = plain.enumerated().map { i, p in
            rows[i].map { MultiLabelPrediction(path: p.path, logits: $0, names: names, threshold: t, top: top) }
                ?? MultiLabelPrediction(unreadable: p.path, error: p.error ?? "unreadable", threshold: t)
        }
        try output_.emit(predictions, to: report) {
            for p in predictions where p.error != nil { printError("tresnet-predict: " + p.lines.joined()) }
            let lines = predictions.filter { $0.error == nil }.flatMap(\.lines)
            if !lines.isEmpty { print(lines.joined(separator: "\n")) }
        }
        let unreadable = predictions.filter { $0.error != nil }.count
        if unreadable > 0 {
            throw TResNetError(
                .malformed, format: "image", "\(unreadable) of \(predictions.count) images could not be read")
        }
    }
}
