import TResNetCore

/// An opened `.tw` file: fully validated (docs/FORMAT.md §3), with tensors handed out as zero-copy slices of
/// the memory map.
public struct TWFile: Sendable {
    public let path: String
    public let version: UInt32
    /// Metadata, sorted by key.
    public let metadata: [(key: String, value: TWValue)]
    /// Index entries in data order.
    public let entries: [TWTensorInfo]
    public let store: ByteStore
    /// Absolute offset of the data section.
    public let dataOffset: Int
    private let positions: [String: Int]

    /// Maps and validates `path`. With `verifyChecksums`, every tensor's XXH64 is checked too.
    public static func open(path: String, verifyChecksums: Bool = false) throws -> TWFile {
        let store = try ByteStore.map(path: path)
        return try TResNetError.naming(path) { try TWFile(store: store, path: path, verifyChecksums: verifyChecksums) }
    }

    /// Validates bytes already in memory.
    public init(store: ByteStore, path: String = "<memory>", verifyChecksums: Bool = false) throws {
        self.path = path
        self.store = store
        let bytes = store.bytes
        var r = ByteReader(bytes, format: "tw")
        func fail(_ code: TResNetError.Code = .malformed, at offset: Int, _ message: String) -> TResNetError {
            TResNetError(code, format: "tw", at: .offset(offset), message)
        }

        // 1. Fixed header.
        guard bytes.count >= TWLayout.headerLength else {
            throw fail(.truncated, at: 0, "truncated: \(bytes.count) bytes, the header alone is 64")
        }
        let magic = Array(try r.bytes(8, "magic"))
        guard magic == TWLayout.magic else { throw fail(at: 0, "not a .tw file (bad magic)") }
        let version = try r.u32("version")
        guard version == TWLayout.version else { throw fail(.unsupported, at: 8, "unsupported .tw version \(version)") }
        self.version = version
        guard try r.u32("header_length") == UInt32(TWLayout.headerLength) else {
            throw fail(at: 12, "header_length must be 64")
        }
        guard try r.u32("alignment") == UInt32(TWLayout.alignment) else { throw fail(at: 16, "alignment must be 64") }
        guard try r.u32("flags") == 0 else { throw fail(at: 20, "reserved flags are not zero") }
        let metadataCount = Int(try r.u32("metadata_count"))
        let tensorCount = Int(try r.u32("tensor_count"))
        guard metadataCount <= TWLayout.maxMetadataCount else {
            throw fail(.limitExceeded, at: 24, "\(metadataCount) metadata entries (limit 4096)")
        }
        guard tensorCount <= TWLayout.maxTensorCount else {
            throw fail(.limitExceeded, at: 28, "\(tensorCount) tensors (limit 1048576)")
        }
        let metadataLength = try r.u64AsInt("metadata_length")
        let indexLength = try r.u64AsInt("index_length")
        let declaredLength = try r.u64AsInt("file_length")
        let storedChecksum = try r.u64("header_checksum")

        // 2. Exact length.
        guard declaredLength == bytes.count else {
            let code: TResNetError.Code = bytes.count < declaredLength ? .truncated : .malformed
            let what = bytes.count < declaredLength ? "truncated" : "trailing bytes"
            throw fail(code, at: 48, "\(what): the header says \(declaredLength) bytes, the file has \(bytes.count)")
        }
        // 3. Sections inside the file.
        guard let metaEnd = Checked.add(TWLayout.headerLength, metadataLength),
            let indexEnd = Checked.add(metaEnd, indexLength), indexEnd <= bytes.count,
            let dataOffset = Checked.alignUp(indexEnd, to: TWLayout.alignment), dataOffset <= bytes.count
        else {
            throw fail(
                .truncated, at: 32,
                "metadata (\(metadataLength)) and index (\(indexLength)) lengths run past the \(bytes.count)-byte file")
        }
        self.dataOffset = dataOffset
        // 4. Header checksum before interpreting anything variable.
        let actual = TWLayout.headerChecksum(bytes, indexEnd: indexEnd)
        guard actual == storedChecksum else {
            throw fail(.checksumMismatch, at: 56, "header checksum mismatch: the header, metadata or index is corrupt")
        }

        // 5. Metadata.
        var m = ByteReader(
            UnsafeRawBufferPointer(rebasing: bytes[TWLayout.headerLength..<metaEnd]),
            baseOffset: TWLayout.headerLength, format: "tw")
        var metadata: [(String, TWValue)] = []
        var previousKey: [UInt8]?
        for _ in 0..<metadataCount {
            let at = m.offset
            let keyLength = Int(try m.u32("metadata key length"))
            guard (1...TWLayout.maxKeyLength).contains(keyLength) else {
                throw fail(at: at, "metadata key length \(keyLength) outside 1…256")
            }
            let keyBytes = Array(try m.bytes(keyLength, "metadata key"))
            guard keyBytes.allSatisfy(TWLayout.isKeyByte) else {
                throw fail(at: at, "metadata key has characters outside [a-z0-9_.]")
            }
            let key = String(decoding: keyBytes, as: UTF8.self)
            if let previousKey, !previousKey.lexicographicallyPrecedes(keyBytes) {
                throw fail(
                    at: at,
                    "metadata key '\(displaySafe(key))' is out of order or duplicated (keys must be sorted and unique)")
            }
            previousKey = keyBytes
            metadata.append((key, try Self.readValue(&m, key: key)))
        }
        guard m.isAtEnd else { throw fail(at: m.offset, "\(m.remaining) unused bytes at the end of the metadata") }
        self.metadata = metadata

        // 6. Index.
        var x = ByteReader(
            UnsafeRawBufferPointer(rebasing: bytes[metaEnd..<indexEnd]), baseOffset: metaEnd, format: "tw")
        var entries: [TWTensorInfo] = []
        var positions: [String: Int] = [:]
        var expectedOffset = 0
        let dataLength = bytes.count - dataOffset
        for i in 0..<tensorCount {
            let at = x.offset
            let nameLength = Int(try x.u32("tensor name length"))
            guard (1...TWLayout.maxNameLength).contains(nameLength) else {
                throw fail(at: at, "tensor \(i): name length \(nameLength) outside 1…1024")
            }
            let name = try x.utf8(nameLength, "tensor name")
            func bad(_ code: TResNetError.Code, _ message: String) -> TResNetError {
                TResNetError(code, format: "tw", at: .tensor(name), message)
            }
            func bad(_ message: String) -> TResNetError { bad(.malformed, message) }
            guard positions[name] == nil else { throw bad("duplicate tensor name") }
            let code = try x.u8("dtype")
            guard let dtype = TWLayout.dtype(code: code) else { throw bad(.unsupported, "unknown dtype code \(code)") }
            let rank = Int(try x.u8("rank"))
            guard rank <= TWLayout.maxRank else { throw bad("rank \(rank) > 8") }
            guard try x.u16("reserved") == 0 else { throw bad("reserved bytes are not zero") }
            var shape: [Int] = []
            for _ in 0..<rank {
                let d = try x.u64("dimension")
                guard d <= UInt64(TWLayout.maxDim) else { throw bad(.sizeOverflow, "dimension \(d) too large") }
                shape.append(Int(d))
            }
            let offset = try x.u64AsInt("offset")
            let length = try x.u64AsInt("length")
            let checksum = try x.u64("checksum")
            guard let bytesNeeded = Checked.byteCount(shape, elementSize: dtype.byteSize) else {
                throw bad(.sizeOverflow, "shape \(formatShape(shape)) overflows")
            }
            guard length == bytesNeeded else {
                throw bad(
                    "length \(length) does not match \(dtype.shortName)\(formatShape(shape)) = \(bytesNeeded) bytes")
            }
            guard offset == expectedOffset else {
                throw bad(
                    "offset \(offset), expected \(expectedOffset) (offsets must be the running 64-byte-aligned sum: "
                        + "no holes, overlaps or sharing)")
            }
            guard let end = Checked.add(offset, length), end <= dataLength else {
                throw bad(
                    .truncated, "data [\(offset), \(offset + length)) runs past the \(dataLength)-byte data section")
            }
            positions[name] = entries.count
            entries.append(
                TWTensorInfo(name: name, dtype: dtype, shape: shape, offset: offset, length: length, checksum: checksum)
            )
            guard let next = Checked.alignUp(end, to: TWLayout.alignment) else {
                throw bad(.sizeOverflow, "offset overflow")
            }
            expectedOffset = next
        }
        guard x.isAtEnd else { throw fail(at: x.offset, "\(x.remaining) unused bytes at the end of the index") }
        self.entries = entries
        self.positions = positions

        // 7. Zero padding; 8. exact end.
        func checkZero(_ range: Range<Int>) throws {
            for p in range where bytes[p] != 0 { throw fail(at: p, "padding byte is not zero") }
        }
        try checkZero(indexEnd..<dataOffset)
        var cursor = dataOffset
        for e in entries {
            try checkZero(cursor..<(dataOffset + e.offset))
            cursor = dataOffset + e.offset + e.length
        }
        guard cursor == bytes.count else {
            throw fail(at: cursor, "trailing bytes: the last tensor ends at \(cursor), the file at \(bytes.count)")
        }
        if verifyChecksums { try self.verifyChecksums() }
    }

    static func readValue(_ m: inout ByteReader, key: String) throws -> TWValue {
        let at = m.offset
        let tag = try m.u8("metadata type")
        func string() throws -> String {
            let n = Int(try m.u32("string length"))
            guard n <= TWLayout.maxStringLength else {
                throw m.error(.limitExceeded, "string for '\(displaySafe(key))' longer than 1 MiB")
            }
            return try m.utf8(n, "string for '\(displaySafe(key))'")
        }
        func count() throws -> Int {
            let n = Int(try m.u32("array count"))
            guard n <= TWLayout.maxArrayCount else {
                throw m.error(.limitExceeded, "array for '\(displaySafe(key))' longer than 65536")
            }
            return n
        }
        switch tag {
        case 1: return .int(Int64(bitPattern: try m.u64("i64")))
        case 2: return .double(Double(bitPattern: try m.u64("f64")))
        case 3:
            let b = try m.u8("bool")
            guard b <= 1 else { throw m.error(at: at + 1, "bool for '\(displaySafe(key))' is \(b), not 0 or 1") }
            return .bool(b == 1)
        case 4: return .string(try string())
        case 5:
            let n = try count()
            try m.need(n * 8, "i64 array")
            return .ints(try (0..<n).map { _ in Int64(bitPattern: try m.u64()) })
        case 6:
            let n = try count()
            try m.need(n * 8, "f64 array")
            return .doubles(try (0..<n).map { _ in Double(bitPattern: try m.u64()) })
        case 7:
            let n = try count()
            try m.need(n * 4, "string array")
            return .strings(try (0..<n).map { _ in try string() })
        default:
            throw m.error(.unsupported, at: at, "unknown metadata type \(tag) for '\(displaySafe(key))'")
        }
    }

    /// Checks every tensor's XXH64; the error names the first tensor that differs.
    public func verifyChecksums() throws {
        for e in entries {
            let slice = UnsafeRawBufferPointer(
                rebasing: store.bytes[(dataOffset + e.offset)..<(dataOffset + e.offset + e.length)])
            guard XXH64.hash(slice) == e.checksum else {
                throw TResNetError(
                    .checksumMismatch, format: "tw", at: .tensor(e.name),
                    "checksum mismatch: the tensor's bytes are corrupt", file: path)
            }
        }
    }

    /// The value of metadata `key`.
    public subscript(metadata key: String) -> TWValue? { metadata.first { $0.key == key }?.value }

    /// Tensor `name` as a zero-copy slice of the mapping.
    public func tensor(_ name: String) -> Tensor? {
        guard let i = positions[name] else { return nil }
        return tensor(entries[i])
    }

    func tensor(_ e: TWTensorInfo) -> Tensor {
        Tensor(
            dtype: e.dtype, shape: e.shape,
            data: ByteSlice(store: store, offset: dataOffset + e.offset, count: e.length))
    }

    /// All tensors in file order (zero-copy).
    public var tensors: [(name: String, tensor: Tensor)] { entries.map { ($0.name, tensor($0)) } }

    /// The tensors as a state dict (zero-copy), with the metadata rendered as text.
    public func stateDict() throws -> StateDict {
        var sd = StateDict()
        for (n, t) in tensors { try sd.insert(n, t) }
        for (k, v) in metadata { sd.metadata[k] = v.stringValue ?? v.description }
        return sd
    }
}
