import TResNetCore

/// One reason a state dict does not fit the tree.
public struct BindingProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case missing, unexpected, shape, dtype
    }

    public var kind: Kind
    public var path: String
    public var expected: [Int]?
    public var actual: [Int]?
    public var detail: String?
    /// A likely cause ("other class count", …), when one fits.
    public var hint: String?

    public var description: String {
        var s = kind.rawValue.padding(10) + displaySafe(path)
        switch kind {
        case .missing: if let expected { s += " expected \(formatShape(expected))" }
        case .unexpected: if let actual { s += " \(formatShape(actual))" }
        case .shape: s += " expected \(formatShape(expected ?? [])), file has \(formatShape(actual ?? []))"
        case .dtype: break
        }
        if let detail { s += " " + detail }
        if let hint { s += " — " + hint }
        return s
    }
}

extension String {
    fileprivate func padding(_ n: Int) -> String {
        count >= n ? self + " " : self + String(repeating: " ", count: n - count)
    }
}

/// Strictness. Strict by default; every escape hatch is explicit and named.
public struct BindingOptions: Sendable, Hashable {
    /// `--allow-unexpected`: tensors the tree does not know are ignored (and listed) instead of failing.
    /// Missing or mis-shaped tensors are never tolerated, and missing weights are never filled.
    public var allowUnexpected: Bool

    public init(allowUnexpected: Bool = false) { self.allowUnexpected = allowUnexpected }
    public static let strict = BindingOptions()
}

/// Everything found when checking names/shapes against a configuration.
public struct BindingReport: Sendable {
    public var configuration: TResNetConfiguration
    public var problems: [BindingProblem]
    /// Unexpected tensors tolerated by `allowUnexpected`.
    public var ignored: [String]
    /// Whole-file hints (other variant, other dialect).
    public var hints: [String]

    public var isClean: Bool { problems.isEmpty }

    /// The full multi-line report the CLI prints.
    public var message: String {
        let counts = [BindingProblem.Kind.missing, .unexpected, .shape, .dtype].compactMap { k -> String? in
            let n = problems.filter { $0.kind == k }.count
            return n == 0 ? nil : "\(n) \(k == .shape ? "shape mismatch" : k.rawValue)"
        }
        var lines = ["the tensors do not fit \(configuration): \(counts.joined(separator: ", "))"]
        lines += problems.map { "  " + $0.description }
        lines += hints.map { "hint: " + $0 }
        return lines.joined(separator: "\n")
    }

    public var error: TResNetError {
        let first = problems.first.map { TResNetError.Location.tensor($0.path) }
        return TResNetError(.binding, format: "binding", at: first, message)
    }
}

/// A model bound to its tensors: the layer tree with a tensor in every slot (what the runtime compiles and the
/// ONNX writer emits), and the same tensors in walk order (what the file writers stream).
public struct BoundModel: Sendable {
    /// The layer tree, every stored tensor in its slot.
    public let tree: TResNet
    /// Stored tensors (no `num_batches_tracked`) in walk order; float tensors are f32, f16 or bf16.
    public let tensors: [(spec: TensorSpec, tensor: Tensor)]
    /// Unexpected names ignored under `allowUnexpected`.
    public let ignored: [String]

    public var configuration: TResNetConfiguration { tree.configuration }

    /// `tree` must have been bound (every stored slot filled): `Binder.bind` makes such trees.
    init(tree: TResNet, ignored: [String]) {
        self.tree = tree
        self.ignored = ignored
        tensors = tree.boundTensors().compactMap { item in
            guard item.spec.role != .optionalBuffer, let t = item.tensor else { return nil }
            return (item.spec, t)
        }
    }

    /// The same tree with every stored tensor replaced by `transform(spec, tensor)` (dtype conversion, …).
    public func mapTensors(_ transform: (TensorSpec, Tensor) throws -> Tensor) throws -> BoundModel {
        var tree = tree
        try withoutActuallyEscaping(transform) { transform in
            var w = ParameterWalker { spec, slot in
                guard spec.role != .optionalBuffer, let t = slot else { slot = nil; return }
                slot = try transform(spec, t)
            }
            try tree.walk(&w)
        }
        return BoundModel(tree: tree, ignored: ignored)
    }
}

/// Matches canonical names to the tree: every missing, unexpected and mis-shaped tensor at once.
public enum Binder {
    /// Checks `entries` (canonical names) against `configuration` without touching tensor bytes.
    /// - Parameter sourceNames: canonical name → the name in the file, for names a dialect renamed (shown in
    ///   the report so the user can find the tensor in their file).
    public static func check(
        _ entries: [(name: String, shape: [Int], dtype: DType)], against configuration: TResNetConfiguration,
        options: BindingOptions = .strict, sourceNames: [String: String] = [:]
    ) -> BindingReport {
        check(entries, against: TResNet(configuration), options: options, sourceNames: sourceNames)
    }

    /// Checks `entries` against the tensors `tree` declares.
    static func check(
        _ entries: [(name: String, shape: [Int], dtype: DType)], against tree: TResNet,
        options: BindingOptions = .strict, sourceNames: [String: String] = [:]
    ) -> BindingReport {
        let configuration = tree.configuration
        let specs = tree.listing
        var byName: [String: (shape: [Int], dtype: DType)] = [:]
        for e in entries { byName[e.name] = (e.shape, e.dtype) }
        let known = Set(specs.map(\.path))
        var problems: [BindingProblem] = []
        var ignored: [String] = []

        // Inferred architecture of the file, for hints.
        let inferred = try? ArchitectureInference.infer(entries.map { ($0.name, $0.shape) })
        let otherClasses = inferred.map { $0.configuration.numClasses != configuration.numClasses } ?? false

        for spec in specs {
            guard let have = byName[spec.path] else {
                if spec.role != .optionalBuffer {
                    problems.append(BindingProblem(kind: .missing, path: spec.path, expected: spec.shape))
                }
                continue
            }
            if spec.role == .optionalBuffer {
                if have.dtype.isFloatingPoint || have.shape.reduce(1, *) != 1 {
                    problems.append(
                        BindingProblem(
                            kind: .dtype, path: spec.path, expected: spec.shape, actual: have.shape,
                            detail: "must be one integer, file has \(have.dtype.rawValue)\(formatShape(have.shape))"))
                }
                continue
            }
            if have.shape != spec.shape {
                var hint: String?
                if spec.path.hasPrefix("head.fc."), otherClasses, let n = inferred?.configuration.numClasses {
                    hint = "other class count: the file has \(n) classes, the configuration \(configuration.numClasses)"
                }
                problems.append(
                    BindingProblem(kind: .shape, path: spec.path, expected: spec.shape, actual: have.shape, hint: hint))
            } else if !have.dtype.isFloatingPoint {
                problems.append(
                    BindingProblem(
                        kind: .dtype, path: spec.path, expected: spec.shape, actual: have.shape,
                        detail: "is \(have.dtype.rawValue), expected a float type"))
            }
        }
        for e in entries where !known.contains(e.name) {
            if options.allowUnexpected { ignored.append(e.name); continue }
            problems.append(BindingProblem(kind: .unexpected, path: e.name, actual: e.shape))
        }

        for i in problems.indices {
            if let original = sourceNames[problems[i].path], original != problems[i].path {
                let note = "(in the file: '\(displaySafe(original))')"
                problems[i].detail = problems[i].detail.map { $0 + " " + note } ?? note
            }
        }
        var hints: [String] = []
        let names = Set(entries.map(\.name))
        if !problems.isEmpty {
            if names.contains(Dialect.miil.marker) {
                hints.append(
                    "this looks like the MIIL spelling ('\(Dialect.miil.marker)' is present): let the dialect be "
                        + "detected, or pass --dialect miil")
            }
            if let inferred, inferred.configuration != configuration {
                var bodyOnly = inferred.configuration
                bodyOnly.numClasses = configuration.numClasses
                if bodyOnly == configuration {
                    hints.append(
                        "other class count: the file has \(inferred.configuration.numClasses) classes, "
                            + "the configuration \(configuration.numClasses)")
                } else {
                    hints.append(
                        "other variant: the tensors look like \(inferred.configuration), not \(configuration); "
                            + "drop --variant to use what the file holds")
                }
            }
            if options.allowUnexpected == false, problems.allSatisfy({ $0.kind == .unexpected }) {
                hints.append(
                    "--allow-unexpected ignores tensors the model does not use (they are listed, never loaded)")
            }
        }
        return BindingReport(configuration: configuration, problems: problems, ignored: ignored, hints: hints)
    }

    /// Binds a canonical state dict to `configuration`: strict check, then the layer tree with every stored
    /// tensor in its slot (f64 narrowed to f32). Throws `.binding` (exit 2) with the full report.
    public static func bind(
        _ stateDict: StateDict, to configuration: TResNetConfiguration,
        options: BindingOptions = .strict, extraHints: [String] = [],
        sourceNames: [String: String] = [:]
    ) throws -> BoundModel {
        var report = check(
            stateDict.entries.map { ($0.name, $0.tensor.shape, $0.tensor.dtype) }, against: configuration,
            options: options, sourceNames: sourceNames)
        guard report.isClean else {
            report.hints = extraHints + report.hints
            throw report.error
        }
        return try fill(configuration, ignored: report.ignored) { stateDict[$0] }
    }

    /// Binds the tensors `lookup` gives by canonical name (an exported graph, a test's dictionary): every
    /// missing or mis-shaped tensor is reported at once, as `bind` does; names `lookup` holds beyond the tree
    /// are not seen. Each conv unit takes the normalisation the tensors show: `.bn.*`, or BatchNorm folded into
    /// `.conv.bias` (an exported graph may fold some convs and keep others' BatchNorm).
    public static func bind(_ configuration: TResNetConfiguration, lookup: (String) throws -> Tensor?) throws
        -> BoundModel
    {
        try configuration.validate()
        var tree = TResNet(configuration)
        try tree.forEachConvUnit { unit in
            let bn = try lookup(unit.path + ".bn.weight") != nil, bias = try lookup(unit.path + ".conv.bias") != nil
            if bn != bias { unit.store(bn ? .batchNorm : .folded) }
        }
        var w = ParameterWalker()
        try tree.walk(&w)  // names the units that changed
        var entries: [(name: String, shape: [Int], dtype: DType)] = []
        for spec in w.tensors {
            if let t = try lookup(spec.path) { entries.append((spec.path, t.shape, t.dtype)) }
        }
        let report = check(entries, against: tree)
        guard report.isClean else { throw report.error }
        return try fill(tree, ignored: [], lookup)
    }

    /// Fills the tree's stored slots from `lookup` (after a clean check).
    private static func fill(
        _ configuration: TResNetConfiguration, ignored: [String],
        _ lookup: (String) throws -> Tensor?
    ) throws -> BoundModel {
        try fill(TResNet(configuration), ignored: ignored, lookup)
    }

    private static func fill(_ tree: TResNet, ignored: [String], _ lookup: (String) throws -> Tensor?) throws
        -> BoundModel
    {
        var tree = tree
        try withoutActuallyEscaping(lookup) { lookup in
            var w = ParameterWalker { spec, slot in
                guard spec.role != .optionalBuffer, var t = try lookup(spec.path) else { return }
                if t.dtype == .float64 { t = try t.converted(to: .float32) }
                slot = t
            }
            try tree.walk(&w)
        }
        return BoundModel(tree: tree, ignored: ignored)
    }
}
