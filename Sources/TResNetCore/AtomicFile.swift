/// Writes a file atomically: bytes go to a uniquely named temporary file in the destination's folder
/// (created with `O_EXCL`, so a planted symlink is never followed), are fsynced, and only then renamed over
/// the destination. On any failure — or if the process dies — nothing appears at the destination and an
/// existing file there is left alone.
public final class AtomicFile {
    public let destination: String
    public let temporaryPath: String
    private var fd: Int32
    private var committed = false
    public private(set) var bytesWritten = 0

    /// - Parameter overwrite: replace an existing destination (`--force`); otherwise an existing file is an
    ///   `.outputExists` error, checked before any byte is written and again at the rename.
    public init(destination: String, overwrite: Bool) throws {
        self.destination = destination
        if !overwrite, access(destination, F_OK) == 0 {
            throw TResNetError(.outputExists, "\(destination) exists (use --force to replace it)")
        }
        let dir = AtomicFile.directory(of: destination)
        let base = AtomicFile.basename(of: destination)
        AtomicFile.removeStaleTemporaries(directory: dir)
        var attempt = 0
        while true {
            let candidate = "\(dir)/.\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let f = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if f >= 0 {
                fd = f
                temporaryPath = candidate
                interruptSlot = Interrupts.register(temporary: candidate, destination: destination)
                break
            }
            attempt += 1
            if errno != EEXIST || attempt > 16 {
                throw TResNetError.io(destination, "cannot create a temporary file in \(dir): \(errnoText())")
            }
        }
        self.overwrite = overwrite
    }

    private let overwrite: Bool
    /// The temporary's entry in the SIGINT/SIGTERM clean-up table (`Interrupts`), until committed or abandoned.
    private var interruptSlot: Int?

    private func forgetOnInterrupt() {
        if let slot = interruptSlot { Interrupts.unregister(slot) }
        interruptSlot = nil
    }

    deinit { if !committed { abandon() } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = SystemCall.write(fd, p, min(left, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw TResNetError.io(destination, "write failed: \(errnoText())")
            }
            p += n
            left -= n
            bytesWritten += n
        }
        startWriteback()
        if let pause = AtomicFile.testPauseAfterBytes, !pausedForTest, bytesWritten >= pause {
            pausedForTest = true
            sleep(60)
        }
    }

    private var pausedForTest = false

    /// Bytes already handed to the kernel for write-back (`startWriteback`).
    private var writebackStarted = 0

    /// Every 8 MiB, asks the kernel to start writing the new bytes to disk now (`sync_file_range` with
    /// `SYNC_FILE_RANGE_WRITE`: initiate, do not wait), so the fsync in `commit()` finds most of a large file
    /// already on disk instead of flushing it all at the end. Linux only; a no-op elsewhere.
    private func startWriteback() {
        #if os(Linux)
        guard let start = AtomicFile.syncFileRange, bytesWritten - writebackStarted >= 8 << 20 else { return }
        _ = start(fd, Int64(writebackStarted), Int64(bytesWritten - writebackStarted), 2 /* SYNC_FILE_RANGE_WRITE */)
        writebackStarted = bytesWritten
        #endif
    }

    #if os(Linux)
    /// glibc's `sync_file_range` (Swift's Glibc module does not import it: it is behind `_GNU_SOURCE`).
    private static let syncFileRange = Platform.symbol(
        "sync_file_range", as: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    #endif

    /// Makes what was written so far durable (`fdatasync`) without committing. A writer that still waits for
    /// something (the `.tw` writer for the source's SHA-256) calls it meanwhile; the sync in `commit()` then
    /// has only the bytes written after it left to flush.
    public func flushData() throws {
        guard fdatasync(fd) == 0 else { throw TResNetError.io(destination, "fsync failed: \(errnoText())") }
    }

    /// Test hook, off unless the environment sets it: `TRESNET_TEST_PAUSE_AFTER_BYTES=N` makes a writer sleep for
    /// a minute once it has written N bytes, so a test can kill a conversion midway (docs/ROBUSTNESS.md).
    static let testPauseAfterBytes: Int? = getenv("TRESNET_TEST_PAUSE_AFTER_BYTES").flatMap { Int(String(cString: $0)) }

    /// Removes `.<name>.tmp-<pid>-<n>` files in `directory` left by processes that no longer exist (killed while
    /// writing `name`): those of `base` only, or with `base` nil every one of ours in the folder. A temporary of
    /// a live process — or of a pid now reused — is left alone.
    public static func removeStaleTemporaries(directory: String, base: String? = nil) {
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        let nameOffset = MemoryLayout<dirent>.offset(of: \.d_name)!
        while let entry = readdir(dir) {
            // The name read in place: a record is only as long as its name (`d_reclen`), so copying the whole
            // 256-byte `d_name` could read past the end of readdir's buffer.
            let name = String(
                cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            guard let pid = stalePid(name, base: base) else { continue }
            if kill(pid, 0) != 0, errno == ESRCH { unlink(directory + "/" + name) }
        }
    }

    /// The pid in a temporary's name `.<name>.tmp-<pid>-<n>` (for `base`, when given); nil for other names.
    static func stalePid(_ name: String, base: String?) -> Int32? {
        let bytes = Array(name.utf8), marker = Array(".tmp-".utf8)
        guard bytes.first == UInt8(ascii: "."), bytes.count > 1 + marker.count else { return nil }
        guard
            let at = stride(from: bytes.count - marker.count, through: 1, by: -1)
                .first(where: { Array(bytes[$0..<($0 + marker.count)]) == marker }), at > 1
        else { return nil }
        if let base, Array(bytes[1..<at]) != Array(base.utf8) { return nil }
        let rest = String(decoding: bytes[(at + marker.count)...], as: UTF8.self)
            .split(separator: "-", omittingEmptySubsequences: false)
        guard rest.count == 2, let pid = Int32(rest[0]), pid > 0, UInt32(rest[1]) != nil else { return nil }
        return pid
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Discards everything written so far (a download restarting from byte 0).
    public func truncate() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw TResNetError.io(temporaryPath, "cannot truncate: \(errnoText())")
        }
        bytesWritten = 0
    }

    /// Overwrites `bytes` at `offset` of what was already written (`pwrite`; the sequential position is unchanged).
    public func write(_ bytes: [UInt8], at offset: Int) throws {
        guard offset >= 0, offset + bytes.count <= bytesWritten else {
            throw TResNetError.io(destination, "patch at \(offset) outside the \(bytesWritten) bytes written")
        }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes {
                pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw TResNetError.io(destination, "write failed: \(errnoText())")
            }
            done += n
        }
    }

    /// Writes `count` zero bytes (alignment padding).
    public func writeZeros(_ count: Int) throws {
        guard count > 0 else { return }
        try [UInt8](repeating: 0, count: count).withUnsafeBytes { try write($0) }
    }

    /// fsyncs and renames into place.
    public func commit() throws {
        defer { forgetOnInterrupt() }
        guard fsync(fd) == 0 else { throw TResNetError.io(destination, "fsync failed: \(errnoText())") }
        close(fd)
        fd = -1
        if !overwrite, access(destination, F_OK) == 0 {
            unlink(temporaryPath)
            committed = true
            throw TResNetError(.outputExists, "\(destination) appeared while writing (use --force to replace it)")
        }
        guard rename(temporaryPath, destination) == 0 else {
            let text = errnoText()
            unlink(temporaryPath)
            committed = true
            throw TResNetError.io(destination, "cannot rename into place: \(text)")
        }
        committed = true
        // Persist the rename itself.
        let dfd = open(AtomicFile.directory(of: destination), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Creates the temporary for `destination`, lets `body` write it, then commits; when `body` or the commit
    /// throws, the temporary is abandoned (nothing appears at `destination`) and the error rethrown.
    @discardableResult
    public static func writing<Result>(
        to destination: String, overwrite: Bool, _ body: (AtomicFile) throws -> Result
    ) throws -> Result {
        let file = try AtomicFile(destination: destination, overwrite: overwrite)
        do {
            let result = try body(file)
            try file.commit()
            return result
        } catch {
            file.abandon()
            throw error
        }
    }

    /// Removes the temporary file; the destination is untouched.
    public func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
        forgetOnInterrupt()
        committed = true
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    static func basename(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

/// Convenience: writes `bytes` to `path` atomically.
public func writeFileAtomically(
    _ path: String, _ bytes: [UInt8], overwrite: Bool = true,
    beforeCommit: () throws -> Void = {}
) throws {
    try AtomicFile.writing(to: path, overwrite: overwrite) { file in
        try file.write(bytes)
        try beforeCommit()
    }
}
