#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An immutable run of bytes that outlives every view into it: a read-only memory map of a file, or a heap
/// allocation. Tensors borrow slices of a store without copying.
///
/// A mapped file that another process truncates while it is mapped can raise SIGBUS; like safetensors we
/// document that as out of scope (security.md A.0 #14).
public final class ByteStore: @unchecked Sendable {
    public let base: UnsafeRawPointer?
    public let count: Int
    /// A read-only map of a file (pages can be dropped and re-read), not a heap allocation.
    private let fileMapping: Bool
    private let release: @Sendable (UnsafeMutableRawPointer?, Int) -> Void

    private init(base: UnsafeRawPointer?, count: Int, fileMapping: Bool = false,
                 release: @escaping @Sendable (UnsafeMutableRawPointer?, Int) -> Void) {
        self.base = base
        self.count = count
        self.fileMapping = fileMapping
        self.release = release
    }

    deinit { release(UnsafeMutableRawPointer(mutating: base), count) }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Asks the kernel to map the pages of `range` (all of the store by default) now, in one call, instead of
    /// one page fault at a time as they are first read (`madvise(MADV_POPULATE_READ)`, Linux 5.14+;
    /// `MADV_WILLNEED` elsewhere). For a caller about to read those bytes. Advisory: failures are ignored.
    public func prefault(_ range: Range<Int>? = nil) {
        #if os(Linux)
        if advise(range, 22 /* MADV_POPULATE_READ */) { return }
        #endif
        _ = advise(range, Int32(MADV_WILLNEED))
    }

    /// For a read-only file mapping: drops this process's mapping of the pages of `range` after the caller is
    /// done with them (`madvise(MADV_DONTNEED)`), so reading a whole file once does not grow the resident set by
    /// the file's size. The bytes stay valid: a later read maps them again from the page cache. A no-op for
    /// heap stores (where it would discard the contents).
    public func evict(_ range: Range<Int>) {
        guard fileMapping else { return }
        _ = advise(range, Int32(MADV_DONTNEED))
    }

    /// madvise over the pages covering `range` (clamped to the store). Returns whether the call succeeded.
    private func advise(_ range: Range<Int>?, _ advice: Int32) -> Bool {
        let r = (range ?? 0..<count).clamped(to: 0..<count)
        guard let base, !r.isEmpty else { return true }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: base) + r.lowerBound) & ~(page - 1)
        let end = Int(bitPattern: base) + r.upperBound
        guard let p = UnsafeMutableRawPointer(bitPattern: first) else { return false }
        return madvise(p, end - first, advice) == 0
    }

    /// Copies `bytes` into a new 64-byte-aligned heap store.
    public static func copying(_ bytes: UnsafeRawBufferPointer) -> ByteStore {
        let store = allocate(count: bytes.count) { dst in
            if let src = bytes.baseAddress, bytes.count > 0 { dst.baseAddress!.copyMemory(from: src, byteCount: bytes.count) }
        }
        return store
    }

    public static func copying(_ array: [UInt8]) -> ByteStore {
        array.withUnsafeBytes { copying($0) }
    }

    /// A new zero-filled, 64-byte-aligned heap store, filled by `fill`.
    public static func allocate(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> ByteStore {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
        let store = ByteStore(base: UnsafeRawPointer(raw), count: count) { p, _ in p?.deallocate() }
        try fill(UnsafeMutableRawBufferPointer(start: raw, count: count))
        return store
    }

    /// Maps `path` read-only. Throws `TResNetError` (`.io`) naming the file on failure.
    public static func map(path: String) throws -> ByteStore {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TResNetError.io(path, "cannot open: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TResNetError.io(path, "cannot stat: \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw TResNetError.io(path, "not a regular file") }
        let size = Int(st.st_size)
        if size == 0 { return ByteStore(base: nil, count: 0) { _, _ in } }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw TResNetError.io(path, "cannot map \(size) bytes: \(errnoText())")
        }
        return ByteStore(base: UnsafeRawPointer(p), count: size, fileMapping: true) { p, n in if let p { munmap(p, n) } }
    }
}

/// A slice of a `ByteStore`. Keeps the store alive.
public struct ByteSlice: Sendable {
    public let store: ByteStore
    public let offset: Int
    public let count: Int

    public init(store: ByteStore, offset: Int = 0, count: Int? = nil) {
        precondition(offset >= 0 && offset <= store.count, "slice offset outside store")
        let n = count ?? (store.count - offset)
        precondition(n >= 0 && n <= store.count - offset, "slice length outside store")
        self.store = store
        self.offset = offset
        self.count = n
    }

    public var bytes: UnsafeRawBufferPointer {
        guard let base = store.base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: count)
    }

    /// A sub-slice; `range` is relative to this slice and must lie inside it (callers validate first).
    public func slice(_ range: Range<Int>) -> ByteSlice {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "sub-slice outside slice")
        return ByteSlice(store: store, offset: offset + range.lowerBound, count: range.count)
    }

    public func toArray() -> [UInt8] { Array(bytes) }
}

func errnoText() -> String { String(cString: strerror(errno)) }
