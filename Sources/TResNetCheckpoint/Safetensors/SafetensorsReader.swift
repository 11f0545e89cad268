import TResNetCore

/// Reads a `.safetensors` file, validated the way the reference implementation validates it
/// (`safetensors/src/tensor.rs`; docs/READERS.md, docs/ROBUSTNESS.md #54–#64), and stricter where the reference is
/// lenient (duplicate keys, unknown fields in a tensor entry).
///
/// Layout: `u64 LE N` | `N` bytes of UTF-8 JSON (begins with `{`, may be padded with trailing whitespace) |
/// the data buffer. Tensors are zero-copy slices of `store`, in the header's key order.
public enum SafetensorsReader {
    /// The largest header the reference accepts (`MAX_HEADER_SIZE`).
    public static let maxHeaderSize = 100_000_000

    /// The longest array a header may hold: shapes have at most this many dimensions (offsets are pairs). Keeps
    /// the parsed header within a small multiple of its size.
    public static let maxRank = 64

    static let format = "safetensors"

    /// Reads every tensor and the `__metadata__` strings. The returned state dict's `metadata` holds the same
    /// strings. Errors name `path`.
    public static func read(_ store: ByteStore, path: String) throws -> (StateDict, metadata: [String: String]) {
        try TResNetError.naming(path) { try read(store) }
    }

    /// Maps the file at `path` and reads it.
    public static func read(path: String) throws -> (StateDict, metadata: [String: String]) {
        try read(try ByteStore.map(path: path), path: path)
    }

    static func read(_ store: ByteStore) throws -> (StateDict, metadata: [String: String]) {
        var reader = ByteReader(store.bytes, format: format)
        guard store.count >= 8 else {
            throw reader.error(
                .truncated, at: 0, "truncated: the header length needs 8 bytes, the file has \(store.count)")
        }
        let declared = try reader.u64("header length")
        guard declared <= UInt64(maxHeaderSize) else {
            throw reader.error(
                .limitExceeded, at: 0,
                "header length \(declared) exceeds the \(maxHeaderSize)-byte limit")
        }
        let headerLength = Int(declared)  // ≤ 100,000,000: exact
        guard headerLength <= store.count - 8 else {
            throw reader.error(
                .truncated, at: 0,
                "header length \(headerLength) is beyond the file (\(store.count - 8) bytes follow it)")
        }
        let header = try reader.bytes(headerLength, "header")
        guard headerLength > 0, header[0] == UInt8(ascii: "{") else {
            throw reader.error(at: 8, "header does not begin with '{'")
        }
        let json = try JSONParser.parse(header, format: format, baseOffset: 8, maxArrayLength: maxRank)
        guard let members = json.objectMembers else {
            throw reader.error(at: 8, "header is a JSON \(json.kindName), not an object")
        }
        let dataStart = 8 + headerLength
        let available = store.count - dataStart

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (index, (name, value)) in members.enumerated() {
            if name == "__metadata__" {
                metadata = try parseMetadata(value)
            } else {
                entries.append(try parseEntry(name: name, value: value, order: index))
            }
        }
        try validateLayout(entries, dataStart: dataStart, available: available)

        var dict = StateDict()
        for e in entries {
            let slice = ByteSlice(store: store, offset: dataStart + e.begin, count: e.end - e.begin)
            try dict.insert(e.name, Tensor(dtype: e.dtype, shape: e.shape, data: slice))
        }
        dict.metadata = metadata
        return (dict, metadata)
    }

    struct Entry {
        let name: String
        let dtype: DType
        let shape: [Int]
        let begin: Int
        let end: Int
        let order: Int
    }

    /// Dtypes the safetensors spec defines that the toolkit has no element type for.
    static let knownUnsupported: Set<String> = ["F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F4", "F6_E2M3", "F6_E3M2"]

    static func error(_ code: TResNetError.Code = .malformed, tensor: String, _ message: String) -> TResNetError {
        TResNetError(code, format: format, at: .tensor(tensor), message)
    }

    static func parseMetadata(_ value: JSONValue) throws -> [String: String] {
        if case .null = value { return [:] }
        guard let members = value.objectMembers else {
            throw TResNetError(
                .malformed, format: format, at: .field("__metadata__"),
                "__metadata__ is a JSON \(value.kindName), not an object of strings")
        }
        var out: [String: String] = [:]
        for (k, v) in members {
            guard let s = v.stringValue else {
                throw TResNetError(
                    .malformed, format: format, at: .field("__metadata__"),
                    "value of '\(displaySafe(k))' is a JSON \(v.kindName); metadata values must be strings")
            }
            out[k] = s
        }
        return out
    }

    static func parseEntry(name: String, value: JSONValue, order: Int) throws -> Entry {
        guard let fields = value.objectMembers else {
            throw error(tensor: name, "entry is a JSON \(value.kindName), not an object")
        }
        for (k, _) in fields where !["dtype", "shape", "data_offsets"].contains(k) {
            throw error(tensor: name, "unknown field '\(displaySafe(k))' (expected dtype, shape, data_offsets)")
        }
        guard let dtypeValue = value["dtype"] else { throw error(tensor: name, "missing 'dtype'") }
        guard let dtypeName = dtypeValue.stringValue else {
            throw error(tensor: name, "dtype is a JSON \(dtypeValue.kindName), not a string")
        }
        guard let dtype = DType(safetensorsName: dtypeName) else {
            if knownUnsupported.contains(dtypeName) {
                throw error(.unsupported, tensor: name, "dtype \(dtypeName) is not supported")
            }
            throw error(tensor: name, "unknown dtype '\(displaySafe(dtypeName, limit: 40))'")
        }
        guard let shapeValue = value["shape"] else { throw error(tensor: name, "missing 'shape'") }
        guard let dims = shapeValue.arrayElements else {
            throw error(tensor: name, "shape is a JSON \(shapeValue.kindName), not an array")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for d in dims {
            guard case .number(let n) = d, n.isInteger, let v = n.int, v >= 0 else {
                throw error(tensor: name, "shape \(render(dims)) must hold non-negative integers")
            }
            shape.append(v)
        }
        guard let offsetsValue = value["data_offsets"] else { throw error(tensor: name, "missing 'data_offsets'") }
        guard let offsets = offsetsValue.arrayElements, offsets.count == 2 else {
            throw error(tensor: name, "data_offsets must be an array of exactly two integers")
        }
        var pair: [Int] = []
        for o in offsets {
            guard case .number(let n) = o, n.isInteger, n.uint64 != nil else {
                throw error(tensor: name, "data_offsets \(render(offsets)) must be non-negative integers")
            }
            guard let v = n.int else {
                throw error(.sizeOverflow, tensor: name, "data_offsets \(render(offsets)) are too large")
            }
            pair.append(v)
        }
        let (begin, end) = (pair[0], pair[1])
        guard begin <= end else {
            throw error(tensor: name, "data_offsets [\(begin), \(end)]: begin is after end")
        }
        guard let bytes = Checked.byteCount(shape, elementSize: dtype.byteSize) else {
            throw error(
                .sizeOverflow, tensor: name, "shape \(formatShape(shape)) \(dtypeName) overflows the byte count")
        }
        guard end - begin == bytes else {
            throw error(
                tensor: name,
                "data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape "
                    + "\(formatShape(shape)) \(dtypeName) needs \(bytes)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end, order: order)
    }

    /// Sorted by offsets, the ranges must start at 0, follow each other without hole or overlap, and end exactly
    /// where the file ends (no trailing bytes: no polyglots).
    static func validateLayout(_ entries: [Entry], dataStart: Int, available: Int) throws {
        let sorted = entries.sorted { ($0.begin, $0.end, $0.order) < ($1.begin, $1.end, $1.order) }
        var expected = 0
        for e in sorted {
            if e.begin > expected {
                throw error(
                    tensor: e.name,
                    "data_offsets [\(e.begin), \(e.end)] leave a hole: "
                        + "the previous tensor ends at \(expected)")
            }
            if e.begin < expected {
                throw error(
                    tensor: e.name,
                    "data_offsets [\(e.begin), \(e.end)] overlap the previous tensor, "
                        + "which ends at \(expected)")
            }
            expected = e.end
        }
        if expected > available {
            let name = sorted.last?.name ?? ""
            throw error(
                .truncated, tensor: name,
                "data_offsets end \(expected) is past the end of the file "
                    + "(the data buffer has \(available) bytes)")
        }
        if expected < available {
            throw TResNetError(
                .malformed, format: format, at: .offset(dataStart + expected),
                "\(available - expected) trailing bytes after the last tensor")
        }
    }

    static func render(_ values: [JSONValue]) -> String {
        let parts = values.map { v -> String in
            switch v {
            case .number(let n): return displaySafe(n.text, limit: 30)
            case .string(let s): return "\"" + displaySafe(s, limit: 30) + "\""
            default: return v.kindName
            }
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
