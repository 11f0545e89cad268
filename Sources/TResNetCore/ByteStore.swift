/// An immutable run of bytes that outlives every view into it: a read-only memory map of a file, or a heap
/// allocation. Tensors borrow slices of a store without copying.
///
/// A mapped file that another process truncates while it is mapped would raise SIGBUS on a read past its new end;
/// `MappingGuard` turns that into a page of zeros and a counted fault, which the readers' callers check
/// (`FileIdentity.checkUnchanged`) before trusting what they read.
public final class ByteStore: @unchecked Sendable {
    /// The first byte. For a lazily aligned copy (`alignedCopy(of:)`), the copy is made on first use.
    public var base: UnsafeRawPointer? {
        guard let pending else { return eagerBase }
        return lazy!.withLock {
            if lazyBase == nil {
                let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
                if let src = pending.bytes.baseAddress, count > 0 { raw.copyMemory(from: src, byteCount: count) }
                lazyBase = raw
            }
            return UnsafeRawPointer(lazyBase)
        }
    }
    public let count: Int
    private let eagerBase: UnsafeRawPointer?
    /// For a lazily aligned copy: the bytes to copy, the lock and the copy once made.
    private let pending: ByteSlice?
    private let lazy: PthreadLock?
    private var lazyBase: UnsafeMutableRawPointer?
    /// For a map of a file: the file's path and a descriptor kept open while the store lives.
    private let file: (path: String, descriptor: Int32)?
    private let release: @Sendable (UnsafeMutableRawPointer?, Int) -> Void

    private init(
        base: UnsafeRawPointer?, count: Int, file: (path: String, descriptor: Int32)? = nil,
        pending: ByteSlice? = nil,
        release: @escaping @Sendable (UnsafeMutableRawPointer?, Int) -> Void
    ) {
        self.eagerBase = base
        self.count = count
        self.file = file
        self.pending = pending
        self.lazy = pending == nil ? nil : PthreadLock()
        self.release = release
    }

    deinit {
        release(UnsafeMutableRawPointer(mutating: eagerBase), count)
        lazyBase?.deallocate()
        if let file { close(file.descriptor) }
    }

    /// False for a lazily aligned copy whose bytes nobody has used yet; true for every other store.
    public var isMaterialized: Bool { pending == nil || lazy!.withLock { lazyBase != nil } }

    /// A 64-byte-aligned copy of `slice`, made only when its bytes are first used (a reader can hand out aligned
    /// tensors over unaligned records without copying the ones nobody reads: inspection copies nothing).
    public static func alignedCopy(of slice: ByteSlice) -> ByteStore {
        ByteStore(base: nil, count: slice.count, pending: slice) { _, _ in }
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Whether this store maps a file (its bytes can also be read from the file with `copy(_:into:)`).
    public var isFileMapping: Bool { file != nil }

    /// Copies the bytes of `range` into `destination`. For a file mapping they are read from the file itself
    /// (`pread`, straight from the page cache), not through the mapping: that costs no page faults in this
    /// process and does not grow its resident set by what it reads. Throws `.io` naming the file when the file
    /// cannot be read (for example, it shrank since it was mapped).
    public func copy(_ range: Range<Int>, into destination: UnsafeMutableRawPointer) throws {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "copy outside the store")
        guard let file else {
            if let base, !range.isEmpty {
                destination.copyMemory(from: base + range.lowerBound, byteCount: range.count)
            }
            return
        }
        var done = 0
        while done < range.count {
            let n = pread(file.descriptor, destination + done, range.count - done, off_t(range.lowerBound + done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                if n < 0 { throw TResNetError.io(file.path, "read failed: \(errnoText())") }
                // the file is shorter than when it was opened: say how long it is now, not where the read was
                var st = stat()
                let now = fstat(file.descriptor, &st) == 0 ? "\(st.st_size) bytes" : "shorter"
                throw TResNetError(
                    .truncated,
                    "the file is now \(now), \(count) when it was opened: it changed "
                        + "while being read (bytes [\(range.lowerBound), \(range.upperBound)))", file: file.path)
            }
            done += n
        }
    }

    /// Copies `bytes` into a new 64-byte-aligned heap store.
    public static func copying(_ bytes: UnsafeRawBufferPointer) -> ByteStore {
        allocate(count: bytes.count) { dst in
            if let src = bytes.baseAddress, bytes.count > 0 {
                dst.baseAddress!.copyMemory(from: src, byteCount: bytes.count)
            }
        }
    }

    public static func copying(_ array: [UInt8]) -> ByteStore {
        array.withUnsafeBytes { copying($0) }
    }

    /// A new zero-filled, 64-byte-aligned heap store, filled by `fill`.
    public static func allocate(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> ByteStore
    {
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
        var keep = false
        defer { if !keep { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TResNetError.io(path, "cannot stat: \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw TResNetError.io(path, "not a regular file") }
        let size = Int(st.st_size)
        if size == 0 { return ByteStore(base: nil, count: 0) { _, _ in } }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw TResNetError.io(path, "cannot map \(size) bytes: \(errnoText())")
        }
        keep = true
        let slot = MappingGuard.register(
            UnsafeRawPointer(p), count: size, device: UInt64(st.st_dev),
            inode: UInt64(st.st_ino))  // a page past a new end reads as zeros
        return ByteStore(base: UnsafeRawPointer(p), count: size, file: (path, fd)) { p, n in
            if let slot { MappingGuard.unregister(slot) }
            if let p { munmap(p, n) }
        }
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
