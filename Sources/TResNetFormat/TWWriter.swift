import TResNetCore

/// Writes `.tw` files: streams header, metadata, index and tensors in the given order through an `AtomicFile`
/// (temp file in the same folder, fsync, rename), hashing each tensor as it goes, then seals the header in
/// place. On any failure nothing appears at the destination.
public enum TWWriter {
    /// Writes `tensors` (in this order) and `metadata` to `path`.
    /// - Parameters:
    ///   - overwrite: replace an existing file (`--force`).
    ///   - progress: called after each tensor with (bytes of tensor data written, total); may throw to abort.
    /// - Returns: the file length.
    @discardableResult
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: TWValue], to path: String,
        overwrite: Bool, progress: ((Int, Int) throws -> Void)? = nil,
        late: LateString? = nil
    ) throws -> Int {
        var metadata = metadata
        if let late { metadata[late.key] = .string(String(repeating: "0", count: late.length)) }
        // One pass over the data: each tensor is hashed and then written while it is still in cache; the header
        // goes out first with placeholder checksums (and late values) and is rewritten in place at the end.
        let first = try encodeHead(tensors, metadata: metadata, checksums: [UInt64](repeating: 0, count: tensors.count))
        let head = first.bytes
        let (infos, fileLength) = (first.infos, first.fileLength)
        try AtomicFile.writing(to: path, overwrite: overwrite) { file in
            try file.write(head)
            let total = infos.reduce(0) { $0 + $1.length }
            var done = 0
            var checksums: [UInt64] = []
            checksums.reserveCapacity(tensors.count)
            // Tensors that lie verbatim in a mapped source file are read from the file (no page faults, and the
            // resident set does not grow by the source's size) in pieces small enough to stay in the L2 cache
            // (256 KiB: read, hash, write while hot — 8 MiB pieces make the same copy 2–3× slower), through one
            // reused buffer. Tensors in memory are hashed and written directly.
            let piece = 256 << 10
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece, alignment: 64)
            defer { buffer.deallocate() }
            for (i, (_, t)) in tensors.enumerated() {
                let start = head.count + infos[i].offset
                try file.writeZeros(start - file.bytesWritten)
                if t.data.store.isFileMapping, t.data.count > 0 {
                    var hasher = XXH64.Stream()
                    var at = t.data.offset
                    let end = t.data.offset + t.data.count
                    while at < end {
                        let n = min(piece, end - at)
                        try t.data.store.copy(at..<(at + n), into: buffer.baseAddress!)
                        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                        hasher.update(bytes)
                        try file.write(bytes)
                        at += n
                    }
                    checksums.append(hasher.finalize())
                } else {
                    checksums.append(XXH64.hash(t.data.bytes))
                    try file.write(t.data.bytes)
                }
                done += t.byteCount
                try progress?(done, total)
            }
            guard file.bytesWritten == fileLength else {
                throw TResNetError(
                    .io, format: "tw", "wrote \(file.bytesWritten) bytes, expected \(fileLength)", file: path)
            }
            if let late {
                // While the late value is still being computed (the source's SHA-256, on another core), make the
                // data durable; the commit then flushes only the sealed header.
                try file.flushData()
                // The value was written as a placeholder of its final length; now that the data is out, resolve it.
                let value = Array(try late.resolve().utf8)
                guard value.count == late.length else {
                    throw TResNetError(
                        .io, format: "tw", at: .field(late.key),
                        "late value has \(value.count) bytes, not \(late.length)")
                }
                metadata[late.key] = .string(String(decoding: value, as: UTF8.self))
            }
            // Seal: the real checksums and late values, the header checksum over them, patched in place.
            let sealed = try encodeHead(tensors, metadata: metadata, checksums: checksums)
            guard sealed.bytes.count == head.count else {
                throw TResNetError(.io, format: "tw", "the header changed length while sealing it")
            }
            try file.write(sealed.bytes, at: 0)
        }
        return fileLength
    }

    /// Header + metadata + index + padding up to the data section, the index entries, and the file length.
    static func encodeHead(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: TWValue],
        checksums: [UInt64]
    ) throws
        -> (bytes: [UInt8], infos: [TWTensorInfo], fileLength: Int)
    {
        guard metadata.count <= TWLayout.maxMetadataCount, tensors.count <= TWLayout.maxTensorCount else {
            throw TResNetError(.limitExceeded, format: "tw", "too many metadata entries or tensors")
        }
        var meta = [UInt8]()
        for key in metadata.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let k = Array(key.utf8)
            guard (1...TWLayout.maxKeyLength).contains(k.count), k.allSatisfy(TWLayout.isKeyByte) else {
                throw TResNetError(.usage, format: "tw", at: .field(key), "metadata keys are 1–256 chars of [a-z0-9_.]")
            }
            meta.appendU32(UInt32(k.count))
            meta += k
            let value = metadata[key]!
            meta.append(value.tag)
            try meta.appendValue(value, key: key)
        }
        var index = [UInt8]()
        var infos: [TWTensorInfo] = []
        var offset = 0
        var names = Set<String>()
        for (name, t) in tensors {
            let n = Array(name.utf8)
            guard (1...TWLayout.maxNameLength).contains(n.count), names.insert(name).inserted else {
                throw TResNetError(.usage, format: "tw", at: .tensor(name), "tensor names must be unique, 1–1024 bytes")
            }
            guard let code = TWLayout.code(of: t.dtype) else {
                throw TResNetError(
                    .unsupported, format: "tw", at: .tensor(name),
                    "\(t.dtype.rawValue) cannot be stored in .tw v1 (f32, f16, bf16)")
            }
            guard t.rank <= TWLayout.maxRank else {
                throw TResNetError(.unsupported, format: "tw", at: .tensor(name), "rank > 8")
            }
            let checksum = checksums[infos.count]
            index.appendU32(UInt32(n.count))
            index += n
            index += [code, UInt8(t.rank), 0, 0]
            for d in t.shape { index.appendU64(UInt64(d)) }
            index.appendU64(UInt64(offset))
            index.appendU64(UInt64(t.byteCount))
            index.appendU64(checksum)
            infos.append(
                TWTensorInfo(
                    name: name, dtype: t.dtype, shape: t.shape, offset: offset, length: t.byteCount, checksum: checksum)
            )
            offset = Checked.alignUp(offset + t.byteCount, to: TWLayout.alignment)!
        }
        let indexEnd = TWLayout.headerLength + meta.count + index.count
        let dataOffset = Checked.alignUp(indexEnd, to: TWLayout.alignment)!
        let fileLength = dataOffset + (infos.last.map { $0.offset + $0.length } ?? 0)
        var head = TWLayout.magic
        head.appendU32(TWLayout.version)
        head.appendU32(UInt32(TWLayout.headerLength))
        head.appendU32(UInt32(TWLayout.alignment))
        head.appendU32(0)
        head.appendU32(UInt32(metadata.count))
        head.appendU32(UInt32(tensors.count))
        head.appendU64(UInt64(meta.count))
        head.appendU64(UInt64(index.count))
        head.appendU64(UInt64(fileLength))
        head.appendU64(0)  // checksum placeholder
        head += meta
        head += index
        let checksum = head.withUnsafeBytes { TWLayout.headerChecksum($0, indexEnd: indexEnd) }
        withUnsafeBytes(of: checksum.littleEndian) { c in
            for i in 0..<8 { head[TWLayout.checksumFieldOffset + i] = c[i] }
        }
        head += [UInt8](repeating: 0, count: dataOffset - indexEnd)
        return (head, infos, fileLength)
    }
}

/// A string metadata value known only after the tensor data is written (the source's SHA-256, hashed on
/// another core while the data streams out). It is written as `length` placeholder bytes and patched in place.
public struct LateString: Sendable {
    public var key: String
    public var length: Int
    public var resolve: @Sendable () throws -> String

    public init(key: String, length: Int, resolve: @escaping @Sendable () throws -> String) {
        self.key = key
        self.length = length
        self.resolve = resolve
    }
}

extension [UInt8] {
    mutating func appendU32(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func appendU64(_ v: UInt64) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }

    mutating func appendString(_ s: String, key: String) throws {
        let b = Array(s.utf8)
        guard b.count <= TWLayout.maxStringLength else {
            throw TResNetError(.limitExceeded, format: "tw", at: .field(key), "string longer than 1 MiB")
        }
        appendU32(UInt32(b.count))
        self += b
    }

    mutating func appendValue(_ value: TWValue, key: String) throws {
        func count(_ n: Int) throws {
            guard n <= TWLayout.maxArrayCount else {
                throw TResNetError(.limitExceeded, format: "tw", at: .field(key), "array too long")
            }
            appendU32(UInt32(n))
        }
        switch value {
        case .int(let v): appendU64(UInt64(bitPattern: v))
        case .double(let v): appendU64(v.bitPattern)
        case .bool(let v): append(v ? 1 : 0)
        case .string(let v): try appendString(v, key: key)
        case .ints(let v): try count(v.count); for x in v { appendU64(UInt64(bitPattern: x)) }
        case .doubles(let v): try count(v.count); for x in v { appendU64(x.bitPattern) }
        case .strings(let v): try count(v.count); for x in v { try appendString(x, key: key) }
        }
    }
}
