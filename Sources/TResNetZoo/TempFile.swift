#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TResNetCore

/// A download's process-unique temporary file beside its destination (`O_CREAT|O_EXCL|O_NOFOLLOW`, so a
/// planted file or symlink is never followed), truncatable for a restart, renamed into place when proven.
final class TempFile: @unchecked Sendable {
    let path: String
    private var fd: Int32

    init(directory: String, base: String) throws {
        var attempt = 0
        while true {
            let candidate = "\(directory)/.\(base).part-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let f = open(candidate, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if f >= 0 {
                fd = f
                path = candidate
                return
            }
            attempt += 1
            if errno != EEXIST || attempt > 16 {
                throw TResNetError.io(directory, "cannot create a temporary file: \(String(cString: strerror(errno)))")
            }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw TResNetError.io(path, "write failed: \(String(cString: strerror(errno)))")
            }
            p += n
            left -= n
        }
    }

    func truncate() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw TResNetError.io(path, "cannot truncate: \(String(cString: strerror(errno)))")
        }
    }

    /// fsyncs and renames over `destination`, then syncs the folder.
    func commit(to destination: String) throws {
        guard fsync(fd) == 0 else { throw TResNetError.io(path, "fsync failed: \(String(cString: strerror(errno)))") }
        close(fd)
        fd = -1
        guard rename(path, destination) == 0 else {
            throw TResNetError.io(destination, "cannot rename into place: \(String(cString: strerror(errno)))")
        }
        if let slash = destination.lastIndex(of: "/") {
            let dfd = open(String(destination[..<slash]), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        }
    }

    /// Closes and deletes the temporary file.
    func remove() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(path)
    }

    deinit { if fd >= 0 { close(fd) } }
}
