import TResNetCore

/// A parsed PyTorch checkpoint before unwrapping: the object graph and the storage records it refers to.
struct TorchObject {
    var arena: PickleArena
    var root: Int
    /// The bytes of each storage key, already checked against its declared size.
    var records: [String: ByteSlice]
    var format: String
    /// Size of the input, which bounds what non-contiguous views may copy out (2× + 64 MiB).
    var inputBytes: Int

    var copyBudget: Int { (Checked.multiply(inputBytes, 2) ?? Int.max / 2) + (64 << 20) }

    /// The dense tensor for `ref` (validated view over its record).
    func tensor(_ ref: TensorRef, name: String, copyBudget: inout Int) throws -> Tensor {
        guard let record = records[ref.storage.key] else {
            throw TResNetError(
                .malformed, format: format, at: .tensor(name),
                "storage '\(displaySafe(ref.storage.key))' has no record")
        }
        return try TensorMaterializer.materialize(
            ref, record: record, name: name, format: format,
            copyBudget: &copyBudget)
    }

    /// Every distinct storage the pickle names, by key; the same key with two different declarations is an error.
    static func storages(in arena: PickleArena, format: String) throws -> [String: StorageRef] {
        var out: [String: StorageRef] = [:]
        for node in arena.nodes {
            guard case .storage(var s) = node else { continue }
            s.view = nil
            if let seen = out[s.key] {
                guard seen.numel == s.numel, seen.className == s.className || seen.byteCount == 0 else {
                    throw TResNetError(
                        .malformed, format: format, at: .entry(s.key),
                        "storage is declared twice with different types or sizes")
                }
            } else {
                out[s.key] = s
            }
        }
        return out
    }
}
