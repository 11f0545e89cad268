import TResNetCheckpoint
import TResNetCore
import TResNetFormat
import TResNetModel
import TResNetONNX

/// Opens any source the toolkit reads, recognised by its first bytes (never by extension): a `.tw` file, an
/// ONNX model (mapped onto the canonical names by graph structure), or any checkpoint `CheckpointReader`
/// reads (PyTorch zip or legacy, safetensors, NumPy).
public enum ModelSource {
    /// What `open` found: the checkpoint, and what came with it (a `.tw` file's metadata, a hub folder's config).
    public struct Opened: Sendable {
        public var checkpoint: LoadedCheckpoint
        public var tw: ModelFileMetadata?
        public var hub: HubFolder?
    }

    /// The file whose bytes are the source: a hub folder's weights file, else `path` itself.
    public static func weightsPath(_ path: String) throws -> String {
        guard let folder = HubFolder.folder(for: path) else { return path }
        return try HubFolder.open(folder).weightsPath
    }

    /// Reads `path` (a file, or a Hugging Face hub folder) with every reading option; detects a framework prefix
    /// (`PrefixDetection`) unless `--prefix` forced one. (Named so: `open` is the C call.)
    public static func openSource(path: String, options: CheckpointReadOptions) throws -> Opened {
        if let folder = HubFolder.folder(for: path) {
            let hub = try HubFolder.open(folder)
            var opened = try openSource(path: hub.weightsPath, options: options)
            opened.hub = hub
            opened.checkpoint.containerKind =
                "Hugging Face hub folder (\(displaySafe(hub.architecture)), "
                + Conversion.baseName(hub.weightsPath)
                + (opened.checkpoint.containerKind.isEmpty ? "" : ": " + opened.checkpoint.containerKind) + ")"
            return opened
        }
        let (checkpoint, tw) = try read(path: path, options: options)
        var c = checkpoint
        if tw == nil, c.container != .onnx { try TResNetError.naming(path) { try PrefixDetection.apply(&c) } }
        return Opened(checkpoint: c, tw: tw, hub: nil)
    }

    /// Reads `path` as a `LoadedCheckpoint`; for a `.tw` file also returns its model metadata.
    static func read(path: String, options: CheckpointReadOptions) throws -> (
        checkpoint: LoadedCheckpoint, tw: ModelFileMetadata?
    ) {
        let format = FileFormat.recognise(path: path)
        if format == .tw {
            let file = try TWFile.open(path: path, verifyChecksums: true)
            let sd = try file.stateDict()  // its metadata rendered as text, for `tresnet-inspect`
            let checkpoint = LoadedCheckpoint(path: path, container: .tw, stateDict: sd, metadata: sd.metadata)
            return (checkpoint, try ModelFileMetadata(file))
        }
        if format == .onnx {
            let model = try ONNXModel.read(path: path)
            var metadata = model.tensors.metadata
            metadata["onnx.producer"] = [model.summary.producerName, model.summary.producerVersion]
                .filter { !$0.isEmpty }.joined(separator: " ")
            metadata["onnx.opset"] = String(model.summary.opset)
            metadata["onnx.folded"] = model.folded ? "true" : "false"
            return (LoadedCheckpoint(path: path, container: .onnx, stateDict: model.tensors, metadata: metadata), nil)
        }
        return (try CheckpointReader.read(path: path, options: options), nil)
    }
}
