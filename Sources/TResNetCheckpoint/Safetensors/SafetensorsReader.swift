import TResNetCore

/// Reads a `.safetensors` file.
///
/// STUB — the safetensors branch replaces this file.
public enum SafetensorsReader {
    public static func read(_ store: ByteStore, path: String) throws -> (StateDict, metadata: [String: String]) {
        throw TResNetError(.unsupported, format: "safetensors", "safetensors reading is not implemented yet", file: path)
    }
}
