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
    fileprivate func padding(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
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

/// The canonical tensors of one model in walk order, ready to write or run.
public struct BoundModel: Sendable {
    public let configuration: TResNetConfiguration
    /// Stored tensors (no `num_batches_tracked`) in walk order; float tensors are f32, f16 or bf16.
    public let tensors: [(spec: TensorSpec, tensor: Tensor)]
    /// Unexpected names ignored under `allowUnexpected`.
    public let ignored: [String]
    private let positions: [String: Int]

    public init(configuration: TResNetConfiguration, tensors: [(spec: TensorSpec, tensor: Tensor)], ignored: [String]) {
        self.configuration = configuration
        self.tensors = tensors
        self.ignored = ignored
        var positions: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { positions[t.spec.path] = i }
        self.positions = positions
    }

    /// The tensors as a canonical (timm-spelling) state dict, in walk order.
    public func stateDict() throws -> StateDict {
        var sd = StateDict()
        for (spec, t) in tensors { try sd.insert(spec.path, t) }
        return sd
    }

    /// The tensor at canonical `path` (what the runtime fetches), nil for a path the tree does not store.
    public subscript(path: String) -> Tensor? { positions[path].map { tensors[$0].tensor } }
}

/// Matches canonical names to the tree: every missing, unexpected and mis-shaped tensor at once.
public enum Binder {
    /// Checks `entries` (canonical names) against `configuration` without touching tensor bytes.
    /// - Parameter sourceNames: canonical name → the name in the file, for names a dialect renamed (shown in
    ///   the report so the user can find the tensor in their file).
    public static func check(_ entries: [(name: String, shape: [Int], dtype: DType)], against configuration: TResNetConfiguration,
                             options: BindingOptions = .strict, sourceNames: [String: String] = [:]) -> BindingReport {
        let specs = TResNet(configuration).listing
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
                    problems.append(BindingProblem(kind: .dtype, path: spec.path, expected: spec.shape, actual: have.shape,
                                                   detail: "must be one integer, file has \(have.dtype.rawValue)\(formatShape(have.shape))"))
                }
                continue
            }
            if have.shape != spec.shape {
                var hint: String?
                if spec.path.hasPrefix("head.fc."), otherClasses, let n = inferred?.configuration.numClasses {
                    hint = "other class count: the file has \(n) classes, the configuration \(configuration.numClasses)"
                }
                problems.append(BindingProblem(kind: .shape, path: spec.path, expected: spec.shape, actual: have.shape, hint: hint))
            } else if !have.dtype.isFloatingPoint {
                problems.append(BindingProblem(kind: .dtype, path: spec.path, expected: spec.shape, actual: have.shape,
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
                hints.append("this looks like the MIIL spelling ('\(Dialect.miil.marker)' is present): let the dialect be "
                             + "detected, or pass --dialect miil")
            }
            if let inferred, inferred.configuration != configuration {
                var bodyOnly = inferred.configuration
                bodyOnly.numClasses = configuration.numClasses
                if bodyOnly == configuration {
                    hints.append("other class count: the file has \(inferred.configuration.numClasses) classes, "
                                 + "the configuration \(configuration.numClasses)")
                } else {
                    hints.append("other variant: the tensors look like \(inferred.configuration), not \(configuration); "
                                 + "drop --variant to use what the file holds")
                }
            }
            if options.allowUnexpected == false, problems.allSatisfy({ $0.kind == .unexpected }) {
                hints.append("--allow-unexpected ignores tensors the model does not use (they are listed, never loaded)")
            }
        }
        return BindingReport(configuration: configuration, problems: problems, ignored: ignored, hints: hints)
    }

    /// Binds a canonical state dict to `configuration`: strict check, then the stored tensors in walk order
    /// with f64 narrowed to f32. Throws `.binding` (exit 2) with the full report.
    public static func bind(_ stateDict: StateDict, to configuration: TResNetConfiguration,
                            options: BindingOptions = .strict, extraHints: [String] = [],
                            sourceNames: [String: String] = [:]) throws -> BoundModel {
        var report = check(stateDict.entries.map { ($0.name, $0.tensor.shape, $0.tensor.dtype) }, against: configuration,
                           options: options, sourceNames: sourceNames)
        guard report.isClean else {
            report.hints = extraHints + report.hints
            throw report.error
        }
        var out: [(TensorSpec, Tensor)] = []
        for spec in TResNet(configuration).storedTensors {
            guard var t = stateDict[spec.path] else { continue }  // cannot happen after a clean check
            if t.dtype == .float64 { t = try t.converted(to: .float32) }
            out.append((spec, t))
        }
        return BoundModel(configuration: configuration, tensors: out, ignored: report.ignored)
    }
}
