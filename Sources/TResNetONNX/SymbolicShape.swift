/// An integer expression over the symbolic sizes of the graph input (batch `N`, channels `C`, height `H`,
/// width `W`), in a normal form so that two expressions that compute the same size compare equal:
/// a sum of coefficient × product-of-atoms terms, where an atom is a symbol or `⌊e / k⌋` (k > 1, e not a multiple
/// of k). It supports what exporters' shape subgraphs compute: +, −, ×, and division by a positive constant.
///
/// Division rounds down. ONNX integer `Div` truncates toward zero; the two agree on the non-negative sizes these
/// subgraphs divide, and constants are divided exactly as ONNX does (truncation).
struct SymExpr: Hashable, Sendable, CustomStringConvertible {
    /// Product of atoms (sorted, repeated for powers) → coefficient; no zero coefficients.
    fileprivate(set) var terms: [[SymAtom]: Int]

    static let maxTerms = 64
    /// How deep `⌊…/k⌋` atoms nest (0 for a polynomial in the symbols); bounded by `maxNesting`.
    var nesting: Int {
        terms.keys.lazy.flatMap { $0 }.map { atom -> Int in
            if case .floorDiv(let e, _) = atom { return e.nesting + 1 }
            return 0
        }.max() ?? 0
    }
    static let maxNesting = 8

    init(_ constant: Int) { terms = constant == 0 ? [:] : [[]: constant] }
    init(symbol: String) { terms = [[.symbol(symbol)]: 1] }
    private init(terms: [[SymAtom]: Int]) { self.terms = terms.filter { $0.value != 0 } }

    /// The value when the expression is a constant.
    var constant: Int? {
        if terms.isEmpty { return 0 }
        if terms.count == 1, let c = terms[[]] { return c }
        return nil
    }

    static func + (a: SymExpr, b: SymExpr) throws -> SymExpr {
        var t = a.terms
        for (m, c) in b.terms {
            let (s, o) = t[m, default: 0].addingReportingOverflow(c)
            guard !o else { throw SymExprError.overflow }
            t[m] = s
        }
        return try SymExpr(terms: t).bounded()
    }

    static func - (a: SymExpr, b: SymExpr) throws -> SymExpr { try a + (try b.scaled(-1)) }

    static func * (a: SymExpr, b: SymExpr) throws -> SymExpr {
        var t: [[SymAtom]: Int] = [:]
        for (m1, c1) in a.terms {
            for (m2, c2) in b.terms {
                let (p, o1) = c1.multipliedReportingOverflow(by: c2)
                guard !o1, m1.count + m2.count <= 16 else { throw SymExprError.overflow }
                let m = (m1 + m2).sorted()
                let (s, o2) = t[m, default: 0].addingReportingOverflow(p)
                guard !o2 else { throw SymExprError.overflow }
                t[m] = s
            }
        }
        return try SymExpr(terms: t).bounded()
    }

    func scaled(_ k: Int) throws -> SymExpr {
        var t: [[SymAtom]: Int] = [:]
        for (m, c) in terms {
            let (p, o) = c.multipliedReportingOverflow(by: k)
            guard !o else { throw SymExprError.overflow }
            t[m] = p
        }
        return SymExpr(terms: t)
    }

    /// ⌊self / k⌋ for a constant k > 0 (constants: ONNX's truncating division).
    func dividedDown(by k: Int) throws -> SymExpr {
        guard k > 0 else { throw SymExprError.divisor(k) }
        if let c = constant { return SymExpr(c / k) }
        if k == 1 { return self }
        // ⌊(k·A + c) / k⌋ = A + ⌊c / k⌋ when A is an integer expression.
        var exact: [[SymAtom]: Int] = [:]
        var rest: [[SymAtom]: Int] = [:]
        for (m, c) in terms {
            if !m.isEmpty, c % k == 0 { exact[m] = c / k } else { rest[m] = c }
        }
        let restExpr = SymExpr(terms: rest)
        if let c = restExpr.constant {
            return try SymExpr(terms: exact) + SymExpr(c >= 0 ? c / k : -((-c + k - 1) / k))
        }
        // ⌊⌊e / a⌋ / k⌋ = ⌊e / (a·k)⌋.
        if exact.isEmpty, terms.count == 1, let (m, c) = terms.first, c == 1, m.count == 1,
            case .floorDiv(let e, let a) = m[0]
        {
            let (ak, o) = a.multipliedReportingOverflow(by: k)
            guard !o else { throw SymExprError.overflow }
            return SymExpr(terms: [[.floorDiv(e, ak)]: 1])
        }
        guard nesting < Self.maxNesting else { throw SymExprError.overflow }
        return SymExpr(terms: [[.floorDiv(self, k)]: 1])
    }

    private func bounded() throws -> SymExpr {
        guard terms.count <= Self.maxTerms else { throw SymExprError.overflow }
        return self
    }

    var description: String {
        if terms.isEmpty { return "0" }
        let ordered = terms.sorted { a, b in
            a.key.count != b.key.count ? a.key.count > b.key.count : a.key.lexicographicallyPrecedes(b.key)
        }
        var out = ""
        for (i, (m, c)) in ordered.enumerated() {
            let factors = m.map(\.description)
            var body: String
            if factors.isEmpty {
                body = String(abs(c))
            } else {
                body = factors.joined(separator: "·")
                if abs(c) != 1 { body = "\(abs(c))·" + body }
            }
            if i == 0 { out = c < 0 ? "-" + body : body } else { out += c < 0 ? " - " + body : " + " + body }
        }
        return out
    }
}

/// A factor of a `SymExpr` term.
indirect enum SymAtom: Hashable, Sendable, Comparable, CustomStringConvertible {
    case symbol(String)
    case floorDiv(SymExpr, Int)

    var description: String {
        switch self {
        case .symbol(let s): return s
        case .floorDiv(let e, let k):
            let inner = e.description
            return
                (e.terms.count == 1 && e.terms.first?.key.count == 1 && e.terms.first?.value == 1
                ? inner : "(\(inner))") + "/\(k)"
        }
    }

    static func < (a: SymAtom, b: SymAtom) -> Bool { a.description < b.description }
}

enum SymExprError: Error, CustomStringConvertible {
    case overflow
    case divisor(Int)

    var description: String {
        switch self {
        case .overflow: return "the size arithmetic overflows or grows beyond what a shape needs"
        case .divisor(let k): return "division by \(k)"
        }
    }
}
