import CLibZip
import TResNetCore

/// One member of a zip archive, as the central directory describes it (cross-checked with libzip and with the
/// member's local header).
public struct ZipEntry: Sendable, Equatable {
    public var name: String
    public var uncompressedSize: Int
    public var compressedSize: Int
    /// 0 = stored, 8 = deflate (the only two accepted).
    public var method: UInt16
    public var crc32: UInt32
    /// Position in the central directory (libzip's index).
    public var index: Int
    /// Offset of the local file header in the file.
    public var localHeaderOffset: Int
    /// Offset of the first data byte in the file.
    public var dataOffset: Int

    public var isStored: Bool { method == 0 }
}

/// A zip archive over bytes already in memory (a mapped file). This file is the only one that calls libzip
/// (the "funnel"): libzip validates the archive (`zip_open_from_source` with `ZIP_RDONLY | ZIP_CHECKCONS`) and
/// inflates deflated members; stored members are handed out as slices of the mapped bytes, never copied.
///
/// libzip has no public API for a member's local-header offset, so the central directory is also parsed here with
/// a bounded `ByteReader` (zip64 included); the two views must agree, and every local header must match its
/// central record (signature, name, method) — the classic parser-differential checks (security.md A.3).
public struct ZipArchive: Sendable {
    public static let format = "zip"

    public let store: ByteStore
    public let path: String
    public let entries: [ZipEntry]
    private let byName: [String: Int]

    /// Upper bound on the bytes one deflated member may inflate to.
    public static let maxInflatedBytes = 1 << 34
    /// Deflate cannot expand by more than about 1032:1; a member claiming more is refused before allocating.
    static let maxDeflateRatio = 1032

    /// Opens the archive held in `store` (`path` only names the file in errors).
    public static func open(_ store: ByteStore, path: String) throws -> ZipArchive {
        try TResNetError.naming(path) {
            let parsed = try CentralDirectory.parse(store.bytes)
            try LibZip.crossCheck(store, parsed)
            var byName: [String: Int] = [:]
            for (i, e) in parsed.enumerated() { byName[e.name] = i }
            return ZipArchive(store: store, path: path, entries: parsed, byName: byName)
        }
    }

    /// The member named exactly `name`, if any.
    public func entry(named name: String) -> ZipEntry? { byName[name].map { entries[$0] } }

    /// The member's bytes: a slice of the mapped file for a stored member (no copy); for a deflated member a new
    /// heap store, inflated by libzip with the size enforced exactly.
    public func data(_ entry: ZipEntry) throws -> ByteSlice {
        try TResNetError.naming(path) { try slice(entry) }
    }

    private func slice(_ entry: ZipEntry) throws -> ByteSlice {
        guard entry.index < entries.count, entries[entry.index] == entry else {
            throw TResNetError(.usage, format: Self.format, at: .entry(entry.name), "entry is not from this archive")
        }
        if entry.isStored {
            return ByteSlice(store: store, offset: entry.dataOffset, count: entry.uncompressedSize)
        }
        let limit = min(Self.maxInflatedBytes, (Checked.multiply(entry.compressedSize, Self.maxDeflateRatio) ?? Int.max) + 1024)
        guard entry.uncompressedSize <= limit else {
            throw TResNetError(.limitExceeded, format: Self.format, at: .entry(entry.name),
                               "deflated member claims \(entry.uncompressedSize) bytes from \(entry.compressedSize) (zip bomb?)")
        }
        return ByteSlice(store: try LibZip.inflate(store, entry))
    }
}

// MARK: - Central directory (own parse, for local-header offsets)

enum CentralDirectory {
    static let eocdSignature: UInt32 = 0x0605_4b50
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    static let zip64EOCDSignature: UInt32 = 0x0606_4b50
    static let centralSignature: UInt32 = 0x0201_4b50
    static let localSignature: UInt32 = 0x0403_4b50

    static func fail(_ code: TResNetError.Code = .malformed, at offset: Int? = nil, entry: String? = nil,
                     _ message: String) -> TResNetError {
        let location: TResNetError.Location? = entry.map { .entry($0) } ?? offset.map { .offset($0) }
        return TResNetError(code, format: ZipArchive.format, at: location, message)
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> [ZipEntry] {
        let size = bytes.count
        guard size >= 22 else { throw fail(.truncated, at: 0, "truncated: \(size) bytes cannot hold an end record") }
        var r = ByteReader(bytes, format: ZipArchive.format)

        // End of central directory: the last signature whose comment runs exactly to the end of the file.
        var eocd = -1
        var p = size - 22
        let lowest = max(0, size - 22 - 65_535)
        while p >= lowest {
            if bytes[p] == 0x50, bytes[p + 1] == 0x4b, bytes[p + 2] == 0x05, bytes[p + 3] == 0x06 {
                let commentLength = Int(bytes[p + 20]) | Int(bytes[p + 21]) << 8
                if p + 22 + commentLength == size { eocd = p; break }
            }
            p -= 1
        }
        guard eocd >= 0 else { throw fail(.truncated, "no end-of-central-directory record (truncated or not a zip)") }
        try r.seek(to: eocd + 4)
        let disk = try r.u16(), cdDisk = try r.u16()
        let entriesOnDisk = try r.u16(), totalEntries16 = try r.u16()
        let cdSize32 = try r.u32(), cdOffset32 = try r.u32()
        var totalEntries = Int(totalEntries16)
        var cdSize = Int(cdSize32)
        var cdOffset = Int(cdOffset32)
        var cdLimit = eocd  // the central directory must end before this

        // Zip64 locator + record (torch always writes them).
        if eocd >= 20 {
            try r.seek(to: eocd - 20)
            if try r.u32() == zip64LocatorSignature {
                let locatorDisk = try r.u32()
                let recordOffset = try r.u64AsInt("zip64 end record offset")
                let disks = try r.u32()
                guard locatorDisk == 0, disks <= 1 else { throw fail(.unsupported, at: eocd - 20, "multi-disk archives are not supported") }
                guard recordOffset <= eocd - 20 - 56 else { throw fail(at: eocd - 20, "zip64 end record offset \(recordOffset) is out of range") }
                try r.seek(to: recordOffset)
                guard try r.u32() == zip64EOCDSignature else { throw fail(at: recordOffset, "zip64 end record signature missing") }
                let recordSize = try r.u64AsInt("zip64 end record size")
                guard recordSize >= 44, recordSize <= eocd - 20 - recordOffset - 12 else {
                    throw fail(at: recordOffset, "zip64 end record size \(recordSize) is inconsistent")
                }
                _ = try r.u16(); _ = try r.u16()
                let d64 = try r.u32(), cd64 = try r.u32()
                guard d64 == 0, cd64 == 0 else { throw fail(.unsupported, at: recordOffset, "multi-disk archives are not supported") }
                _ = try r.u64()
                let n64 = try r.u64AsInt("zip64 entry count")
                let size64 = try r.u64AsInt("zip64 central directory size")
                let offset64 = try r.u64AsInt("zip64 central directory offset")
                if totalEntries16 != 0xFFFF, Int(totalEntries16) != n64 || cdSize32 != 0xFFFF_FFFF && Int(cdSize32) != size64
                    || cdOffset32 != 0xFFFF_FFFF && Int(cdOffset32) != offset64 {
                    throw fail(at: eocd, "end record and zip64 end record disagree")
                }
                totalEntries = n64
                cdSize = size64
                cdOffset = offset64
                cdLimit = recordOffset
            } else {
                guard disk == 0, cdDisk == 0, entriesOnDisk == totalEntries16 else {
                    throw fail(.unsupported, at: eocd, "multi-disk archives are not supported")
                }
            }
        }
        guard let cdEnd = Checked.add(cdOffset, cdSize), cdEnd <= cdLimit else {
            throw fail(.truncated, at: eocd, "central directory [\(cdOffset), +\(cdSize)) runs past its end record (truncated?)")
        }
        guard totalEntries <= cdSize / 46 else {
            throw fail(at: eocd, "\(totalEntries) entries cannot fit in a \(cdSize)-byte central directory")
        }

        var entries: [ZipEntry] = []
        entries.reserveCapacity(totalEntries)
        var names = Set<String>()
        try r.seek(to: cdOffset)
        for index in 0..<totalEntries {
            let at = r.offset
            guard r.offset + 46 <= cdEnd, try r.u32() == centralSignature else {
                throw fail(at: at, "central directory entry \(index) has no signature")
            }
            _ = try r.u16(); _ = try r.u16()
            let flags = try r.u16()
            let method = try r.u16()
            _ = try r.u32()
            let crc = try r.u32()
            var compressed = Int(try r.u32())
            var uncompressed = Int(try r.u32())
            let nameLength = Int(try r.u16()), extraLength = Int(try r.u16()), commentLength = Int(try r.u16())
            let diskStart = try r.u16()
            _ = try r.u16(); _ = try r.u32()
            var localOffset = Int(try r.u32())
            guard r.offset + nameLength + extraLength + commentLength <= cdEnd else {
                throw fail(.truncated, at: at, "central directory entry \(index) runs past the directory")
            }
            let nameBytes = try r.bytes(nameLength, "entry name")
            guard let name = String(validating: nameBytes, as: UTF8.self), !name.isEmpty, !name.utf8.contains(0) else {
                throw fail(at: at, "entry \(index) has an empty, NUL-containing or non-UTF-8 name")
            }
            // zip64 extra: the fields that overflowed, in order
            var extra = ByteReader(try r.bytes(extraLength, "extra field"), baseOffset: r.offset - extraLength,
                                   format: ZipArchive.format)
            var sawZip64 = false
            while !extra.isAtEnd {
                let id = try extra.u16("extra field id"), length = Int(try extra.u16("extra field length"))
                var body = ByteReader(try extra.bytes(length, "extra field body"), baseOffset: extra.offset - length,
                                      format: ZipArchive.format)
                if id == 0x0001 {
                    sawZip64 = true
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try body.u64AsInt("zip64 uncompressed size") }
                    if compressed == 0xFFFF_FFFF { compressed = try body.u64AsInt("zip64 compressed size") }
                    if localOffset == 0xFFFF_FFFF { localOffset = try body.u64AsInt("zip64 local header offset") }
                }
            }
            if !sawZip64, uncompressed == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF {
                throw fail(at: at, entry: name, "zip64 sentinel without a zip64 extra field")
            }
            try r.skip(commentLength, "entry comment")
            guard diskStart == 0 || diskStart == 0xFFFF else { throw fail(.unsupported, entry: name, "multi-disk archives are not supported") }
            guard flags & 0x0001 == 0, flags & 0x0040 == 0 else { throw fail(.unsupported, entry: name, "encrypted entries are not supported") }
            guard method == 0 || method == 8 else {
                throw fail(.unsupported, entry: name, "compression method \(method) is not supported (only stored and deflate)")
            }
            guard method != 0 || compressed == uncompressed else {
                throw fail(entry: name, "stored entry has compressed size \(compressed) ≠ size \(uncompressed)")
            }
            guard names.insert(name).inserted else { throw fail(entry: name, "duplicate entry name") }

            // local header
            var local = ByteReader(bytes, format: ZipArchive.format)
            guard localOffset <= cdOffset else { throw fail(entry: name, "local header offset \(localOffset) is past the central directory") }
            try local.seek(to: localOffset)
            guard try local.u32("local header signature") == localSignature else {
                throw fail(at: localOffset, entry: name, "local header signature missing")
            }
            _ = try local.u16()
            _ = try local.u16()
            let localMethod = try local.u16()
            try local.skip(16, "local header")
            let localNameLength = Int(try local.u16()), localExtraLength = Int(try local.u16())
            let localName = try local.bytes(localNameLength, "local header name")
            guard localName.elementsEqual(nameBytes), localMethod == method else {
                throw fail(entry: name, "local header disagrees with the central directory (name or method)")
            }
            try local.skip(localExtraLength, "local header extra field")
            let dataOffset = local.offset
            guard let dataEnd = Checked.add(dataOffset, compressed), dataEnd <= cdOffset else {
                throw fail(.truncated, entry: name, "entry data runs past the central directory (truncated?)")
            }
            entries.append(ZipEntry(name: name, uncompressedSize: uncompressed, compressedSize: compressed,
                                    method: method, crc32: crc, index: index, localHeaderOffset: localOffset,
                                    dataOffset: dataOffset))
        }
        guard r.offset == cdEnd else { throw fail(at: r.offset, "central directory size does not match its entries") }

        // No two members may share bytes (overlap = zip bomb or parser confusion).
        let byOffset = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.dataOffset + a.compressedSize > b.localHeaderOffset {
            throw fail(entry: b.name, "entry overlaps '\(displaySafe(a.name))' (possible zip bomb)")
        }
        return entries
    }
}

// MARK: - libzip

/// The libzip calls, in one place.
enum LibZip {
    /// An open libzip archive over the store's bytes.
    private final class Handle {
        let archive: OpaquePointer
        init(_ archive: OpaquePointer) { self.archive = archive }
        deinit { zip_discard(archive) }  // read-only: discard never writes
    }

    private static func message(_ error: inout zip_error_t) -> String {
        String(cString: zip_error_strerror(&error))
    }

    /// `zip_source_buffer_create` over the mapped bytes (no copy, libzip does not free them) and
    /// `zip_open_from_source` with `ZIP_RDONLY | ZIP_CHECKCONS` (consistency checks between central directory and
    /// local headers, EOCD, zip64 records).
    private static func openHandle(_ store: ByteStore) throws -> Handle {
        var error = zip_error_t()
        zip_error_init(&error)
        defer { zip_error_fini(&error) }
        guard let source = zip_source_buffer_create(store.base, UInt64(store.count), 0, &error) else {
            throw TResNetError(.io, format: ZipArchive.format, "libzip cannot create a source: \(message(&error))")
        }
        guard let archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error) else {
            zip_source_free(source)
            throw TResNetError(.malformed, format: ZipArchive.format, "libzip refuses the archive: \(message(&error))")
        }
        return Handle(archive)
    }

    /// Opens with libzip and checks its entry list (`zip_get_num_entries`, `zip_stat_index`) against ours.
    static func crossCheck(_ store: ByteStore, _ entries: [ZipEntry]) throws {
        let handle = try openHandle(store)
        let count = zip_get_num_entries(handle.archive, 0)
        guard count == Int64(entries.count) else {
            throw TResNetError(.malformed, format: ZipArchive.format,
                               "libzip sees \(count) entries, the central directory \(entries.count)")
        }
        for e in entries {
            var st = zip_stat_t()
            zip_stat_init(&st)
            guard zip_stat_index(handle.archive, UInt64(e.index), 0, &st) == 0, let cName = st.name else {
                throw TResNetError(.malformed, format: ZipArchive.format, at: .entry(e.name), "libzip cannot stat entry")
            }
            let name = String(cString: cName)
            guard name == e.name, st.size == UInt64(e.uncompressedSize), st.comp_size == UInt64(e.compressedSize),
                  st.comp_method == Int32(e.method) || UInt16(truncatingIfNeeded: st.comp_method) == e.method,
                  st.encryption_method == 0 else {
                throw TResNetError(.malformed, format: ZipArchive.format, at: .entry(e.name),
                                   "libzip and the central directory disagree about this entry")
            }
        }
    }

    /// Inflates a deflated member with `zip_fopen_index` / `zip_fread` into a new heap store of exactly the
    /// declared size; fewer or more bytes is an error.
    static func inflate(_ store: ByteStore, _ entry: ZipEntry) throws -> ByteStore {
        let handle = try openHandle(store)
        guard let file = zip_fopen_index(handle.archive, UInt64(entry.index), 0) else {
            let text = String(cString: zip_strerror(handle.archive))
            throw TResNetError(.malformed, format: ZipArchive.format, at: .entry(entry.name), "libzip cannot open entry: \(text)")
        }
        defer { zip_fclose(file) }
        func failure(_ what: String) -> TResNetError {
            TResNetError(.malformed, format: ZipArchive.format, at: .entry(entry.name), what)
        }
        return try ByteStore.allocate(count: entry.uncompressedSize) { dst in
            var got = 0
            while got < entry.uncompressedSize {
                let n = zip_fread(file, dst.baseAddress! + got, UInt64(entry.uncompressedSize - got))
                if n < 0 { throw failure("inflate failed: \(String(cString: zip_file_strerror(file)))") }
                if n == 0 { throw failure("inflates to \(got) bytes, \(entry.uncompressedSize) declared") }
                got += Int(n)
            }
            var extra: UInt8 = 0
            let more = zip_fread(file, &extra, 1)
            if more != 0 { throw failure("inflates beyond its declared \(entry.uncompressedSize) bytes") }
        }
    }
}
