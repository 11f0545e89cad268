import TResNetCore

/// Reads any checkpoint file: detects the container by magic bytes, unwraps the state dict like timm does
/// (`state_dict_ema`, `model_ema`, `state_dict`, `model`; `module.` / `_orig_mod.` prefixes) and returns it.
///
/// STUB — the readers branch replaces this body.
public enum CheckpointReader {
    /// - Parameters:
    ///   - path: the file.
    ///   - key: the wrapper key to take the state dict from, overriding detection (`--key`).
    public static func read(path: String, key: String? = nil) throws -> LoadedCheckpoint {
        throw TResNetError(.unsupported, "checkpoint reading is not implemented yet", file: path)
    }
}
