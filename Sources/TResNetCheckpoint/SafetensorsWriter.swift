import TResNetCore

/// Writes a `.safetensors` file.
///
/// STUB — the safetensors branch replaces this body.
public enum SafetensorsWriter {
    /// Writes `entries` (name, tensor) with string `metadata` to `path` atomically.
    public static func write(_ entries: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             to path: String, overwrite: Bool) throws {
        throw TResNetError(.unsupported, "safetensors writing is not implemented yet", file: path)
    }
}
