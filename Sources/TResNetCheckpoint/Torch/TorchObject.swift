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

    /// The dense tensor for `ref` over its storage record, after validating the view (docs/READERS.md): every
    /// addressed element, `offset + Σ(size−1)·stride`, must lie inside the storage, checked with overflow-safe
    /// math before any byte is touched. Contiguous views are slices (no copy); non-contiguous ones (transposes,
    /// channels_last, stride-0 expands) are gathered exactly.
    /// - Parameter copyBudget: bytes that non-contiguous views may still copy out; reduced by each gather. A
    ///   stride-0 view can address far more elements than its file holds, so copies are bounded by the input size.
    func tensor(_ ref: TensorRef, name: String, copyBudget: inout Int) throws -> Tensor {
        func fail(_ code: TResNetError.Code, _ message: String) -> TResNetError {
            TResNetError(code, format: format, at: .tensor(name), message)
        }
        func fail(_ message: String) -> TResNetError { fail(.malformed, message) }
        guard let record = records[ref.storage.key] else {
            throw fail("storage '\(displaySafe(ref.storage.key))' has no record")
        }
        let es = ref.dtype.byteSize
        var storage = record
        // Legacy storage views select a window of the root storage (in the root's elements).
        if let view = ref.storage.view {
            let rootSize = ref.storage.dtype?.byteSize ?? 1
            guard let start = Checked.multiply(view.offset, rootSize),
                let length = Checked.multiply(view.numel, rootSize),
                let end = Checked.add(start, length), end <= record.count
            else {
                throw fail(
                    "storage view [\(view.offset), +\(view.numel)) lies outside storage '\(displaySafe(ref.storage.key))'"
                )
            }
            storage = record.slice(start..<end)
        }
        guard let count = Checked.product(ref.shape), Checked.multiply(count, es) != nil else {
            throw fail(.sizeOverflow, "shape \(formatShape(ref.shape)) overflows")
        }
        if count == 0 {
            return Tensor(
                dtype: ref.dtype, shape: ref.shape,
                data: ByteSlice(store: storage.store, offset: storage.offset, count: 0))
        }
        var last = ref.storageOffset
        for (size, stride) in zip(ref.shape, ref.strides) {
            guard let step = Checked.multiply(size - 1, stride), let sum = Checked.add(last, step) else {
                throw fail(.sizeOverflow, "view offset/stride arithmetic overflows")
            }
            last = sum
        }
        let capacity = storage.count / es
        guard last < capacity else {
            throw fail(
                "view (offset \(ref.storageOffset), size \(formatShape(ref.shape)), stride \(formatShape(ref.strides))) "
                    + "reaches element \(last) of a \(capacity)-element storage '\(displaySafe(ref.storage.key))'")
        }
        if !Tensor.isContiguous(shape: ref.shape, strides: ref.strides) {
            let bytes = count * es  // checked above
            guard bytes <= copyBudget else {
                throw fail(
                    .limitExceeded,
                    "non-contiguous views would copy out \(bytes) more bytes, beyond the "
                        + "\(copyBudget) left for this file (stride-0 expansion bomb?)")
            }
            copyBudget -= bytes
        }
        return Tensor.gather(
            storage: storage, dtype: ref.dtype, shape: ref.shape, strides: ref.strides,
            offset: ref.storageOffset)
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
