import TResNetCheckpoint
import TResNetCore
import TResNetFormat
import TResNetModel
import TResNetRuntime

/// A model ready to run: its configuration, its tensors in the canonical spelling, and what is known about
/// it (the `.tw` metadata when it came from a `.tw` file).
public struct LoadedModel: Sendable {
    public var path: String
    /// The layer tree bound to the weights (what the runtime compiles).
    public var bound: BoundModel
    /// The bound tree's configuration (what labels and metadata are checked against).
    public var configuration: TResNetConfiguration
    /// Present for `.tw` files: preprocessing, label set, provenance.
    public var metadata: ModelFileMetadata?
    /// How the source was understood, in plain words (format, wrapper, dialect, architecture).
    public var explanation: [String]
    /// The arithmetic `network()` compiles for (`--precision`; f32 unless asked).
    public var precision: Precision = .f32

    /// The label-set id for class names: the `.tw` metadata's, else the one implied by the class count.
    public var labelSet: String {
        if let id = metadata?.labelSet, !id.isEmpty { return id }
        return LabelSet.id(numClasses: configuration.numClasses)
    }

    /// Compiles the network (BatchNorm folded, weights widened to f32, packed for `backend` and `precision`).
    public func network(backend: ConvolutionBackend = .automatic) throws -> TResNetNetwork {
        try TResNetError.naming(path) {
            try TResNetNetwork(bound.tree, backend: backend, precision: precision)
        }
    }
}

/// Opens any weights the toolkit reads — `.tw`, an ONNX export, or any checkpoint `tresnet-convert` reads —
/// detected by magic bytes, mapped from its dialect and bound strictly to the layer tree.
public enum ModelLoader {
    public static func load(path: String, options: Conversion.Options = Conversion.Options()) throws -> LoadedModel {
        if FileFormat.recognise(path: path) == .tw {
            let model = try TWModel.open(path: path)
            return LoadedModel(
                path: path, bound: model.bound, configuration: model.bound.configuration,
                metadata: model.metadata,
                explanation: [
                    ".tw file: \(model.metadata.configuration)",
                    "converted from \(model.metadata.sourceFormat) (\(model.metadata.sourceDialect) spelling)"
                ])
        }
        let checkpoint = try ModelSource.openSource(path: path, options: options.reading).checkpoint
        let prepared = try Conversion.prepare(checkpoint, options: options)
        var lines = [
            "\(checkpoint.container.rawValue) checkpoint"
                + (checkpoint.wrapper.map { ", state dict under '\($0)'" } ?? ", plain state dict")
                + (["", "plain state dict"].contains(checkpoint.containerKind) ? "" : " (\(checkpoint.containerKind))")
                + (checkpoint.strippedPrefix.map { ", prefix '\(displaySafe($0))' stripped" } ?? ""),
            "\(prepared.dialect.id) spelling"
                + (prepared.transformedWeights > 0
                    ? ", \(prepared.transformedWeights) InPlaceABN weights → |w| + 1e-5" : "")
        ]
        lines += prepared.architecture.explanation
        return LoadedModel(
            path: path, bound: prepared.bound, configuration: prepared.bound.configuration, metadata: nil,
            explanation: lines)
    }
}
