import CLibZip
import TResNetCore

/// A zip archive over bytes already in memory (a mapped file). This file is the only one that calls libzip
/// (the "funnel"): libzip validates the archive (`zip_open_from_source` with `ZIP_RDONLY | ZIP_CHECKCONS`) and
/// inflates deflated members; stored members are handed out as slices of the mapped bytes, never copied.
///
/// libzip has no public API for a member's local-header offset, so the central directory is also parsed here with
/// a bounded `ByteReader` (zip64 included); the two views must agree, and every local header must match its
/// central record (signature, name, method) — the classic parser-differential checks (docs/ROBUSTNESS.md A.3).
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
        try TResNetError.naming(path) {
            guard entry.index < entries.count, entries[entry.index] == entry else {
                throw TResNetError(
                    .usage, format: Self.format, at: .entry(entry.name), "entry is not from this archive")
            }
            if entry.isStored {
                return ByteSlice(store: store, offset: entry.dataOffset, count: entry.uncompressedSize)
            }
            let limit = min(
                Self.maxInflatedBytes, (Checked.multiply(entry.compressedSize, Self.maxDeflateRatio) ?? Int.max) + 1024)
            guard entry.uncompressedSize <= limit else {
                throw TResNetError(
                    .limitExceeded, format: Self.format, at: .entry(entry.name),
                    "deflated member claims \(entry.uncompressedSize) bytes from \(entry.compressedSize) (zip bomb?)")
            }
            return ByteSlice(store: try LibZip.inflate(store, entry))
        }
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

    /// Opens the store's bytes with libzip: a buffer source over the mapped bytes (no copy, libzip does not free
    /// them) opened read-only with consistency checks between central directory and local headers, EOCD and
    /// zip64 records.
    ///
    /// The corresponding C functions are `zip_source_buffer_create` and `zip_open_from_source`
    /// (`ZIP_RDONLY | ZIP_CHECKCONS`); `zip_discard` closes it.
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

    /// Opens with libzip and checks its entry list against ours: same count, names, sizes, methods, no encryption.
    ///
    /// The corresponding C functions are `zip_get_num_entries` and `zip_stat_index`.
    static func crossCheck(_ store: ByteStore, _ entries: [ZipEntry]) throws {
        let handle = try openHandle(store)
        let count = zip_get_num_entries(handle.archive, 0)
        guard count == Int64(entries.count) else {
            throw TResNetError(
                .malformed, format: ZipArchive.format,
                "libzip sees \(count) entries, the central directory \(entries.count)")
        }
        for e in entries {
            var st = zip_stat_t()
            zip_stat_init(&st)
            guard zip_stat_index(handle.archive, UInt64(e.index), 0, &st) == 0, let cName = st.name else {
                throw TResNetError(
                    .malformed, format: ZipArchive.format, at: .entry(e.name), "libzip cannot stat entry")
            }
            let name = String(cString: cName)
            guard name == e.name, st.size == UInt64(e.uncompressedSize), st.comp_size == UInt64(e.compressedSize),
                st.comp_method == Int32(e.method) || UInt16(truncatingIfNeeded: st.comp_method) == e.method,
                st.encryption_method == 0
            else {
                throw TResNetError(
                    .malformed, format: ZipArchive.format, at: .entry(e.name),
                    "libzip and the central directory disagree about this entry")
            }
        }
    }

    /// Inflates a deflated member into a new heap store of exactly the declared size; fewer or more bytes is an
    /// error.
    ///
    /// The corresponding C functions are `zip_fopen_index`, `zip_fread` and `zip_fclose`.
    static func inflate(_ store: ByteStore, _ entry: ZipEntry) throws -> ByteStore {
        let handle = try openHandle(store)
        guard let file = zip_fopen_index(handle.archive, UInt64(entry.index), 0) else {
            let text = String(cString: zip_strerror(handle.archive))
            throw TResNetError(
                .malformed, format: ZipArchive.format, at: .entry(entry.name), "libzip cannot open entry: \(text)")
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
