import Foundation
import TResNetCore

/// Element-wise tolerance, numpy `allclose` style: |actual − expected| ≤ absolute + relative·|expected|.
public struct Tolerance: Sendable, Codable, Equatable {
    public var absolute: Double
    public var relative: Double

    public init(absolute: Double, relative: Double) {
        self.absolute = absolute
        self.relative = relative
    }

    /// The defaults: float32 accumulation-order noise (docs/PARITY.md explains the choice).
    public static let float32 = Tolerance(absolute: 1e-4, relative: 1e-4)
}

/// How one captured activation compares with its PyTorch reference.
public struct TapComparison: Sendable, Codable {
    public var name: String
    public var shape: [Int]
    public var maxAbsoluteError: Double
    public var maxRelativeError: Double
    public var meanAbsoluteError: Double
    public var cosineSimilarity: Double
    /// Multi-index of the element with the largest |error| − tolerance margin.
    public var worstIndex: [Int]
    public var worstActual: Double
    public var worstExpected: Double
    /// Elements outside the tolerance.
    public var failingElements: Int
    public var nonFinite: Int
    public var passed: Bool
    /// Set when the shapes differ (then no element comparison was made).
    public var shapeMismatch: String?

    /// Compares `actual` with `expected` under `tolerance`.
    public init(name: String, actual: Tensor, expected: Tensor, tolerance: Tolerance) throws {
        self.name = name
        shape = expected.shape
        guard actual.shape == expected.shape else {
            shapeMismatch = "shape \(formatShape(actual.shape)), reference \(formatShape(expected.shape))"
            maxAbsoluteError = .infinity; maxRelativeError = .infinity; meanAbsoluteError = .infinity
            cosineSimilarity = 0; worstIndex = []; worstActual = 0; worstExpected = 0
            failingElements = expected.elementCount; nonFinite = 0; passed = false
            return
        }
        shapeMismatch = nil
        let a = try actual.floats(), e = try expected.floats()
        var maxAbs = 0.0, maxRel = 0.0, sumAbs = 0.0, dot = 0.0, na = 0.0, ne = 0.0
        var worst = 0, worstMargin = -Double.infinity, failing = 0, bad = 0
        for i in 0..<a.count {
            let x = Double(a[i]), y = Double(e[i])
            if !x.isFinite || !y.isFinite {
                if !(x.isNaN && y.isNaN) && x != y { bad += 1; failing += 1 }
                continue
            }
            let d = abs(x - y)
            maxAbs = max(maxAbs, d)
            if y != 0 { maxRel = max(maxRel, d / abs(y)) } else if d > 0 { maxRel = .infinity }
            sumAbs += d
            dot += x * y; na += x * x; ne += y * y
            let margin = d - (tolerance.absolute + tolerance.relative * abs(y))
            if margin > 0 { failing += 1 }
            if margin > worstMargin { worstMargin = margin; worst = i }
        }
        maxAbsoluteError = maxAbs
        maxRelativeError = maxRel
        meanAbsoluteError = a.isEmpty ? 0 : sumAbs / Double(a.count)
        cosineSimilarity = (na == 0 && ne == 0) ? 1 : dot / ((na * ne).squareRoot() + .leastNonzeroMagnitude)
        worstIndex = TapComparison.multiIndex(worst, shape: expected.shape)
        worstActual = a.isEmpty ? 0 : Double(a[worst])
        worstExpected = e.isEmpty ? 0 : Double(e[worst])
        failingElements = failing
        nonFinite = bad
        passed = failing == 0
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
            throw TResNetError(.malformed, "logits shapes differ: \(formatShape(actual.shape)) vs \(formatShape(expected.shape))")
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
    public var passed: Bool { rows.allSatisfy(\.passed) }
    /// The first tap in forward order that fails, if any.
    public var firstFailure: String? { rows.first { !$0.passed }?.name }

    public init(tolerance: Tolerance, rows: [TapComparison], topK: TopKAgreement?) {
        self.tolerance = tolerance
        self.rows = rows
        self.topK = topK
    }

    /// Runs `network` on the reference input and compares every tap present in `reference`.
    /// - Parameter reference: name → tensor, with `input` and any of `TResNetNetwork.tapNames`.
    public static func run(_ network: TResNetNetwork, reference: [String: Tensor], tolerance: Tolerance) throws -> ParityReport {
        guard let input = reference["input"] else {
            throw TResNetError(.malformed, format: "reference", at: .entry("input"), "the reference has no 'input' array")
        }
        let present = TResNetNetwork.tapNames.filter { reference[$0] != nil }
        guard !present.isEmpty else {
            throw TResNetError(.malformed, format: "reference",
                               "the reference holds none of the taps " + TResNetNetwork.tapNames.joined(separator: ", "))
        }
        let inputF32 = try input.converted(to: .float32)
        let (logits, taps) = try network.forward(inputF32, taps: Set(present))
        var rows: [TapComparison] = []
        for name in present {
            rows.append(try TapComparison(name: name, actual: taps[name]!, expected: reference[name]!.converted(to: .float32),
                                          tolerance: tolerance))
        }
        var agreement: TopKAgreement?
        if let fc = reference["head.fc"], fc.shape == logits.shape {
            agreement = try TopKAgreement(actual: logits, expected: fc.converted(to: .float32))
        }
        return ParityReport(tolerance: tolerance, rows: rows, topK: agreement)
    }

    /// The human-readable table.
    public func render() -> String {
        var lines: [String] = []
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func sci(_ v: Double) -> String { v.isFinite ? String(format: "%.2e", v) : "inf" }
        lines.append(pad("tap", 18) + pad("shape", 20) + pad("max abs", 10) + pad("max rel", 10) + pad("cosine", 12)
                     + pad("worst at", 18) + "result")
        for r in rows {
            let result = r.passed ? "pass" : (r.shapeMismatch != nil ? "FAIL (\(r.shapeMismatch!))"
                                                : "FAIL (\(r.failingElements) elements)")
            lines.append(pad(r.name, 18) + pad(formatShape(r.shape), 20) + pad(sci(r.maxAbsoluteError), 10)
                         + pad(sci(r.maxRelativeError), 10) + pad(String(format: "%.8f", r.cosineSimilarity), 12)
                         + pad(formatShape(r.worstIndex), 18) + result)
        }
        if let t = topK {
            lines.append("top-1 agreement: \(t.top1Agree)/\(t.images) images; identical top-5: \(t.top5Identical)/\(t.images)")
        }
        lines.append("tolerance: |ours − reference| ≤ \(tolerance.absolute) + \(tolerance.relative)·|reference|")
        if let f = firstFailure { lines.append("FAILED: first failing tap is \(f)") } else { lines.append("PASSED: every tap within tolerance") }
        return lines.joined(separator: "\n")
    }
}
