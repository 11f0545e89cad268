/// Average precision and mAP as the ASL and ML-Decoder training code computes them (docs/MULTILABEL.md):
/// per class, images ranked by score (highest first); AP = Σ over the positives of (positives so far / rank),
/// divided by (positives + 1e-8); mAP = 100 × the mean of the per-class APs over all classes (a class without
/// positives counts with AP 0). Equal scores rank the later image first, as reversing numpy's stable argsort
/// does.
public enum MeanAveragePrecision {
    /// The AP of one class (0…1, the 1e-8 of the reference code included).
    public static func averagePrecision(scores: [Double], targets: [Bool]) -> Double {
        precondition(scores.count == targets.count)
        let order = scores.indices.sorted { a, b in scores[a] > scores[b] || (scores[a] == scores[b] && a > b) }
        var positives = 0
        var sum = 0.0
        for (rank, i) in order.enumerated() where targets[i] {
            positives += 1
            sum += Double(positives) / Double(rank + 1)
        }
        return sum / (Double(positives) + 1e-8)
    }

    /// Per-class AP in percent and their mean. `scores[i][k]`, `targets[i][k]`: image i, class k.
    public static func compute(scores: [[Double]], targets: [[Bool]]) -> (mean: Double, perClass: [Double]) {
        guard let classes = scores.first?.count, classes > 0 else { return (0, []) }
        let ap = (0..<classes).map { k in
            100 * averagePrecision(scores: scores.map { $0[k] }, targets: targets.map { $0[k] })
        }
        return (ap.reduce(0, +) / Double(classes), ap)
    }
}
