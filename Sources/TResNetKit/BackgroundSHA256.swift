import Dispatch
import TResNetCore

/// The SHA-256 of exactly the first `size` bytes of a file — the size it had when the conversion started —
/// computed on another thread from the moment this is created; `wait()` returns it. A file that ends before
/// `size` bytes or goes on past them changed while it was read: `wait()` throws `.truncated` naming it.
final class BackgroundSHA256: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<String, any Error> = .success("")
    private var waited = false
    private let lock = DispatchQueue(label: "tresnet-kit.sha256")

    /// Test hook: called on the hashing thread after each chunk with the bytes hashed so far (tests truncate the
    /// file at a chosen byte from here).
    nonisolated(unsafe) static var progressHook: (@Sendable (_ path: String, _ hashed: Int) -> Void)?

    init(path: String, size: Int) {
        let hook = Self.progressHook
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            result = Result { try Self.digest(path: path, size: size, hook: hook) }
            done.signal()
        }
    }

    static func digest(path: String, size: Int, hook: (@Sendable (String, Int) -> Void)?) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TResNetError.io(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var h = SHA256Hex.Stream()
        let chunk = 64 << 10
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk + 1, alignment: 64)
        defer { buffer.deallocate() }
        var hashed = 0
        while true {
            // one byte more than is left, to see a file that grew
            let n = read(fd, buffer.baseAddress, min(chunk, size - hashed) + (hashed + chunk >= size ? 1 : 0))
            if n < 0 {
                if errno == EINTR { continue }
                throw TResNetError.io(path, "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            let take = min(n, size - hashed)
            h.update(UnsafeRawBufferPointer(rebasing: buffer[0..<take]))
            hashed += take
            if n > take { break }  // more bytes than when the conversion started
            hook?(path, hashed)
        }
        var st = stat()
        let now = fstat(fd, &st) == 0 ? Int(st.st_size) : -1
        guard hashed == size, now == size else {
            throw TResNetError(
                .truncated,
                "the file changed while being hashed: it had \(size) bytes when the "
                    + "conversion started, \(now) now; nothing was written", file: path)
        }
        return h.finalize()
    }

    func wait() throws -> String {
        try lock.sync {
            if !waited {
                done.wait()
                waited = true
            }
            return try result.get()
        }
    }
}
