import TResNetCore
import TResNetFormat
import TResNetModel
import TResNetCheckpoint

/// The typed metadata of a TResNet `.tw` file (docs/FORMAT.md §4), to and from the file's key/value map.
public struct ModelFileMetadata: Sendable, Hashable {
    public var configuration: TResNetConfiguration
    public var variant: String
    public var preprocessing: PreprocessingConfig
    public var labelSet: String
    /// Class names in class order (`labels.names`, e.g. a hub folder's `label_names`); empty when not recorded.
    public var labelNames: [String] = []
    public var sourceFile: String
    public var sourceSHA256: String
    public var sourceFormat: String
    public var sourceWrapper: String
    public var sourceDialect: String
    /// `none` or `abs_plus_eps`.
    public var bnWeightTransform: String
    public var dtype: String
    public var bnKeptF32: Bool
    public var converterVersion: String
    /// The ImageNet-21K semantic hierarchy of the head (`semantic.*` keys), nil when the file carries none.
    public var semanticTree: SemanticTree?
    /// Where a zoo fetch got the weights (`zoo.tag`, `zoo.hub_id`, `zoo.revision`); nil for other conversions.
    public var zoo: ZooOrigin?
    /// Multi-label scoring (`labels.multi_label`, docs/MULTILABEL.md): sigmoid per class, reported above
    /// `threshold`; nil for a single-label (softmax) head. Always set for an ML-Decoder head.
    public var multiLabel: MultiLabelCard?

    public static let converterName = "tresnet-kit"
    public static let currentConverterVersion = "0.1.0"

    public init(
        configuration: TResNetConfiguration, variant: String, preprocessing: PreprocessingConfig = .tresnetDefault,
        labelSet: String, sourceFile: String = "", sourceSHA256: String = "", sourceFormat: String = "",
        sourceWrapper: String = "", sourceDialect: String = "", bnWeightTransform: String = "none",
        dtype: String = "keep", bnKeptF32: Bool = false, converterVersion: String = currentConverterVersion,
        semanticTree: SemanticTree? = nil
    ) {
        self.configuration = configuration
        self.variant = variant
        self.preprocessing = preprocessing
        self.labelSet = labelSet
        self.sourceFile = sourceFile
        self.sourceSHA256 = sourceSHA256
        self.sourceFormat = sourceFormat
        self.sourceWrapper = sourceWrapper
        self.sourceDialect = sourceDialect
        self.bnWeightTransform = bnWeightTransform
        self.dtype = dtype
        self.bnKeptF32 = bnKeptF32
        self.converterVersion = converterVersion
        self.semanticTree = semanticTree
    }

    /// The key/value map written to a `.tw` file.
    public var entries: [String: TWValue] {
        let c = configuration, p = preprocessing
        var out: [String: TWValue] = [
            "arch.family": .string("tresnet"),
            "arch.layout": .string(c.layout.rawValue),
            "arch.layers": .ints(c.layers.map(Int64.init)),
            "arch.planes": .int(Int64(c.planes)),
            "arch.in_channels": .int(Int64(c.inChannels)),
            "arch.num_classes": .int(Int64(c.numClasses)),
            "arch.normalization": .string(c.normalization.rawValue),
            "arch.variant": .string(variant),
            "preprocess.input_size": .ints(p.timmInputSize.map(Int64.init)),
            "preprocess.mean": .doubles(p.mean),
            "preprocess.std": .doubles(p.std),
            "preprocess.crop_pct": .double(p.cropPct),
            "preprocess.crop_mode": .string(p.cropMode.rawValue),
            "preprocess.interpolation": .string(p.interpolation.rawValue),
            "labels.set": .string(labelSet),
            "source.file": .string(sourceFile),
            "source.sha256": .string(sourceSHA256),
            "source.format": .string(sourceFormat),
            "source.wrapper": .string(sourceWrapper),
            "source.dialect": .string(sourceDialect),
            "conversion.bn_weight_transform": .string(bnWeightTransform),
            "conversion.dtype": .string(dtype),
            "conversion.bn_kept_f32": .bool(bnKeptF32),
            "converter.name": .string(Self.converterName),
            "converter.version": .string(converterVersion)
        ]
        if let semanticTree { out.merge(semanticTree.entries) { a, _ in a } }
        out.merge(MultiLabelCard.entries(configuration: c, card: multiLabel)) { a, _ in a }
        if !labelNames.isEmpty { out["labels.names"] = .strings(labelNames) }
        if let zoo {
            out["zoo.tag"] = .string(zoo.tag)
            out["zoo.hub_id"] = .string(zoo.hubID)
            out["zoo.revision"] = .string(zoo.revision)
        }
        return out
    }

    /// Reads the metadata of an opened `.tw` file; the `arch.*` keys are required and type-checked.
    public init(_ file: TWFile) throws {
        let fail = file.metadataError
        func string(_ k: String, required: Bool = false) throws -> String {
            guard let v = file[metadata: k] else { if required { throw fail(k, "is missing") }; return "" }
            guard let s = v.stringValue else { throw fail(k, "must be a string") }
            return s
        }
        func int(_ k: String) throws -> Int {
            guard let v = file[metadata: k] else { throw fail(k, "is missing") }
            guard let i = v.intValue, let n = Int(exactly: i) else { throw fail(k, "must be an i64") }
            return n
        }
        guard let layout = TResNetConfiguration.Layout(rawValue: try string("arch.layout", required: true)) else {
            throw fail("arch.layout", "must be v1 or v2")
        }
        guard let layers64 = file[metadata: "arch.layers"]?.intsValue else {
            throw fail("arch.layers", "must be an i64 array")
        }
        let layers = layers64.compactMap { Int(exactly: $0) }
        let normalizationText = try string("arch.normalization")
        guard let normalization = normalizationText.isEmpty ? .batchNorm : Normalization(rawValue: normalizationText)
        else {
            throw fail("arch.normalization", "must be batchnorm or folded")
        }
        let c = TResNetConfiguration(
            layout: layout, layers: layers, planes: try int("arch.planes"),
            numClasses: try int("arch.num_classes"), inChannels: try int("arch.in_channels"),
            normalization: normalization, mlDecoder: try MultiLabelCard.head(file))
        try TResNetError.naming(file.path) { try c.validate() }
        let d = PreprocessingConfig.tresnetDefault
        let p = try PreprocessingConfig(
            checking: file[metadata: "preprocess.input_size"]?.intsValue?.compactMap { Int(exactly: $0) }
                ?? d.timmInputSize,
            cropPct: file[metadata: "preprocess.crop_pct"]?.doubleValue ?? d.cropPct,
            cropMode: file[metadata: "preprocess.crop_mode"]?.stringValue ?? d.cropMode.rawValue,
            interpolation: file[metadata: "preprocess.interpolation"]?.stringValue ?? d.interpolation.rawValue,
            mean: file[metadata: "preprocess.mean"]?.doublesValue ?? d.mean,
            std: file[metadata: "preprocess.std"]?.doublesValue ?? d.std, fail: { fail("preprocess.\($0)", $1) })
        self.init(
            configuration: c, variant: try string("arch.variant"), preprocessing: p, labelSet: try string("labels.set"),
            sourceFile: try string("source.file"), sourceSHA256: try string("source.sha256"),
            sourceFormat: try string("source.format"), sourceWrapper: try string("source.wrapper"),
            sourceDialect: try string("source.dialect"),
            bnWeightTransform: try string("conversion.bn_weight_transform"), dtype: try string("conversion.dtype"),
            bnKeptF32: file[metadata: "conversion.bn_kept_f32"]?.boolValue ?? false,
            converterVersion: try string("converter.version"),
            semanticTree: try SemanticTree(file))
        try semanticTree?.check(numClasses: c.numClasses, source: file.path)
        multiLabel = try MultiLabelCard(file)
        if let v = file[metadata: "labels.names"] {
            guard case .strings(let names) = v, names.count == c.numClasses else {
                throw fail("labels.names", "must be one string per class (\(c.numClasses))")
            }
            labelNames = names
        }
        if let tag = file[metadata: "zoo.tag"]?.stringValue {
            zoo = ZooOrigin(tag: tag, hubID: try string("zoo.hub_id"), revision: try string("zoo.revision"))
        }
    }
}

/// The zoo entry a `.tw` was converted from: its tag, the hub repository and the revision (the commit when the hub
/// named one) the weights were fetched at.
public struct ZooOrigin: Sendable, Hashable {
    public var tag: String
    public var hubID: String
    public var revision: String

    public init(tag: String, hubID: String, revision: String) {
        self.tag = tag
        self.hubID = hubID
        self.revision = revision
    }
}

extension TWFile {
    /// The error for a metadata entry `key` of this file that is missing or wrong: `what` says how.
    func metadataError(_ key: String, _ what: String) -> TResNetError {
        TResNetError(.malformed, format: "tw", at: .field(key), "metadata '\(displaySafe(key))' \(what)", file: path)
    }
}

/// A `.tw` model opened for use: the metadata, and the tensors bound strictly to the recorded configuration
/// (zero-copy slices of the mapping).
public struct TWModel: Sendable {
    public var file: TWFile
    public var metadata: ModelFileMetadata
    public var bound: BoundModel

    public static func open(path: String, verifyChecksums: Bool = false) throws -> TWModel {
        let file = try TWFile.open(path: path, verifyChecksums: verifyChecksums)
        let metadata = try ModelFileMetadata(file)
        let bound = try TResNetError.naming(path) { try Binder.bind(try file.stateDict(), to: metadata.configuration) }
        return TWModel(file: file, metadata: metadata, bound: bound)
    }
}

extension SemanticTree {
    /// The `.tw` keys (docs/FORMAT.md §4.2): synsets and names in class order, and each class's parent (−1 for
    /// a root) — the ancestor lists follow from the parents.
    public var entries: [String: TWValue] {
        [
            "semantic.class_list": .strings(synsets),
            "semantic.class_description": .strings(descriptions),
            "semantic.parent": .ints(parents.map { Int64($0 ?? -1) })
        ]
    }

    /// The tree an opened `.tw` file carries, nil when it has no `semantic.*` keys; all three or none.
    public init?(_ file: TWFile) throws {
        let keys = ["semantic.class_list", "semantic.class_description", "semantic.parent"]
        let present = keys.filter { file[metadata: $0] != nil }
        guard !present.isEmpty else { return nil }
        let fail = file.metadataError
        if let missing = keys.first(where: { file[metadata: $0] == nil }) {
            throw fail(missing, "is missing (the semantic.* keys come together)")
        }
        guard let synsets = file[metadata: keys[0]]?.stringsValue else { throw fail(keys[0], "must be a string array") }
        guard let names = file[metadata: keys[1]]?.stringsValue else { throw fail(keys[1], "must be a string array") }
        guard let parents = file[metadata: keys[2]]?.intsValue else { throw fail(keys[2], "must be an i64 array") }
        let n = Int64(synsets.count)
        for (i, p) in parents.enumerated() where p < -1 || p >= n {
            throw fail(keys[2], "entry \(i) is \(p), outside −1…\(n - 1)")
        }
        try self.init(
            synsets: synsets, descriptions: names, parents: parents.map { $0 < 0 ? nil : Int($0) },
            source: file.path)
    }
}
