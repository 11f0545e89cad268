#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import TResNetCore
import TResNetZoo

/// Downloads zoo files into the Hugging Face hub cache layout (`HubCache`) and proves them (docs/ROBUSTNESS.md A.9).
///
/// - The body streams into a process-unique temporary file in `<repo>/blobs/` (`O_CREAT|O_EXCL|O_NOFOLLOW`),
///   hashed with SHA-256 as it arrives; `Accept-Encoding: identity` is requested and any other encoding refused.
/// - A cut transfer is resumed with `Range` (and `If-Range` when the server gave a validator) — only a `206`
///   whose `Content-Range` starts exactly where the temp file ends is appended; a `200` restarts from zero.
/// - The size is checked exactly when known (catalog, pin, or the final response's `Content-Length`); a body
///   longer than that is cut at the first extra byte.
/// - The digest is checked against the catalog's published sha256, else against the cache's pin; with neither,
///   the first complete download is pinned (trust on first use) unless `requirePin` is set.
/// - Only then does the file become `blobs/<sha256>`, linked from `snapshots/<revision>/<file>` (the revision is
///   the commit the server names in `X-Repo-Commit`, recorded in `refs/main`; else the revision asked for).
/// - Every failure removes the temporary file, the lock and every folder this fetch created: a failed fetch
///   leaves nothing behind.
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
        /// `snapshots/<revision>/<file>` (a symlink to the blob).
        public var path: String
        public var sha256: String
        public var size: Int
        /// True when the cached copy was reused without a download.
        public var fromCache: Bool
        public var verification: Verification
        /// The snapshot folder's name: the commit when the server named one, else the revision asked for.
        public var revision: String
    }

    /// Progress callback: bytes received so far, total when known.
    public typealias Progress = @Sendable (_ received: Int, _ total: Int?) -> Void

    /// The hub cache root (`HubCache.defaultRoot`: `$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`).
    public var cacheDirectory: String
    public var policy: DownloadPolicy = .standard
    /// Never touch the network; only verified cached files are returned. Defaults to `$HF_HUB_OFFLINE`.
    public var offline = HubCache.offline()
    /// Refuse files without a published or pinned sha256 (all-or-nothing pinning, A.9 #116).
    public var requirePin = false
    /// Transfers attempted per fetch (the first plus resumes / restarts).
    public var maxAttempts = 5
    public var timeout: TimeInterval = 60
    public var progress: Progress?

    public init(cacheDirectory: String = ZooFetcher.defaultCacheDirectory) {
        self.cacheDirectory = cacheDirectory
    }

    /// The hub cache root (`HubCache.defaultRoot`).
    public static var defaultCacheDirectory: String { HubCache.defaultRoot }

    var layout: HubCache { HubCache(root: cacheDirectory) }

    /// Fetches `fileName` (default: the entry's first live file) of `entry` from its hub repository.
    public func fetch(_ entry: ZooEntry, fileName: String? = nil) throws -> Result {
        try fetch(repository: HubCache.repository(of: entry), file: entry.downloadFile(named: fileName))
    }

    /// Fetches `file` (from `file.url`) into `snapshots/<revision>/<file.name>` of `repository`.
    public func fetch(repository: String, file: ZooFile, revision: String = "main") throws -> Result {
        try Self.checkComponents(repository: repository, file: file.name)
        let key = "\(repository)/\(file.name)"
        let pins = PinStore(cacheDirectory: cacheDirectory)
        let pin = try pins.pin(for: key)
        if let published = file.sha256, let pin, pin.sha256 != published {
            throw TResNetError(
                .checksumMismatch, format: "zoo",
                "the pins file records \(pin.sha256) for \(key) but the catalog publishes \(published)",
                file: pins.path)
        }
        let expectedDigest = file.sha256?.lowercased() ?? pin?.sha256
        let expectedSize = file.size ?? pin?.size
        let verification: Verification = file.sha256 != nil ? .catalog : (pin != nil ? .pinned : .firstUse)

        // Reuse: presence proves nothing, so re-verify.
        func reuse() throws -> Result? {
            guard let cached = layout.cachedFile(repository: repository, file: file.name, revision: revision) else {
                return nil
            }
            let (digest, size) = try Self.digest(of: cached)
            try check(
                key: key, digest: digest, size: size, expectedDigest: expectedDigest,
                expectedSize: expectedSize, prefix: file.sha256Prefix, path: cached,
                hint: "the cached copy differs; remove \(cached) to download it again")
            if expectedDigest == nil {
                if requirePin { throw unpinned(key) }
                try pins.record(.init(sha256: digest, size: size, url: file.url, recordedAt: PinStore.now()), for: key)
            }
            return Result(
                path: cached, sha256: digest, size: size, fromCache: true, verification: verification,
                revision: layout.resolvedRevision(repository: repository, revision: revision))
        }
        if let cached = try reuse() { return cached }
        // Everything that can be refused without the network is refused before any folder is created.
        if offline {
            throw TResNetError(.network, format: "zoo", "offline and \(key) is not in the cache \(cacheDirectory)")
        }
        if file.status == .dead {
            throw TResNetError(
                .network, format: "zoo",
                "\(key): \(DownloadPolicy.safe(URL(string: file.url) ?? URL(fileURLWithPath: "/"))) "
                    + "is a dead link (HTTP 403; \(file.statusSource ?? "catalog"))")
        }
        if expectedDigest == nil && requirePin { throw unpinned(key) }
        guard let url = URL(string: file.url) else {
            throw TResNetError(.usage, format: "zoo", "\(key): invalid URL '\(displaySafe(file.url))'")
        }
        try policy.check(url)

        let repoFolder = layout.repositoryFolder(repository)
        let blobs = repoFolder + "/blobs"
        var trail = FolderTrail()
        do {
            try trail.create(cacheDirectory)
            try trail.create(repoFolder)
            try trail.create(blobs)
            let lock = try FileLock(path: "\(blobs)/.\(file.name).lock")
            defer { lock.release() }
            // Another process may have fetched it while this one waited for the lock.
            if let cached = try reuse() {
                trail.keep()
                return cached
            }
            AtomicFile.removeStaleTemporaries(directory: blobs)
            let temp = try AtomicFile(
                destination: "\(blobs)/\(expectedDigest ?? file.name + ".unverified")",
                overwrite: true)
            do {
                let (digest, size, sizeKnown, commit) = try download(url: url, into: temp, expectedSize: expectedSize)
                if expectedDigest == nil && !sizeKnown {
                    // Nothing proves this body complete: a cut connection without Content-Length looks like the end.
                    throw TResNetError(
                        .network, format: "http",
                        "\(key): the server sent no Content-Length and no digest or size is known, so "
                            + "the download cannot be proven complete; nothing was cached or pinned")
                }
                try check(
                    key: key, digest: digest, size: size, expectedDigest: expectedDigest,
                    expectedSize: expectedSize, prefix: file.sha256Prefix, path: url.absoluteString,
                    hint: "nothing was written to the cache")
                try temp.commit()
                let blob = "\(blobs)/\(digest)"
                if temp.destination != blob, rename(temp.destination, blob) != 0 {
                    let text = String(cString: strerror(errno))
                    unlink(temp.destination)
                    throw TResNetError.io(blob, "cannot rename the verified download into place: \(text)")
                }
                let folderName = commit ?? revision
                let snapshot = "\(repoFolder)/snapshots/\(folderName)"
                try trail.create(repoFolder + "/snapshots")
                try trail.create(snapshot)
                try Self.link("../../blobs/\(digest)", at: "\(snapshot)/\(file.name)")
                if let commit {
                    try trail.create(repoFolder + "/refs")
                    try writeFileAtomically("\(repoFolder)/refs/\(revision)", Array(commit.utf8))
                }
                if expectedDigest == nil {
                    try pins.record(
                        .init(sha256: digest, size: size, url: file.url, recordedAt: PinStore.now()), for: key)
                }
                trail.keep()
                return Result(
                    path: "\(snapshot)/\(file.name)", sha256: digest, size: size, fromCache: false,
                    verification: verification, revision: folderName)
            } catch {
                temp.abandon()
                throw error
            }
        } catch {
            trail.removeEmpty()
            throw error
        }
    }

    /// Creates (or replaces) the symlink `path` → `target` atomically (a temporary link renamed over it).
    static func link(_ target: String, at path: String) throws {
        let temp = "\(path).link-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard symlink(target, temp) == 0 else {
            throw TResNetError.io(path, "cannot create a symlink: \(String(cString: strerror(errno)))")
        }
        guard rename(temp, path) == 0 else {
            let text = String(cString: strerror(errno))
            unlink(temp)
            throw TResNetError.io(path, "cannot link the snapshot file: \(text)")
        }
    }

    private func unpinned(_ key: String) -> TResNetError {
        TResNetError(
            .checksumMismatch, format: "zoo",
            "\(key) has no published or pinned sha256 and pins are required (drop --require-pin to pin it "
                + "on first use)")
    }

    private func check(
        key: String, digest: String, size: Int, expectedDigest: String?, expectedSize: Int?,
        prefix: String?, path: String, hint: String
    ) throws {
        func mismatch(_ what: String) -> TResNetError {
            TResNetError(.checksumMismatch, format: "zoo", "\(what); \(hint)", file: path)
        }
        if let expectedSize, size != expectedSize {
            throw mismatch("size mismatch for \(key): expected \(expectedSize) bytes, got \(size)")
        }
        if let expectedDigest, digest != expectedDigest.lowercased() {
            throw mismatch("checksum mismatch for \(key): expected \(expectedDigest), got \(digest)")
        }
        if let prefix, !digest.hasPrefix(prefix.lowercased()) {
            throw mismatch("checksum mismatch for \(key): the file name's sha256 prefix is \(prefix), got \(digest)")
        }
    }

    // MARK: Transfer

    private final class State: @unchecked Sendable {
        var hasher = SHA256Hex.Stream()
        var written = 0
        var total: Int?
        var validator: String?
        var restart = false
        /// The commit the hub named (`X-Repo-Commit`, on the response or on a redirect before it).
        var commit: String?
    }

    /// Returns the digest, the size, whether the size was known (catalog, pin or Content-Length), and the commit
    /// the server named.
    private func download(url: URL, into temp: AtomicFile, expectedSize: Int?) throws -> (String, Int, Bool, String?) {
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
                onRedirect: { response in Self.noteCommit(Headers(response), state: state) },
                onResponse: { response in
                    try Self.accept(response, state: state, resumeFrom: resumeFrom, temp: temp, display: display)
                },
                onChunk: { chunk in
                    if let total = state.total, state.written + chunk.count > total {
                        throw TResNetError(
                            .checksumMismatch, format: "http",
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
                    lastError = TResNetError(
                        .network, format: "http",
                        "\(display) ended after \(state.written) of \(total) bytes")
                    continue
                }
                return (state.hasher.finalize(), state.written, state.total != nil, state.commit)
            } catch let e as TResNetError {
                if e.code == .network, state.restart || (state.written > resumeFrom) { lastError = e; continue }
                throw e
            } catch {
                // Transport error (connection cut, timeout): resume from what we have.
                lastError = TResNetError(
                    .network, format: "http",
                    "\(display): transfer failed after "
                        + "\(state.written) bytes (\(error.localizedDescription))")
            }
        }
        throw lastError ?? TResNetError(.network, format: "http", "\(display): download failed")
    }

    /// Decides what to do with a response: append (206 at the right offset), restart (200 after a partial),
    /// or refuse.
    private static func accept(
        _ r: HTTPURLResponse, state: State, resumeFrom: Int, temp: AtomicFile,
        display: String
    ) throws {
        let headers = Headers(r)
        noteCommit(headers, state: state)
        if let enc = headers["content-encoding"], enc.lowercased() != "identity" {
            throw TResNetError(
                .network, format: "http",
                "\(display) answered with Content-Encoding '\(displaySafe(enc))'"
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
                    throw TResNetError(
                        .checksumMismatch, format: "http",
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
                throw TResNetError(
                    .network, format: "http",
                    "\(display): unusable partial response "
                        + "(Content-Range '\(displaySafe(headers["content-range"] ?? "none"))'); restarting")
            }
            if state.total == nil, let t = range.total { state.total = t }
        default:
            let reason = HTTPURLResponse.localizedString(forStatusCode: r.statusCode)
            throw TResNetError(.network, format: "http", "HTTP \(r.statusCode) \(reason) for \(display)")
        }
    }

    /// Records the `X-Repo-Commit` the hub sends (40 hex digits; anything else is ignored).
    private static func noteCommit(_ headers: Headers, state: State) {
        if let c = headers["x-repo-commit"]?.lowercased(), HubCache.isCommit(c) { state.commit = c }
    }

    // MARK: Helpers

    /// Cache path components come from the catalog, but are still checked: a repository is `name` or `org/name`, a
    /// file one name; no `..`, no absolute paths, no separators in file names, only `[A-Za-z0-9._-]` (A.9 #110).
    static func checkComponents(repository: String, file: String) throws {
        func ok(_ s: Substring) -> Bool {
            !s.isEmpty && s != "." && s != ".." && !s.hasPrefix(".") && !s.contains("--")
                && s.unicodeScalars.allSatisfy {
                    CharacterSet.alphanumerics.contains($0) && $0.isASCII
                        || $0 == "." || $0 == "_" || $0 == "-"
                }
        }
        let parts = repository.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy(ok), ok(Substring(file)) else {
            throw TResNetError(
                .pathEscape, format: "zoo",
                "unsafe cache name '\(displaySafe(repository))/\(displaySafe(file))'")
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

/// The folders one fetch created, removed again (deepest first, only when empty) when it fails.
struct FolderTrail {
    private var created: [String] = []
    /// The created folders' entries in the interrupt clean-up table (`Interrupts`), until kept or removed.
    private var slots: [Int] = []

    /// Creates `path` (its parent must exist) unless it exists; remembers it when this call created it.
    mutating func create(_ path: String) throws {
        if mkdir(path, 0o755) == 0 {
            created.append(path)
            if let slot = Interrupts.registerCleanup(path) { slots.append(slot) }
            return
        }
        if errno == EEXIST {
            var st = stat()
            if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { return }
        }
        if errno == ENOENT {
            // A parent is missing (a cache root several levels deep): create the chain, remembering each level.
            let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            if !parent.isEmpty, parent != path {
                try create(parent)
                return try create(path)
            }
        }
        throw TResNetError.io(path, "cannot create the cache folder: \(String(cString: strerror(errno)))")
    }

    /// Removes the created folders that are empty, deepest first.
    mutating func removeEmpty() {
        for path in created.reversed() { rmdir(path) }
        keep()
    }

    /// The fetch succeeded: the folders stay (also on a later interrupt).
    mutating func keep() {
        for slot in slots { Interrupts.unregisterCleanup(slot) }
        slots.removeAll()
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
        if slash[1] == "*" {
            total = nil
        } else {
            guard let n = Int(slash[1]), n > e else { return nil }
            total = n
        }
    }
}
