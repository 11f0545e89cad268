import TResNetCheckpoint
import TResNetCore
/// What `tresnet-inspect` prints, as a value (text or JSON).
public struct InspectReport: Codable, Sendable {
    public struct TensorRow: Codable, Sendable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: Int
    }

    public struct Entry: Codable, Sendable {
        public var name: String
        public var summary: String
    }

    public var file: String
    public var container: String
    public var wrapper: String?
    public var strippedPrefix: String?
    public var tensorCount: Int
    /// Learnable parameters the way timm counts them (`sum(p.numel() for p in model.parameters())`): elements of
    /// every tensor except BatchNorm buffers (`running_mean`, `running_var`, `num_batches_tracked`).
    public var parameters: Int
    /// Elements over all tensors except `num_batches_tracked` counters (parameters + running statistics).
    public var elements: Int
    public var bytes: Int
    public var tensors: [TensorRow]
    public var nonTensorEntries: [Entry]
    public var metadata: [String: String]
    /// A `.tw` file's typed metadata; nil for other files.
    public var model: InspectModelInfo?
    /// An ONNX model's summary; nil for other files.
    public var onnx: InspectONNXInfo?
    /// How the weights were found: container kind, key and other candidates, prefix, opaque classes.
    public var reading: ReadingReport?

    /// - Parameter tw: the `.tw` metadata when `loaded` came from a `.tw` file (`ModelSource.read`).
    public init(_ loaded: LoadedCheckpoint, tw: ModelFileMetadata? = nil, hub: HubFolder? = nil) {
        model = tw.map(InspectModelInfo.init)
        reading = loaded.containerKind.isEmpty && hub == nil ? nil : ReadingReport(loaded, hub: hub)
        onnx = InspectONNXInfo(loaded)
        file = loaded.path
        container = loaded.container.rawValue
        wrapper = loaded.wrapper
        strippedPrefix = loaded.strippedPrefix
        let entries = loaded.stateDict.entries
        tensorCount = entries.count
        tensors = entries.map {
            TensorRow(
                name: $0.name, dtype: $0.tensor.dtype.rawValue, shape: $0.tensor.shape, bytes: $0.tensor.byteCount)
        }
        elements = entries.filter { !$0.name.hasSuffix("num_batches_tracked") }.reduce(0) {
            $0 + $1.tensor.elementCount
        }
        let buffers = ["running_mean", "running_var", "num_batches_tracked"]  // BatchNorm's, besides parameters
        parameters = entries.filter { e in !buffers.contains { e.name.hasSuffix($0) } }.reduce(0) {
            $0 + $1.tensor.elementCount
        }
        bytes = entries.reduce(0) { $0 + $1.tensor.byteCount }
        nonTensorEntries = loaded.nonTensorEntries.map { Entry(name: $0.name, summary: $0.summary) }
        metadata = loaded.metadata
    }

    private enum CodingKeys: String, CodingKey {
        case file, container, wrapper, strippedPrefix, tensorCount, parameters, elements, bytes, tensors
        case nonTensorEntries, metadata, model, onnx, reading
    }

    /// Encodes every key, with `null` for an absent wrapper or prefix (stable keys for scripts).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file)
        try c.encode(container, forKey: .container)
        try c.encode(wrapper, forKey: .wrapper)
        try c.encode(strippedPrefix, forKey: .strippedPrefix)
        try c.encode(tensorCount, forKey: .tensorCount)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(elements, forKey: .elements)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(tensors, forKey: .tensors)
        try c.encode(nonTensorEntries, forKey: .nonTensorEntries)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(model, forKey: .model)
        try c.encode(onnx, forKey: .onnx)
        try c.encode(reading, forKey: .reading)
    }

    /// The human-readable report; every name from the file is display-escaped.
    public var text: String {
        var out = "file:       \(displaySafe(file))\n"
        out += "container:  \(container)\n"
        out += "wrapper:    \(wrapper.map { displaySafe($0) } ?? "(none: plain state dict)")\n"
        out += "prefix:     \(strippedPrefix.map { "stripped '\(displaySafe($0))'" } ?? "(none)")\n"
        for row in reading?.rows ?? [] where !(row.label == "prefix" && reading?.prefix == nil) {
            let label = row.label == "container" ? "found in" : (row.label == "prefix" ? "prefix how" : row.label)
            out += label + ":" + String(repeating: " ", count: max(1, 11 - label.count)) + row.text + "\n"
        }
        out += "tensors:    \(tensorCount)\n"
        out += "parameters: \(parameters.formatted3()) (BatchNorm running stats and num_batches_tracked excluded)\n"
        out += "elements:   \(elements.formatted3()) (num_batches_tracked excluded)\n"
        out += "bytes:      \(bytes.formatted3())\n"
        let width = min(60, tensors.map { displaySafe($0.name).count }.max() ?? 0)
        for t in tensors {
            let name = displaySafe(t.name)
            let padded = name.count < width ? name + String(repeating: " ", count: width - name.count) : name
            let dtype = t.dtype.count < 14 ? t.dtype + String(repeating: " ", count: 14 - t.dtype.count) : t.dtype
            out += "  \(padded)  \(dtype)\(formatShape(t.shape))  \(t.bytes) B\n"
        }
        if !nonTensorEntries.isEmpty {
            out += "non-tensor entries: \(nonTensorEntries.count)\n"
            for e in nonTensorEntries { out += "  \(displaySafe(e.name)): \(e.summary)\n" }
        }
        for line in (model?.lines ?? []) + (onnx?.lines ?? []) { out += line + "\n" }
        if !metadata.isEmpty {
            out += "metadata:\n"
            for k in metadata.keys.sorted() { out += "  \(displaySafe(k)): \(displaySafe(metadata[k] ?? ""))\n" }
        }
        return out
    }
}
