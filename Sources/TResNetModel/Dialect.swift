import TResNetCore

/// One rename rule on dotted path components. A component pattern `conv#` matches `conv` followed by one or
/// more digits and carries them to the same component in `to`; `#` alone matches any run of digits.
/// Every non-overlapping match in a name is rewritten (like `re.sub`).
public struct RenameRule: Sendable, Hashable, CustomStringConvertible {
    public var from: [String]
    public var to: [String]

    public init(_ from: String, _ to: String) {
        self.from = from.split(separator: ".").map(String.init)
        self.to = to.split(separator: ".").map(String.init)
    }

    public var description: String { from.joined(separator: ".") + " → " + to.joined(separator: ".") }

    /// The digits a component pattern captures, or nil when it does not match.
    private static func match(_ pattern: String, _ component: String) -> String?? {
        guard let hash = pattern.firstIndex(of: "#") else { return pattern == component ? .some(nil) : nil }
        let prefix = pattern[..<hash]
        guard component.hasPrefix(prefix) else { return nil }
        let digits = component.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return .some(String(digits))
    }

    public func apply(_ components: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < components.count {
            if i + from.count <= components.count {
                var captures: [String] = []
                var ok = true
                for (j, p) in from.enumerated() {
                    guard let m = Self.match(p, components[i + j]) else { ok = false; break }
                    if let d = m { captures.append(d) }
                }
                if ok {
                    var k = 0
                    for t in to {
                        if t.contains("#"), k < captures.count {
                            out.append(t.replacing("#", with: captures[k]))
                            k += 1
                        } else {
                            out.append(t)
                        }
                    }
                    i += from.count
                    continue
                }
            }
            out.append(components[i])
            i += 1
        }
        return out
    }
}

/// A checkpoint spelling, as data: renames applied in order, names dropped before renaming, and the weight
/// transform its norm layers need. The tree speaks one spelling (current timm's); every other spelling is
/// mapped at the edge, once.
public struct Dialect: Sendable, Hashable, CustomStringConvertible {
    /// How the norm weights of this spelling relate to plain BatchNorm weights.
    public enum NormConvention: String, Sendable, Hashable {
        /// Plain BatchNorm weights: used as they are.
        case batchNorm
        /// InPlaceABN computes with |γ| + ε: the BN weight is |w| + 1e-5, computed in f32, applied once.
        case inPlaceABN
    }

    public var id: String
    public var summary: String
    /// Suffixes (whole trailing components) whose tensors are dropped before renaming.
    public var dropSuffixes: [String]
    public var renames: [RenameRule]
    public var normConvention: NormConvention
    /// A name whose presence identifies this spelling.
    public var marker: String

    public var description: String { id }

    /// Current timm (≥ 0.9, HF hub): already canonical.
    public static let timm = Dialect(
        id: "timm", summary: "current timm spelling (ConvNormAct: conv1.conv / conv1.bn), plain BatchNorm",
        dropSuffixes: [], renames: [], normConvention: .batchNorm, marker: "body.conv1.conv.weight")

    /// Official Alibaba-MIIL code and timm ≤ 0.6: `nn.Sequential(conv, InPlaceABN)`, the AA conv nested one
    /// level deeper. The rule order is timm's `checkpoint_filter_fn` (docs/TRESNET.md): the nested AA forms
    /// first. `.filt` buffers (remove_aa_jit builds) are dropped: the blur filter is synthesised.
    public static let miil = Dialect(
        id: "miil",
        summary:
            "official MIIL / timm ≤ 0.6 spelling (Sequential(conv, InPlaceABN): conv1.0 / conv1.1), InPlaceABN weights",
        dropSuffixes: ["filt"],
        renames: [
            RenameRule("conv#.0.0", "conv#.conv"),  // the conv of an anti-aliased conv
            RenameRule("conv#.0.1", "conv#.bn"),  // its InPlaceABN
            RenameRule("conv#.0", "conv#.conv"),
            RenameRule("conv#.1", "conv#.bn"),
            RenameRule("downsample.#.0", "downsample.#.conv"),
            RenameRule("downsample.#.1", "downsample.#.bn")
        ],
        normConvention: .inPlaceABN, marker: "body.conv1.0.weight")

    public static let all: [Dialect] = [.timm, .miil]

    public static func named(_ id: String) -> Dialect? { all.first { $0.id == id } }

    /// The dialect a name set is spelled in, by its marker; nil when neither marker is present.
    public static func detect(_ names: some Sequence<String>) -> Dialect? {
        let set = Set(names)
        return all.first { set.contains($0.marker) }
    }

    /// The canonical name for `name`, or nil when this dialect drops it.
    public func canonicalName(_ name: String) -> String? {
        let components = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if let last = components.last, dropSuffixes.contains(last) { return nil }
        return renames.reduce(components) { $1.apply($0) }.joined(separator: ".")
    }

    /// Whether the canonical tensor `name` needs the InPlaceABN weight transform in this dialect.
    public func transformsWeight(canonicalName name: String) -> Bool {
        normConvention == .inPlaceABN && name.hasSuffix("bn.weight")
    }

    /// Applies the InPlaceABN rule: |w| + 1e-5 in f32, then back to the tensor's dtype (f64 → f32).
    public static func inPlaceABNToBatchNorm(_ t: Tensor) throws -> Tensor {
        let values = try t.floats().map { abs($0) + Float(1e-5) }
        let f32 = Tensor(shape: t.shape, floats: values)
        return t.dtype == .float16 || t.dtype == .bfloat16 ? try f32.converted(to: t.dtype) : f32
    }
}

/// The result of mapping a name set through a dialect.
public struct DialectMapping: Sendable {
    public var dialect: Dialect
    /// Whether the dialect was detected (true) or forced.
    public var detected: Bool
    /// `(source name, canonical name)` in source order, dropped names excluded.
    public var renamed: [(source: String, canonical: String)]
    /// Source names dropped by the dialect (`.filt`).
    public var dropped: [String]
    /// Source names that map to the same canonical name as an earlier one.
    public var collisions: [String]
}

extension Dialect {
    /// Maps `names` to canonical spelling.
    public func map(_ names: [String], detected: Bool) -> DialectMapping {
        var renamed: [(String, String)] = []
        var dropped: [String] = []
        var seen = Set<String>()
        var collisions: [String] = []
        for n in names {
            guard let c = canonicalName(n) else { dropped.append(n); continue }
            if !seen.insert(c).inserted { collisions.append(n); continue }
            renamed.append((n, c))
        }
        return DialectMapping(
            dialect: self, detected: detected, renamed: renamed, dropped: dropped, collisions: collisions)
    }
}
