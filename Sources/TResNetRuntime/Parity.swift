import Foundation
import TResNetCore

/// The distance of `values` from `truth` in the error model's units: max over elements of
/// |values − truth| / (rms(truth) + |truth|). Finite whenever the inputs are (an all-zero `truth` divides by the
/// smallest normal float instead of 0).
public func scaledDistance(_ values: [Double], from truth: [Double]) -> Double {
    precondition(values.count == truth.count)
    let rms = rootMeanSquare(truth)
    var worst = 0.0
    for i in 0..<truth.count where values[i].isFinite && truth[i].isFinite {
        let d = abs(values[i] - truth[i])
        if d > 0 { worst = max(worst, d / max(rms + abs(truth[i]), Double(Float.leastNormalMagnitude))) }
    }
    return worst
}

func rootMeanSquare(_ v: [Double]) -> Double {
    guard !v.isEmpty else { return 0 }
    var s = 0.0
    for x in v where x.isFinite { s += x * x }
    return (s / Double(v.count)).squareRoot()
}

/// `--oracle`: the three distances of a tap, in the error model's units (`scaledDistance`), with our float64
/// forward pass as the truth.
public struct OracleDistances: Sendable, Codable {
    public var oursToReference: Double
    public var oursToFloat64: Double
    public var referenceToFloat64: Double
    /// How much further from float64 ours may be than the reference is, and still pass.
    public static let factor = 1.5
    /// Ours is no further from float64 than the reference is (× `factor`).
    public var oursAsCloseAsReference: Bool { oursToFloat64 <= Self.factor * referenceToFloat64 }
}

/// How one captured activation compares with its reference.
public struct TapComparison: Sendable, Codable {
    public var name: String
    public var shape: [Int]
    /// Products accumulated behind the tap (`AccumulationDepth`); sets the float32 model's budget.
    public var depth: Int
    public var maxAbsoluteError: Double
    /// max |ours − ref| / max |ref| (nil when the reference is all zero): relative to the tap's scale, never inf.
    public var maxRelativeError: Double?
    public var meanAbsoluteError: Double
    /// rms(ref), the tap's scale.
    public var referenceRMS: Double
    /// max over elements of |ours − ref| / (rms(ref) + |ref|): the error in the error model's units.
    public var scaledError: Double
    /// The float32 model's budget for `scaledError` (nil under the elementwise rule).
    public var budget: Double?
    public var cosineSimilarity: Double
    /// Multi-index of the element with the worst error against the tolerance.
    public var worstIndex: [Int]
    public var worstActual: Double
    public var worstExpected: Double
    /// Elements outside the tolerance.
    public var failingElements: Int
    /// Elements where exactly one side is NaN or ±inf, or both are but differ (each counts as failing).
    public var nonFinite: Int
    /// Within the tolerance (every element passes).
    public var withinTolerance: Bool
    /// With `--oracle`: the three distances.
    public var oracle: OracleDistances?
    /// Within the tolerance, or (with `--oracle`) ours as close to float64 as the reference (× 1.5).
    public var passed: Bool

    /// The JSON keys (docs/JSON.md): numpy's abbreviations for the error columns.
    enum CodingKeys: String, CodingKey {
        case name, shape, depth, budget, oracle, passed
        case maxAbsoluteError = "max_abs_error", maxRelativeError = "max_rel_error"
        case meanAbsoluteError = "mean_abs_error", referenceRMS = "reference_rms", scaledError = "scaled_error"
        case cosineSimilarity = "cosine_similarity", worstIndex = "worst_index", worstActual = "worst_actual"
        case worstExpected = "worst_expected", failingElements = "failing_elements", nonFinite = "non_finite"
        case withinTolerance = "within_tolerance"
    }

    /// Compares `actual` with `expected` under `tolerance`; the shapes must be equal (else `.malformed`).
    public init(name: String, actual: Tensor, expected: Tensor, tolerance: Tolerance, depth: Int = 0) throws {
        guard actual.shape == expected.shape else {
            throw TResNetError(
                .malformed, format: "reference", at: .entry(name),
                "shape \(formatShape(expected.shape)), but the model computes \(formatShape(actual.shape)) for this input"
            )
        }
        try self.init(
            name: name, shape: expected.shape, actual: doubles(actual), expected: doubles(expected),
            tolerance: tolerance, depth: depth)
    }

    /// Compares flat values (same count, row-major `shape`).
    public init(name: String, shape: [Int], actual a: [Double], expected e: [Double], tolerance: Tolerance, depth: Int)
    {
        precondition(a.count == e.count)
        self.name = name
        self.shape = shape
        self.depth = depth
        let rms = rootMeanSquare(e)
        let budget = tolerance.rule == .float32Model ? tolerance.budget(depth: depth) : nil
        var maxAbs = 0.0, maxRef = 0.0, sumAbs = 0.0, dot = 0.0, na = 0.0, ne = 0.0, scaled = 0.0
        var worst = 0, worstScore = -Double.infinity, failing = 0, bad = 0
        for i in 0..<a.count {
            let x = a[i], y = e[i]
            if !x.isFinite || !y.isFinite {
                if !(x.isNaN && y.isNaN) && x != y {
                    bad += 1; failing += 1
                    if worstScore < .infinity { worstScore = .infinity; worst = i }
                }
                continue
            }
            let d = abs(x - y)
            maxAbs = max(maxAbs, d)
            maxRef = max(maxRef, abs(y))
            sumAbs += d
            dot += x * y; na += x * x; ne += y * y
            let ratio = d == 0 ? 0 : d / max(rms + abs(y), Double(Float.leastNormalMagnitude))
            scaled = max(scaled, ratio)
            // the score orders elements by how badly they miss: > 0 fails
            let score: Double
            if let budget {
                score = ratio - budget
            } else {
                score = d - (tolerance.absolute + tolerance.relative * abs(y))
            }
            if score > 0 { failing += 1 }
            if score > worstScore { worstScore = score; worst = i }
        }
        maxAbsoluteError = maxAbs
        maxRelativeError = maxRef > 0 ? maxAbs / maxRef : (maxAbs == 0 ? 0 : nil)
        meanAbsoluteError = a.isEmpty ? 0 : sumAbs / Double(a.count)
        referenceRMS = rms
        scaledError = scaled
        self.budget = budget
        let norms = (na * ne).squareRoot()
        cosineSimilarity = (na == 0 && ne == 0) ? 1 : (norms > 0 && norms.isFinite ? dot / norms : 0)
        worstIndex = TapComparison.multiIndex(worst, shape: shape)
        worstActual = a.isEmpty ? 0 : a[worst]
        worstExpected = e.isEmpty ? 0 : e[worst]
        failingElements = failing
        nonFinite = bad
        withinTolerance = failing == 0
        oracle = nil
        passed = withinTolerance
    }

    static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        var idx = [Int](repeating: 0, count: shape.count)
        var r = flat
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 {
            idx[d] = r % shape[d]
            r /= shape[d]
        }
        return idx
    }
}

/// Top-k agreement of two logit batches ([N, classes]).
public struct TopKAgreement: Sendable, Codable {
    public var images: Int
    /// Images whose top-1 class is the same.
    public var top1Agree: Int
    /// Images whose top-5 sets (as ordered lists) are identical.
    public var top5Identical: Int

    public init(actual: Tensor, expected: Tensor) throws {
        guard actual.shape == expected.shape, actual.rank == 2 else {
            throw TResNetError(
                .malformed, "logits shapes differ: \(formatShape(actual.shape)) vs \(formatShape(expected.shape))")
        }
        let (n, k) = (actual.shape[0], actual.shape[1])
        let a = try actual.floats(), e = try expected.floats()
        images = n
        top1Agree = 0
        top5Identical = 0
        for b in 0..<n {
            let ta = topK(Array(a[(b * k)..<((b + 1) * k)]), 5)
            let te = topK(Array(e[(b * k)..<((b + 1) * k)]), 5)
            if ta.first == te.first { top1Agree += 1 }
            if ta == te { top5Identical += 1 }
        }
    }
}

/// Indices of the `k` largest values, largest first (ties: lower index first).
public func topK(_ values: [Float], _ k: Int) -> [Int] {
    Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k))
}

/// The parity report `tresnet-verify` prints: one row per tap in forward order, then top-k agreement.
public struct ParityReport: Sendable, Codable {
    public var tolerance: Tolerance
    public var rows: [TapComparison]
    public var topK: TopKAgreement?
    /// Rows carry the float64 oracle's distances.
    public var oracle: Bool
    public var passed: Bool { rows.allSatisfy(\.passed) }
    /// The first tap in forward order that fails, if any.
    public var firstFailure: String? { rows.first { !$0.passed }?.name }

    public init(tolerance: Tolerance, rows: [TapComparison], topK: TopKAgreement?, oracle: Bool = false) {
        self.tolerance = tolerance
        self.rows = rows
        self.topK = topK
        self.oracle = oracle
    }

    /// Runs `network` on the reference input and compares every tap present in `reference`.
    /// - Parameter reference: name → tensor, with `input` and any of `TResNetNetwork.tapNames`.
    /// - Parameter oracle: when given, also runs this float64 forward pass and adds the three distances per tap;
    ///   a tap then also passes when ours is no further from float64 than the reference (× 1.5).
    public static func run(
        _ network: TResNetNetwork, reference: [String: Tensor], tolerance: Tolerance,
        oracle: Float64Forward? = nil
    ) throws -> ParityReport {
        guard let input = reference["input"] else {
            throw TResNetError(
                .malformed, format: "reference", at: .entry("input"), "the reference has no 'input' array")
        }
        let present = network.tapPaths.filter { reference[$0] != nil }
        guard !present.isEmpty else {
            throw TResNetError(
                .malformed, format: "reference",
                "the reference holds none of the taps " + network.tapPaths.joined(separator: ", "))
        }
        let c = network.configuration
        guard input.rank == 4, input.shape[1] == c.inChannels else {
            throw TResNetError(
                .malformed, format: "reference", at: .entry("input"),
                "shape \(formatShape(input.shape)), but the model takes N×\(c.inChannels)×H×W")
        }
        let inputF32 = try input.converted(to: .float32)
        let (logits, taps) = try network.forward(inputF32, taps: Set(present))
        let depths = AccumulationDepth.taps(c, height: input.shape[2], width: input.shape[3])
        let truth = try oracle?.forward(inputF32)
        var rows: [TapComparison] = []
        for name in present {
            let ours = taps[name]!, ref = reference[name]!
            var row = try TapComparison(
                name: name, actual: ours, expected: ref, tolerance: tolerance, depth: depths[name] ?? 0)
            if let t = truth?[name] {
                let o = try doubles(ours), r = try doubles(ref)
                let distances = OracleDistances(
                    oursToReference: scaledDistance(o, from: r),
                    oursToFloat64: scaledDistance(o, from: t.values),
                    referenceToFloat64: scaledDistance(r, from: t.values))
                row.oracle = distances
                row.passed = row.withinTolerance || distances.oursAsCloseAsReference
            }
            rows.append(row)
        }
        var agreement: TopKAgreement?
        if let fc = reference[network.tapPaths.last ?? "head.fc"], fc.shape == logits.shape {
            agreement = try TopKAgreement(actual: logits, expected: fc.converted(to: .float32))
        }
        return ParityReport(tolerance: tolerance, rows: rows, topK: agreement, oracle: oracle != nil)
    }

    /// The human-readable table. Every number is finite or printed as a word (`—`, `nan`, `inf` never appear).
    public func render() -> String {
        var lines: [String] = []
        func pad(_ s: String, _ n: Int) -> String {
            s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
        }
        func sci(_ v: Double?) -> String {
            guard let v else { return "—" }
            return v.isFinite ? String(format: "%.2e", v) : "non-finite"
        }
        var header = pad("tap", 18) + pad("shape", 20) + pad("max abs", 10) + pad("err/scale", 11) + pad("budget", 10)
        if oracle { header += pad("ours↔f64", 10) + pad("ref↔f64", 10) }
        lines.append(header + pad("cosine", 12) + pad("worst at", 16) + "result")
        for r in rows {
            var result: String
            if r.withinTolerance {
                result = "pass"
            } else if r.passed {
                result = "pass (reference further from float64)"
            } else {
                result = "FAIL (\(r.failingElements) elements)"
            }
            if r.nonFinite > 0 { result += ", \(r.nonFinite) non-finite" }
            var line =
                pad(r.name, 18) + pad(formatShape(r.shape), 20) + pad(sci(r.maxAbsoluteError), 10)
                + pad(sci(r.scaledError), 11) + pad(sci(r.budget), 10)
            if oracle { line += pad(sci(r.oracle?.oursToFloat64), 10) + pad(sci(r.oracle?.referenceToFloat64), 10) }
            lines.append(
                line + pad(String(format: "%.8f", r.cosineSimilarity.isFinite ? r.cosineSimilarity : 0), 12)
                    + pad(formatShape(r.worstIndex), 16) + result)
        }
        if let t = topK {
            lines.append(
                "top-1 agreement: \(t.top1Agree)/\(t.images) images; identical top-5: \(t.top5Identical)/\(t.images)")
        }
        lines.append("tolerance: " + tolerance.description)
        if tolerance.rule == .float32Model {
            lines.append("err/scale: max |ours − reference| / (rms(reference) + |reference|) over the tap's elements")
        }
        if oracle {
            lines.append(
                "oracle: ours↔f64 and ref↔f64 in err/scale units against our float64 forward pass; a tap also "
                    + "passes when ours↔f64 ≤ \(OracleDistances.factor)·ref↔f64")
            let noisy = rows.filter { !$0.withinTolerance && $0.passed }.map(\.name)
            if !noisy.isEmpty {
                lines.append(
                    "note: the reference is further from float64 than ours at \(noisy.joined(separator: ", ")): "
                        + "it is noisier than float32 (a lower precision, another device) or comes from other weights")
            }
        }
        if let f = firstFailure {
            lines.append("FAILED: first failing tap is \(f)")
        } else if rows.allSatisfy(\.withinTolerance) {
            lines.append("PASSED: every tap within tolerance")
        } else {
            lines.append("PASSED: every tap within tolerance or no further from float64 than the reference")
        }
        return lines.joined(separator: "\n")
    }
}
