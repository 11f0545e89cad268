#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import TResNetCore
import TResNetZoo

/// Downloads zoo files into a cache folder and proves them (docs/ROBUSTNESS.md A.9).
///
/// - The body streams into a process-unique temporary file in `<cache>/<tag>/` (`O_CREAT|O_EXCL|O_NOFOLLOW`),
///   hashed with SHA-256 as it arrives; `Accept-Encoding: identity` is requested and any other encoding refused.
/// - A cut transfer is resumed with `Range` (and `If-Range` when the server gave a validator) — only a `206`
///   whose `Content-Range` starts exactly where the temp file ends is appended; a `200` restarts from zero.
/// - The size is checked exactly when known (catalog, pin, or the final response's `Content-Length`); a body
///   longer than that is cut at the first extra byte.
/// - The digest is checked against the catalog's published sha256, else against the cache's pin; with neither,
///   the first complete download is pinned (trust on first use) unless `requirePin` is set.
/// - Only then is the file renamed into `<cache>/<tag>/<file>`. Every failure removes the temp file; the final
///   path is never touched by a failed fetch.
/// - A cached file is re-verified (size and full sha256) before it is reused, online or offline.
public struct ZooFetcher: Sendable {
    /// How a fetched file was proven.
    public enum Verification: String, Sendable {
        /// Matched the sha256 published in the catalog.
        case catalog
        /// Matched the digest pinned in this cache by an earlier fetch.
        case pinned
        /// No digest was known: this download's digest is now pinned (trust on first use).
        case firstUse = "first-use"
    }

    public struct Result: Sendable {
        public var path: String
        public var sha256: String
        public var size: Int
        /// True when the cached copy was reused without a download.
        public var fromCache: Bool
        public var verification: Verification
    }

    /// Progress callback: bytes received so far, total when known.
    public typealias Progress = @Sendable (_ received: Int, _ total: Int?) -> Void

    public var cacheDirectory: String
    public var policy: DownloadPolicy = .standard
    /// Never touch the network; only verified cached files are returned.
    public var offline = false
    /// Refuse files without a published or pinned sha256 (all-or-nothing pinning, A.9 #116).
    public var requirePin = false
    /// Transfers attempted per fetch (the first plus resumes / restarts).
    public var maxAttempts = 5
    public var timeout: TimeInterval = 60
    public var progress: Progress?

    public init(cacheDirectory: String = ZooFetcher.defaultCacheDirectory) {
        self.cacheDirectory = cacheDirectory
    }

    /// `$TRESNET_KIT_CACHE`, else `$XDG_CACHE_HOME/tresnet-kit`, else `~/.cache/tresnet-kit`.
    public static var defaultCacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["TRESNET_KIT_CACHE"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/tresnet-kit" }
        return NSHomeDirectory() + "/.cache/tresnet-kit"
    }

    /// Where `file` of the entry `tag` lives in the cache.
    public func cachedPath(tag: String, file: String) throws -> String {
        try Self.checkComponents(tag: tag, file: file)
        return "\(cacheDirectory)/\(tag)/\(file)"
    }

    /// Fetches `fileName` (default: the entry's first live file) of `entry`.
    public func fetch(_ entry: ZooEntry, fileName: String? = nil) throws -> Result {
        try fetch(tag: entry.tag, file: entry.downloadFile(named: fileName))
    }

    /// Fetches `file` into `<cache>/<tag>/<file.name>`.
    public func fetch(tag: String, file: ZooFile) throws -> Result {
        try Self.checkComponents(tag: tag, file: file.name)
        let key = "\(tag)/\(file.name)"
        let dir = "\(cacheDirectory)/\(tag)"
        let destination = "\(dir)/\(file.name)"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw TResNetError.io(dir, "cannot create the cache folder: \(error.localizedDescription)")
        }
        let lock = try FileLock(path: "\(dir)/.\(file.name).lock")
        defer { lock.release() }
        AtomicFile.removeStaleTemporaries(directory: dir, base: file.name)

        let pins = PinStore(cacheDirectory: cacheDirectory)
        let pin = try pins.pin(for: key)
        if let published = file.sha256, let pin, pin.sha256 != published {
            throw TResNetError(.checksumMismatch, format: "zoo",
                               "the pins file records \(pin.sha256) for \(key) but the catalog publishes \(published)",
                               file: pins.path)
        }
        let expectedDigest = file.sha256 ?? pin?.sha256
        let expectedSize = file.size ?? pin?.size
        let verification: Verification = file.sha256 != nil ? .catalog : (pin != nil ? .pinned : .firstUse)

        // Reuse: presence proves nothing, so re-verify.
        if access(destination, F_OK) == 0 {
            let (digest, size) = try Self.digest(of: destination)
            try check(key: key, digest: digest, size: size, expectedDigest: expectedDigest,
                      expectedSize: expectedSize, prefix: file.sha256Prefix, path: destination,
                      hint: "the cached copy differs; remove \(destination) to download it again")
            if expectedDigest == nil {
                if requirePin { throw unpinned(key) }
                try pins.record(.init(sha256: digest, size: size, url: file.url, recordedAt: PinStore.now()), for: key)
            }
            return Result(path: destination, sha256: digest, size: size, fromCache: true, verification: verification)
        }
        if offline {
            throw TResNetError(.network, format: "zoo", "offline and \(key) is not in the cache \(cacheDirectory)")
        }
        if file.status == .dead {
            throw TResNetError(.network, format: "zoo",
                               "\(key): \(DownloadPolicy.safe(URL(string: file.url) ?? URL(fileURLWithPath: "/"))) "
                               + "is a dead link (HTTP 403; \(file.statusSource ?? "catalog"))")
        }
        if expectedDigest == nil && requirePin { throw unpinned(key) }
        guard let url = URL(string: file.url) else {
            throw TResNetError(.usage, format: "zoo", "\(key): invalid URL '\(displaySafe(file.url))'")
        }
        try policy.check(url)

        let temp = try AtomicFile(destination: destination, overwrite: true)
        do {
            let (digest, size, sizeKnown) = try download(url: url, into: temp, expectedSize: expectedSize)
            if expectedDigest == nil && !sizeKnown {
                // Nothing proves this body complete: a cut connection without Content-Length looks like the end.
                throw TResNetError(.network, format: "http",
                                   "\(key): the server sent no Content-Length and no digest or size is known, so the "
                                   + "download cannot be proven complete; nothing was cached or pinned")
            }
            try check(key: key, digest: digest, size: size, expectedDigest: expectedDigest,
                      expectedSize: expectedSize, prefix: file.sha256Prefix, path: url.absoluteString,
                      hint: "nothing was written to the cache")
            try temp.commit()
            if expectedDigest == nil {
                try pins.record(.init(sha256: digest, size: size, url: file.url, recordedAt: PinStore.now()), for: key)
            }
            return Result(path: destination, sha256: digest, size: size, fromCache: false, verification: verification)
        } catch {
            temp.abandon()
            throw error
        }
    }

    private func unpinned(_ key: String) -> TResNetError {
        TResNetError(.checksumMismatch, format: "zoo",
                     "\(key) has no published or pinned sha256 and pins are required (drop --require-pin to pin it "
                     + "on first use)")
    }

    private func check(key: String, digest: String, size: Int, expectedDigest: String?, expectedSize: Int?,
                       prefix: String?, path: String, hint: String) throws {
        if let expectedSize, size != expectedSize {
            throw TResNetError(.checksumMismatch, format: "zoo",
                               "size mismatch for \(key): expected \(expectedSize) bytes, got \(size); \(hint)",
                               file: path)
        }
        if let expectedDigest, digest != expectedDigest.lowercased() {
            throw TResNetError(.checksumMismatch, format: "zoo",
                               "checksum mismatch for \(key): expected \(expectedDigest), got \(digest); \(hint)",
                               file: path)
        }
        if let prefix, !digest.hasPrefix(prefix.lowercased()) {
            throw TResNetError(.checksumMismatch, format: "zoo",
                               "checksum mismatch for \(key): the file name's sha256 prefix is \(prefix), got \(digest); "
                               + hint, file: path)
        }
    }

    // MARK: Transfer

    private final class State: @unchecked Sendable {
        var hasher = SHA256Hex.Stream()
        var written = 0
        var total: Int?
        var validator: String?
        var restart = false
    }

    /// Returns the digest, the size, and whether the size was known (catalog, pin or Content-Length).
    private func download(url: URL, into temp: AtomicFile, expectedSize: Int?) throws -> (String, Int, Bool) {
        let state = State()
        state.total = expectedSize
        var lastError: Error?
        let display = DownloadPolicy.safe(url)
        for _ in 0..<max(1, maxAttempts) {
            if state.restart {
                try temp.truncate()
                state.hasher = SHA256Hex.Stream()
                state.written = 0
                state.restart = false
                if expectedSize == nil { state.total = nil }
            }
            var request = URLRequest(url: url)
            request.httpMethod = "GET"
            request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
            request.setValue("tresnet-kit", forHTTPHeaderField: "User-Agent")
            let resumeFrom = state.written
            if resumeFrom > 0 {
                request.setValue("bytes=\(resumeFrom)-", forHTTPHeaderField: "Range")
                if let v = state.validator { request.setValue(v, forHTTPHeaderField: "If-Range") }
            }
            let progress = self.progress
            let transfer = HTTPTransfer(
                request: request, policy: policy,
                onResponse: { response in
                    try Self.accept(response, state: state, resumeFrom: resumeFrom, temp: temp, display: display)
                },
                onChunk: { chunk in
                    if let total = state.total, state.written + chunk.count > total {
                        throw TResNetError(.checksumMismatch, format: "http",
                                           "\(display) sent more than the expected \(total) bytes")
                    }
                    try temp.write(chunk)
                    state.hasher.update(chunk)
                    state.written += chunk.count
                    progress?(state.written, state.total)
                })
            do {
                try transfer.run(timeout: timeout)
                if state.restart { continue }
                if let total = state.total, state.written != total {
                    lastError = TResNetError(.network, format: "http",
                                             "\(display) ended after \(state.written) of \(total) bytes")
                    continue
                }
                return (state.hasher.finalize(), state.written, state.total != nil)
            } catch let e as TResNetError {
                if e.code == .network, state.restart || (state.written > resumeFrom) { lastError = e; continue }
                throw e
            } catch {
                // Transport error (connection cut, timeout): resume from what we have.
                lastError = TResNetError(.network, format: "http", "\(display): transfer failed after "
                                         + "\(state.written) bytes (\(error.localizedDescription))")
            }
        }
        throw lastError ?? TResNetError(.network, format: "http", "\(display): download failed")
    }

    /// Decides what to do with a response: append (206 at the right offset), restart (200 after a partial),
    /// or refuse.
    private static func accept(_ r: HTTPURLResponse, state: State, resumeFrom: Int, temp: AtomicFile,
                               display: String) throws {
        let headers = Headers(r)
        if let enc = headers["content-encoding"], enc.lowercased() != "identity" {
            throw TResNetError(.network, format: "http", "\(display) answered with Content-Encoding '\(displaySafe(enc))'"
                               + " although identity was requested")
        }
        switch r.statusCode {
        case 200:
            if resumeFrom > 0 {
                // The server ignored the Range (or the validator changed): start again from zero.
                try temp.truncate()
                state.hasher = SHA256Hex.Stream()
                state.written = 0
            }
            if let length = headers["content-length"].flatMap({ Int($0) }) {
                if let total = state.total, total != length {
                    throw TResNetError(.checksumMismatch, format: "http",
                                       "\(display) announces \(length) bytes but \(total) are expected")
                }
                if state.total == nil { state.total = length }
            }
            state.validator = headers["etag"].flatMap { $0.hasPrefix("W/") ? nil : $0 } ?? headers["last-modified"]
        case 206:
            guard resumeFrom > 0, let range = headers["content-range"].flatMap(ContentRange.init),
                  range.start == resumeFrom, state.total.map({ range.total == nil || range.total == $0 }) ?? true
            else {
                // Not the continuation we asked for: discard and restart without a Range.
                state.restart = true
                throw TResNetError(.network, format: "http", "\(display): unusable partial response "
                                   + "(Content-Range '\(displaySafe(headers["content-range"] ?? "none"))'); restarting")
            }
            if state.total == nil, let t = range.total { state.total = t }
        default:
            let reason = HTTPURLResponse.localizedString(forStatusCode: r.statusCode)
            throw TResNetError(.network, format: "http", "HTTP \(r.statusCode) \(reason) for \(display)")
        }
    }

    // MARK: Helpers

    /// Cache path components come from the catalog, but are still checked: no `..`, no absolute paths, no
    /// separators in file names, only `[A-Za-z0-9._-]` (A.9 #110).
    static func checkComponents(tag: String, file: String) throws {
        func ok(_ s: Substring) -> Bool {
            !s.isEmpty && s != "." && s != ".." && !s.hasPrefix(".")
                && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII
                    || $0 == "." || $0 == "_" || $0 == "-" }
        }
        let parts = tag.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy(ok), ok(Substring(file)) else {
            throw TResNetError(.pathEscape, format: "zoo",
                               "unsafe cache name '\(displaySafe(tag))/\(displaySafe(file))'")
        }
    }

    /// Size and sha256 of a file on disk.
    static func digest(of path: String) throws -> (String, Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TResNetError.io(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = SHA256Hex.Stream()
        var size = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TResNetError.io(path, "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            size += n
        }
        return (hasher.finalize(), size)
    }
}

/// Case-insensitive response headers.
struct Headers {
    private var fields: [String: String] = [:]
    init(_ r: HTTPURLResponse) {
        for (k, v) in r.allHeaderFields {
            if let k = k as? String, let v = v as? String { fields[k.lowercased()] = v }
        }
    }
    subscript(_ name: String) -> String? { fields[name] }
}

/// `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`).
struct ContentRange {
    let start: Int
    let end: Int
    let total: Int?

    init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("bytes ") else { return nil }
        let rest = t.dropFirst(6)
        let slash = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard slash.count == 2 else { return nil }
        let se = slash[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard se.count == 2, let s = Int(se[0]), let e = Int(se[1]), s >= 0, e >= s else { return nil }
        start = s
        end = e
        if slash[1] == "*" { total = nil } else {
            guard let n = Int(slash[1]), n > e else { return nil }
            total = n
        }
    }
}
