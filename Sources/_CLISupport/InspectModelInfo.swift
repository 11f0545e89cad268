import TResNetCheckpoint
import TResNetCore
import TResNetModel
/// What `tresnet-inspect` adds for model files: a `.tw` file's typed metadata, an ONNX graph's summary.
public struct InspectModelInfo: Codable, Sendable {
    public struct Provenance: Codable, Sendable {
        public var file: String
        public var sha256: String
        public var format: String
        public var wrapper: String
        public var dialect: String
        public var bnWeightTransform: String
        public var dtype: String
        public var bnKeptF32: Bool
        public var converterVersion: String
    }

    /// The architecture in words (`tresnet_m (v1, layers [3, 4, 11, 3], planes 64, 1000 classes)`).
    public var configuration: String
    public var variant: String
    public var numClasses: Int
    public var preprocessing: PreprocessingConfig
    public var labelSet: String
    public var provenance: Provenance

    public init(_ m: ModelFileMetadata) {
        configuration = m.configuration.description
        variant = m.variant
        numClasses = m.configuration.numClasses
        preprocessing = m.preprocessing
        labelSet = m.labelSet
        provenance = Provenance(
            file: m.sourceFile, sha256: m.sourceSHA256, format: m.sourceFormat,
            wrapper: m.sourceWrapper, dialect: m.sourceDialect,
            bnWeightTransform: m.bnWeightTransform, dtype: m.dtype, bnKeptF32: m.bnKeptF32,
            converterVersion: m.converterVersion)
    }

    /// The text lines (names from the file display-escaped).
    public var lines: [String] {
        let p = preprocessing, s = provenance
        func list(_ v: [Double]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
        return [
            "model:",
            "  configuration: \(displaySafe(configuration))",
            "  variant:       \(displaySafe(variant))",
            "  label set:     \(labelSet.isEmpty ? "(none)" : displaySafe(labelSet))",
            "  preprocessing: input \(formatShape(p.timmInputSize)), crop_pct \(p.cropPct) (\(p.cropMode.rawValue)), "
                + "\(p.interpolation.rawValue), mean \(list(p.mean)), std \(list(p.std))",
            "  source:        \(displaySafe(s.file)) (\(displaySafe(s.format))"
                + (s.wrapper.isEmpty ? "" : ", under '\(displaySafe(s.wrapper))'")
                + ", \(displaySafe(s.dialect)) spelling), sha256 \(displaySafe(s.sha256))",
            "  conversion:    BN weights \(displaySafe(s.bnWeightTransform)), dtype \(displaySafe(s.dtype))"
                + (s.bnKeptF32 ? " (BatchNorm kept f32)" : "") + ", tresnet-kit \(displaySafe(s.converterVersion))"
        ]
    }
}

/// An ONNX model's summary for `tresnet-inspect`.
public struct InspectONNXInfo: Codable, Sendable {
    public var opset: Int
    public var producer: String
    /// True when the exporter folded BatchNorm into the convolutions (no `.bn.*` tensors).
    public var folded: Bool

    /// Reads the `onnx.*` entries `ModelSource.read` puts in an ONNX checkpoint's metadata; nil for other files.
    public init?(_ loaded: LoadedCheckpoint) {
        guard loaded.container == .onnx else { return nil }
        opset = loaded.metadata["onnx.opset"].flatMap { Int($0) } ?? 0
        producer = loaded.metadata["onnx.producer"] ?? ""
        folded = loaded.metadata["onnx.folded"] == "true"
    }

    public var lines: [String] {
        [
            "onnx:", "  opset:    \(opset)", "  producer: \(producer.isEmpty ? "(none)" : displaySafe(producer))",
            "  BatchNorm: "
                + (folded ? "folded into the convolutions by the exporter" : "kept (BatchNormalization nodes)")
        ]
    }
}
