import TResNetCheckpoint
import TResNetCore
import TResNetFormat
import TResNetModel
import TResNetONNX

/// The dtype requested for an output.
public enum OutputDType: String, Sendable, CaseIterable {
    /// The source's dtype (f64 narrowed to f32).
    case keep
    case f32, f16, bf16

    var target: DType? {
        switch self {
        case .keep: return nil
        case .f32: return .float32
        case .f16: return .float16
        case .bf16: return .bfloat16
        }
    }
}

/// A checkpoint mapped onto the tree: the dialect found, the architecture, and the bound tensors.
public struct PreparedModel: Sendable {
    public var checkpoint: LoadedCheckpoint
    public var mapping: DialectMapping
    public var architecture: InferredArchitecture
    public var bound: BoundModel
    /// BN weights turned from InPlaceABN to BatchNorm (|w| + 1e-5).
    public var transformedWeights: Int

    public var dialect: Dialect { mapping.dialect }
}

/// What a conversion did, for the CLI summary.
public struct ConversionSummary: Sendable {
    public var source: String
    public var output: String
    public var sourceFormat: ContainerFormat
    public var wrapper: String?
    public var strippedPrefix: String?
    public var dialect: String
    public var dialectDetected: Bool
    public var architecture: InferredArchitecture
    public var outputKind: String
    public var dtype: OutputDType
    public var tensors: Int
    public var parameters: Int
    public var transformedWeights: Int
    public var dropped: [String]
    public var ignored: [String]
    public var bytesIn: Int
    public var bytesOut: Int
    public var seconds: Double
    public var dryRun = false
    /// `(name in the file, canonical name)` for every tensor the dialect renamed.
    public var renamed: [(source: String, canonical: String)] = []
    /// How the weights were found (container kind, other candidates, prefix, opaque classes): `ReadingReport`.
    public var reading: ReadingReport?
    /// What forced the architecture, when it was forced (`--variant`, or the zoo catalog).
    public var variantSource = "--variant"

    /// The renames, one per line (`--show-mapping`).
    public var mappingLines: [String] {
        renamed.map { "  \(displaySafe($0.source)) → \(displaySafe($0.canonical))" }
    }

    /// The human-readable summary lines.
    public var lines: [String] {
        var out: [String] = []
        out.append(
            "source:       \(displaySafe(source)) (\(sourceFormat.rawValue)"
                + (wrapper.map { ", state dict under '\(displaySafe($0))'" } ?? ", plain state dict")
                + (strippedPrefix.map { ", prefix '\(displaySafe($0))' stripped" } ?? "") + ")")
        out += reading?.lines ?? []
        out.append(
            "dialect:      \(dialect) (\(dialectDetected ? "detected" : "forced"))"
                + (transformedWeights > 0 ? "; \(transformedWeights) InPlaceABN weights → BatchNorm (|w| + 1e-5)" : ""))
        out.append(
            "architecture: \(architecture.configuration)\(architecture.forced ? " (forced by \(variantSource))" : "")")
        for why in architecture.explanation { out.append("              - \(why)") }
        if !dropped.isEmpty {
            out.append(
                "dropped:      \(dropped.count) derived tensors (\(dropped.prefix(3).map { displaySafe($0) }.joined(separator: ", "))…)"
            )
        }
        if !ignored.isEmpty {
            out.append(
                "ignored:      \(ignored.count) unexpected tensors (--allow-unexpected): "
                    + ignored.map { displaySafe($0) }.joined(separator: ", "))
        }
        out.append(
            "output:       \(displaySafe(output)) (\(outputKind), dtype \(dtype.rawValue))"
                + (dryRun ? " — dry run, nothing written" : ""))
        out.append("tensors:      \(tensors), parameters \(parameters.formatted3())")
        out.append("bytes:        \(bytesIn.formatted3()) in, \(bytesOut.formatted3()) out")
        out.append("time:         \(String(format3: seconds)) s")
        return out
    }
}

extension Int {
    /// The number with its digits in groups of three (`1,234,567`).
    public func formatted3() -> String {
        let s = String(self)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0, i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}

extension String {
    init(format3 v: Double) {
        let ms = Int((v * 1000).rounded())
        self = "\(ms / 1000).\(String(ms % 1000).leftPad3())"
    }
    func leftPad3() -> String { String(repeating: "0", count: max(0, 3 - count)) + self }
}

/// The conversion pipeline: read → detect dialect → map → infer → bind → convert dtypes → write.
public enum Conversion {
    public struct Options: Sendable {
        public var dtype: OutputDType = .keep
        /// `--variant`: force a zoo variant (class count still from the file unless `numClasses` is set).
        public var variant: String?
        public var numClasses: Int?
        /// `--dialect`: force `timm` or `miil`.
        public var dialect: String?
        /// `--key`: wrapper key override for the reader.
        public var key: String?
        /// `--ema`, `--prefix`, `--strict-pickle` (`CheckpointReadOptions`).
        public var ema = false
        public var prefix: String?
        public var strictPickle = false
        /// Class names to record (`labels.names`); nil → a hub folder's `label_names`, else none.
        public var labelNames: [String]?

        /// The reader's options.
        public var reading: CheckpointReadOptions {
            CheckpointReadOptions(key: key, ema: ema, prefix: prefix, strictPickle: strictPickle)
        }
        public var binding: BindingOptions = .strict
        /// `--force`: replace an existing output.
        public var overwrite = false
        /// Preprocessing to record; nil → the source `.tw`'s, else TResNet's defaults.
        public var preprocessing: PreprocessingConfig?
        /// Label set id; nil → the source `.tw`'s, else from the class count.
        public var labelSet: String?
        /// Called with (bytes written, total) while writing; may throw to abort (nothing is left behind).
        public var progress: (@Sendable (Int, Int) throws -> Void)?
        /// `--dry-run`: read, map, bind and report, write nothing.
        public var dryRun = false
        /// The ImageNet-21K semantic hierarchy to embed (`.tw` only); nil → the source `.tw`'s, if any.
        public var semanticTree: SemanticTree?
        /// The zoo entry the source was fetched for, recorded in the `.tw`; nil → the source `.tw`'s, if any.
        public var zoo: ZooOrigin?
        /// What forces `variant`, for the summary: `--variant` (the flag), or the zoo catalog.
        public var variantSource = "--variant"
        /// Multi-label scoring to record; nil → the source `.tw`'s, else on for an ML-Decoder head.
        public var multiLabel: MultiLabelCard?

        public init() {}
    }

    /// Reads `source` and converts it to `output`: `.tw`; a canonical timm state dict when the output ends in
    /// `.safetensors`; an ONNX graph (BatchNorm folded, opset 17) when it ends in `.onnx`. Atomic: on any
    /// failure nothing appears at `output`.
    public static func convert(source: String, output: String, options: Options) throws -> ConversionSummary {
        let clock = ContinuousClock()
        let start = clock.now
        try checkOutput(output, options: options)
        // The source must not change while it is read: its identity now, compared again before anything is
        // committed (and a fault on its map, counted by MappingGuard, is such a change).
        let weights = try ModelSource.weightsPath(source)  // a hub folder's weights file
        let identity = try FileIdentity.of(path: weights)
        let faults = identity.faults
        let unchanged: @Sendable () throws -> Void = {
            try identity.checkUnchanged(weights, faultsBefore: faults, while: "being converted")
        }
        // Hash the source on another core while it is read, bound and written (the digest is patched into the
        // .tw header last): SHA-256 of a 125 MB checkpoint is otherwise a third of the conversion's time. The
        // digest covers exactly the `identity.size` bytes that were there when the conversion started.
        let sha = BackgroundSHA256(path: weights, size: identity.size)
        let opened = try ModelSource.openSource(path: source, options: options.reading)
        let (checkpoint, tw) = (opened.checkpoint, opened.tw)
        Self.sourceReadHook?(source)
        var options = options
        if let tw {
            options.preprocessing = options.preprocessing ?? tw.preprocessing
            options.labelSet = options.labelSet ?? tw.labelSet
            options.semanticTree = options.semanticTree ?? tw.semanticTree
            options.zoo = options.zoo ?? tw.zoo
            options.multiLabel = options.multiLabel ?? tw.multiLabel
            options.labelNames = options.labelNames ?? (tw.labelNames.isEmpty ? nil : tw.labelNames)
        }
        if let hub = opened.hub {
            options.preprocessing = options.preprocessing ?? hub.preprocessing
            options.labelNames = options.labelNames ?? hub.labelNames
        }
        // the digest is asked for last, right before the output is committed: check the source there too
        var summary = try convert(
            checkpoint: checkpoint,
            sha256: {
                let d = try sha.wait(); try unchanged(); return d
            },
            output: output, options: options, beforeCommit: unchanged)
        summary.bytesIn = identity.size
        summary.reading = ReadingReport(checkpoint, hub: opened.hub)
        summary.seconds = (clock.now - start).seconds
        return summary
    }

    /// Test hook: called right after the source has been read (mapped and parsed), before its tensors are
    /// copied out; tests change the source here.
    nonisolated(unsafe) static var sourceReadHook: (@Sendable (String) -> Void)?

    /// Refuses an existing output (without `--force`) before any work.
    static func checkOutput(_ output: String, options: Options) throws {
        if !options.overwrite, !options.dryRun, access(output, F_OK) == 0 {
            throw TResNetError(.outputExists, "\(output) exists (use --force to replace it)")
        }
    }

    /// Converts an already-read checkpoint.
    public static func convert(
        checkpoint: LoadedCheckpoint, sourceSHA256: String, output: String,
        options: Options
    ) throws -> ConversionSummary {
        try convert(checkpoint: checkpoint, sha256: { sourceSHA256 }, output: output, options: options)
    }

    /// Converts an already-read checkpoint; `sha256` yields the source's digest when the writer needs it.
    static func convert(
        checkpoint: LoadedCheckpoint, sha256: @escaping @Sendable () throws -> String, output: String,
        options: Options, beforeCommit: @Sendable () throws -> Void = {}
    ) throws -> ConversionSummary {
        let clock = ContinuousClock()
        let start = clock.now
        try checkOutput(output, options: options)
        let prepared = try prepare(checkpoint, options: options)
        let (converted, keptF32) = try convertDTypes(prepared.bound, to: options.dtype)
        let tensors = converted.tensors.map { (name: $0.spec.path, tensor: $0.tensor) }
        let c = prepared.bound.configuration
        let safetensors = output.hasSuffix(".safetensors")
        let onnx = output.hasSuffix(".onnx")
        let writesTW = !safetensors && !onnx && !options.dryRun
        if safetensors, c.normalization == .folded {
            throw TResNetError(
                .unsupported,
                "this model has BatchNorm folded into its convs (an exported graph): it has "
                    + "no timm state dict to write; write .tw or .onnx instead", file: output)
        }
        var metadata = ModelFileMetadata(
            configuration: c, variant: prepared.architecture.variantName ?? "custom",
            preprocessing: options.preprocessing ?? (c.isMLDecoder ? MultiLabelCard.preprocessing() : .tresnetDefault),
            labelSet: options.labelSet ?? LabelSet.id(numClasses: c.numClasses),
            sourceFile: baseName(checkpoint.path), sourceSHA256: writesTW ? "" : try sha256(),
            sourceFormat: checkpoint.container.rawValue,
            sourceWrapper: checkpoint.wrapper ?? "", sourceDialect: prepared.dialect.id,
            bnWeightTransform: prepared.transformedWeights > 0 ? "abs_plus_eps" : "none", dtype: options.dtype.rawValue,
            bnKeptF32: keptF32, semanticTree: options.semanticTree)
        try options.semanticTree?.check(numClasses: c.numClasses)
        metadata.labelNames =
            options.labelNames ?? checkpoint.classNames.flatMap { $0.count == c.numClasses ? $0 : nil } ?? []
        metadata.multiLabel = options.multiLabel ?? (c.isMLDecoder ? MultiLabelCard() : nil)
        metadata.zoo = options.zoo
        let bytesOut: Int
        if options.dryRun {
            try beforeCommit()
            bytesOut = 0
        } else if onnx {
            // ONNX Runtime computes in f32: the writer widens to f32 initializers (BatchNorm folded in).
            let bytes = try ONNXWriter.serialize(converted.tree)
            // every tensor has been read (serialized above); checked again before the rename replaces anything
            try beforeCommit()
            try TResNetError.naming(output) {
                try writeFileAtomically(output, bytes, overwrite: options.overwrite, beforeCommit: beforeCommit)
            }
            bytesOut = try ByteStore.map(path: output).count
        } else if safetensors {
            var text: [String: String] = ["format": "pt"]
            for (k, v) in metadata.entries where !k.hasPrefix("semantic.") { text[k] = v.stringValue ?? v.description }
            // the tensors are read while writing: the source is checked after the last byte, before the rename
            try SafetensorsWriter.write(
                tensors, metadata: text, to: output, overwrite: options.overwrite,
                beforeCommit: beforeCommit)
            bytesOut = try ByteStore.map(path: output).count
        } else {
            bytesOut = try TWWriter.write(
                tensors, metadata: metadata.entries, to: output, overwrite: options.overwrite,
                progress: options.progress,
                late: LateString(key: "source.sha256", length: 64, resolve: sha256))
        }
        return ConversionSummary(
            source: checkpoint.path, output: output, sourceFormat: checkpoint.container, wrapper: checkpoint.wrapper,
            strippedPrefix: checkpoint.strippedPrefix, dialect: prepared.dialect.id,
            dialectDetected: prepared.mapping.detected,
            architecture: prepared.architecture,
            outputKind: safetensors ? "safetensors, timm state dict" : (onnx ? "onnx, BatchNorm folded" : "tw"),
            dtype: options.dtype, tensors: tensors.count,
            parameters: prepared.bound.tensors.filter { $0.spec.role == .parameter }.reduce(0) {
                $0 + $1.spec.elementCount
            },
            transformedWeights: prepared.transformedWeights, dropped: prepared.mapping.dropped,
            ignored: prepared.bound.ignored,
            bytesIn: 0, bytesOut: bytesOut, seconds: (clock.now - start).seconds, dryRun: options.dryRun,
            renamed: prepared.mapping.renamed.filter { $0.source != $0.canonical }, variantSource: options.variantSource
        )
    }

    /// Detects (or applies the forced) dialect, maps names, applies the InPlaceABN transform once, infers (or
    /// takes the forced) architecture and binds strictly. Reads tensor bytes only for transformed weights.
    public static func prepare(_ checkpoint: LoadedCheckpoint, options: Options = Options()) throws -> PreparedModel {
        let sd = checkpoint.stateDict
        let detected = Dialect.detect(sd.names)
        let dialect: Dialect
        if let forced = options.dialect {
            guard let d = Dialect.named(forced) else {
                throw TResNetError(
                    .usage,
                    "unknown dialect '\(displaySafe(forced))' (known: \(Dialect.all.map(\.id).joined(separator: ", ")))"
                )
            }
            if d.normConvention == .inPlaceABN, sd.contains(Dialect.timm.marker) {
                throw TResNetError(
                    .binding, format: "binding", at: .tensor(Dialect.timm.marker),
                    "--dialect \(d.id) does not fit: this file is in the timm spelling ('\(Dialect.timm.marker)' "
                        + "present), whose BatchNorm weights are already converted; the InPlaceABN transform "
                        + "would apply |w| + 1e-5 a second time. Drop --dialect.", file: checkpoint.path)
            }
            dialect = d
        } else if let detected {
            dialect = detected
        } else {
            let first = sd.names.prefix(3).map { "'\(displaySafe($0))'" }.joined(separator: ", ")
            throw TResNetError(
                .binding, format: "binding", at: .tensor(Dialect.timm.marker),
                "not a TResNet state dict in a known spelling: neither '\(Dialect.timm.marker)' (timm) nor "
                    + "'\(Dialect.miil.marker)' (MIIL) is present; \(sd.count) tensors, first \(first)"
                    + (sd.count == 0 ? "" : ". If the state dict is nested, pass --key"), file: checkpoint.path)
        }
        let mapping = dialect.map(sd.names, detected: options.dialect == nil)
        var mapped = StateDict()
        var transformed = 0
        for (source, canonical) in mapping.renamed {
            var t = sd[source]!
            if dialect.transformsWeight(canonicalName: canonical) {
                t = try TResNetError.naming(checkpoint.path) { try Dialect.inPlaceABNToBatchNorm(t) }
                transformed += 1
            }
            try mapped.insert(canonical, t)
        }
        var extraHints: [String] = []
        if !mapping.collisions.isEmpty {
            let list = mapping.collisions.map {
                "  duplicate " + displaySafe($0) + " → "
                    + displaySafe(dialect.canonicalName($0) ?? "") + " (already given by another name)"
            }
            throw TResNetError(
                .binding, format: "binding", at: .tensor(mapping.collisions[0]),
                "\(mapping.collisions.count) tensors map to a name another tensor already has "
                    + "(mixed spellings?):\n" + list.joined(separator: "\n"), file: checkpoint.path)
        }

        var architecture: InferredArchitecture
        if let name = options.variant {
            guard var c = TResNetConfiguration.variant(name) else {
                throw TResNetError(
                    .usage,
                    "unknown variant '\(displaySafe(name))' (known: "
                        + TResNetConfiguration.variants.map(\.name).joined(separator: ", ") + ")")
            }
            let fromFile = try? ArchitectureInference.infer(mapped.entries.map { ($0.name, $0.tensor.shape) })
            c.numClasses = options.numClasses ?? fromFile?.configuration.numClasses ?? c.numClasses
            c.mlDecoder = fromFile?.configuration.mlDecoder  // --variant forces the body; the head is the file's
            architecture = InferredArchitecture(
                configuration: c, variantName: name,
                explanation: ["\(options.variantSource) forces the architecture \(name)"], forced: true)
        } else {
            architecture = try TResNetError.naming(checkpoint.path) {
                try ArchitectureInference.infer(mapped.entries.map { ($0.name, $0.tensor.shape) })
            }
            if let n = options.numClasses, n != architecture.configuration.numClasses {
                architecture.configuration.numClasses = n
                architecture.forced = true
            }
        }
        if dialect.id != detected?.id, let detected {
            extraHints.append("the dialect was forced to \(dialect.id), but the names look like \(detected.id)")
        }
        let bound = try TResNetError.naming(checkpoint.path) {
            try Binder.bind(
                mapped, to: architecture.configuration, options: options.binding, extraHints: extraHints,
                sourceNames: Dictionary(
                    mapping.renamed.map { ($0.canonical, $0.source) }, uniquingKeysWith: { a, _ in a }))
        }
        return PreparedModel(
            checkpoint: checkpoint, mapping: mapping, architecture: architecture, bound: bound,
            transformedWeights: transformed)
    }

    /// Applies the dtype policy: f16/bf16 narrow everything except BatchNorm tensors (weight, bias and running
    /// statistics), which stay f32 — running_var overflows f16. Returns the converted model and whether any BN
    /// tensor was kept f32.
    public static func convertDTypes(_ bound: BoundModel, to dtype: OutputDType) throws
        -> (bound: BoundModel, bnKeptF32: Bool)
    {
        var kept = false
        let converted = try bound.mapTensors { spec, t in
            var target = dtype.target ?? t.dtype
            if dtype == .f16 || dtype == .bf16, spec.isBatchNorm {
                target = .float32
                kept = true
            }
            return try t.converted(to: target)
        }
        return (converted, kept)
    }

    static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
