import TResNetCore

/// The legacy stream format (`_use_new_zipfile_serialization=False`, docs/READERS.md): five pickles — magic,
/// protocol 1001, sys_info, the object, the storage-key list — then each storage as an int64 LE element count
/// followed by its bytes. Everything is bounds-checked; nothing is allocated from a declared size (a record is
/// copied only after its bytes are known to be present, when its offset is unaligned, and only when first used).
enum LegacyCheckpoint {
    static let format = "pytorch-legacy"
    /// LONG1 magic 0x1950a86a20f9469cfc6c, little-endian (recognised by `FileFormat`).
    static let magic = FileFormat.legacyMagic

    static func fail(_ code: TResNetError.Code = .malformed, at offset: Int, _ message: String) -> TResNetError {
        TResNetError(code, format: format, at: .offset(offset), message)
    }

    static func read(_ store: ByteStore, strict: Bool = false) throws -> TorchObject {
        let bytes = store.bytes
        let magicPickle = try PickleMachine.parse(bytes, style: .legacy)
        guard case .bigInt(let raw) = magicPickle.arena[magicPickle.root], raw == magic else {
            throw fail(at: 0, "not a legacy torch stream (magic number missing)")
        }
        let protoStart = magicPickle.end
        let proto = try PickleMachine.parse(bytes, from: protoStart, style: .legacy)
        guard case .int(1001) = proto.arena[proto.root] else {
            throw fail(.unsupported, at: protoStart, "legacy protocol version is not 1001")
        }
        let infoStart = proto.end
        let info = try PickleMachine.parse(bytes, from: infoStart, style: .legacy)
        guard let sys = info.arena.dict(info.root) else { throw fail(at: infoStart, "sys_info is not a dict") }
        var littleEndian: Bool?
        for (k, v) in zip(sys.keys, sys.values) where info.arena.string(k) == "little_endian" {
            if case .bool(let b) = info.arena[v] { littleEndian = b }
        }
        guard let littleEndian else { throw fail(at: infoStart, "sys_info has no little_endian flag") }
        guard littleEndian else {
            throw fail(.unsupported, at: infoStart, "big-endian legacy checkpoints are not supported")
        }

        let objectStart = info.end
        let object = try PickleMachine.parse(bytes, from: objectStart, style: .legacy, strict: strict)
        let keysStart = object.end
        let keyList = try PickleMachine.parse(bytes, from: keysStart, style: .legacy)
        guard case .list(let l) = keyList.arena[keyList.root] else {
            throw fail(at: keysStart, "storage key list is not a list")
        }
        var keys: [String] = []
        for node in keyList.arena.lists[l] {
            guard let k = keyList.arena.string(node) else { throw fail(at: keysStart, "storage key is not a string") }
            keys.append(k)
        }

        let storages = try TorchObject.storages(in: object.arena, format: format)
        var reader = ByteReader(bytes, format: format)
        try reader.seek(to: keyList.end)
        var records: [String: ByteSlice] = [:]
        for key in keys {
            let at = reader.offset
            guard let storage = storages[key] else {
                throw fail(at: at, "storage '\(displaySafe(key))' is listed but no tensor declares its type")
            }
            guard records[key] == nil else { throw fail(at: at, "storage '\(displaySafe(key))' is listed twice") }
            let count = try reader.i64("storage '\(displaySafe(key))' element count")
            guard count == Int64(storage.numel) else {
                throw fail(
                    at: at,
                    "storage '\(displaySafe(key))' holds \(count) elements but the pickle declares \(storage.numel)")
            }
            let start = reader.position
            try reader.skip(storage.byteCount, "storage '\(displaySafe(key))' data (\(storage.byteCount) bytes)")
            let record = ByteSlice(store: store, offset: start, count: storage.byteCount)
            // The raw section has no padding: a record at an offset that is not a multiple of 16 gets an aligned
            // heap copy, made when its bytes are first used, so every tensor handed out is aligned for its element
            // type and inspection (which reads no tensor data) copies nothing.
            records[key] = start % 16 == 0 ? record : ByteSlice(store: ByteStore.alignedCopy(of: record))
        }
        guard reader.isAtEnd else {
            throw fail(at: reader.offset, "\(reader.remaining) unexpected bytes after the last storage")
        }
        return TorchObject(
            arena: object.arena, root: object.root, records: records, format: format,
            inputBytes: store.count)
    }
}
