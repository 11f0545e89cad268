import TResNetCore

/// Writes a `.safetensors` file in the reference writer's canonical form (safetensors `serialize`):
/// `__metadata__` first, tensors sorted by descending dtype (the reference's dtype order, which is by
/// alignment) then by name, packed back to back, the JSON header padded with spaces to a multiple of 8 so the
/// data buffer starts 8-aligned and every tensor is aligned to its element size.
public enum SafetensorsWriter {
    /// Writes `entries` (name, tensor) with string `metadata` to `path` atomically (temporary file, fsync,
    /// rename). Tensors are dense little-endian row-major already, so their bytes are written as they are.
    /// `beforeCommit` runs after every byte is written and before the rename: when it throws, nothing replaces
    /// `path` (an existing file stays as it was).
    /// - Throws: `.outputExists` when `path` exists and `overwrite` is false; `.malformed` for a duplicate or
    ///   reserved (`__metadata__`) name; `.unsupported` for a dtype safetensors cannot hold (complex128).
    public static func write(
        _ entries: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
        to path: String, overwrite: Bool, beforeCommit: () throws -> Void = {}
    ) throws {
        let (header, order) = try encodeHeader(entries, metadata: metadata)
        try TResNetError.naming(path) {
            try AtomicFile.writing(to: path, overwrite: overwrite) { file in
                var length = UInt64(header.count).littleEndian
                try withUnsafeBytes(of: &length) { try file.write($0) }
                try file.write(header)
                for i in order { try file.write(entries[i].tensor.data.bytes) }
                try beforeCommit()
            }
        }
    }

    /// The padded JSON header and the order (indices into `entries`) the tensors' bytes follow it in.
    static func encodeHeader(_ entries: [(name: String, tensor: Tensor)], metadata: [String: String])
        throws -> (header: [UInt8], order: [Int])
    {
        var seen = Set<String>()
        for (name, tensor) in entries {
            guard name != "__metadata__" else {
                throw TResNetError(.malformed, format: "safetensors", at: .tensor(name), "reserved tensor name")
            }
            guard seen.insert(name).inserted else {
                throw TResNetError(.malformed, format: "safetensors", at: .tensor(name), "duplicate tensor name")
            }
            guard tensor.dtype.safetensorsName != nil else {
                throw TResNetError(
                    .unsupported, format: "safetensors", at: .tensor(name),
                    "safetensors has no \(tensor.dtype.rawValue) dtype")
            }
        }
        let order = entries.indices.sorted { a, b in
            let ra = ranks[entries[a].tensor.dtype] ?? -1, rb = ranks[entries[b].tensor.dtype] ?? -1
            if ra != rb { return ra > rb }
            return entries[a].name.utf8.lexicographicallyPrecedes(entries[b].name.utf8)
        }
        var json: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
        }
        if !metadata.isEmpty {
            separator()
            appendString("__metadata__", to: &json)
            json.append(contentsOf: Array(":{".utf8))
            for (i, key) in metadata.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { json.append(UInt8(ascii: ",")) }
                appendString(key, to: &json)
                json.append(UInt8(ascii: ":"))
                appendString(metadata[key] ?? "", to: &json)
            }
            json.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for i in order {
            let (name, tensor) = entries[i]
            separator()
            appendString(name, to: &json)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let end = offset + tensor.byteCount
            let body =
                ":{\"dtype\":\"\(tensor.dtype.safetensorsName ?? "")\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(end)]}"
            json.append(contentsOf: Array(body.utf8))
            offset = end
        }
        json.append(UInt8(ascii: "}"))
        let padding = (8 - json.count % 8) % 8
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: padding))
        return (json, order)
    }

    /// The reference's `Dtype` declaration order (Rust `derive(Ord)`); its writer sorts by it, descending.
    /// complex128, which it lacks, is refused before sorting.
    static let ranks: [DType: Int] = [
        .bool: 0, .uint8: 4, .int8: 5, .float8_e5m2: 6, .float8_e4m3fn: 7, .int16: 9, .uint16: 10, .float16: 11,
        .bfloat16: 12, .int32: 13, .uint32: 14, .float32: 15, .complex64: 16, .float64: 17, .int64: 18, .uint64: 19
    ]

    /// A JSON string the way serde_json writes it: `"` `\` and control characters escaped, the rest raw UTF-8.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: Array("\\\"".utf8))
            case UInt8(ascii: "\\"): out.append(contentsOf: Array("\\\\".utf8))
            case 0x08: out.append(contentsOf: Array("\\b".utf8))
            case 0x0C: out.append(contentsOf: Array("\\f".utf8))
            case 0x0A: out.append(contentsOf: Array("\\n".utf8))
            case 0x0D: out.append(contentsOf: Array("\\r".utf8))
            case 0x09: out.append(contentsOf: Array("\\t".utf8))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
