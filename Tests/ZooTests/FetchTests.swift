import Foundation
import TestSupport
import Testing
import TResNetCore
@testable import TResNetZoo
@testable import TResNetZooFetch

/// `ZooFetcher` against a local HTTP server on 127.0.0.1 (no network).
@Suite(.serialized) struct FetchTests {
    /// A deterministic 3 MiB body (several chunks, so a cut lands mid-stream).
    static let body: [UInt8] = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
    static let digest: String = body.withUnsafeBytes { SHA256Hex.of($0) }

    func file(_ server: LocalHTTPServer, _ path: String, sha256: String? = FetchTests.digest, size: Int? = nil)
        -> ZooFile
    {
        ZooFile(name: "model.safetensors", url: server.url(path), sha256: sha256, size: size)
    }

    func fetcher(_ cache: String) -> ZooFetcher {
        var f = ZooFetcher(cacheDirectory: cache)
        f.timeout = 10
        return f
    }

    /// Everything under the repository's folder in the hub cache (`models--<repo>`), sorted; empty when the folder
    /// does not exist. Locks and temporaries count: a fetch must leave none.
    static func leftovers(_ cache: String, _ repository: String) -> [String] {
        let folder = HubCache(root: cache).repositoryFolder(repository)
        return ((FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []).sorted()
    }

    func leftovers(_ cache: String, _ repository: String) -> [String] { Self.leftovers(cache, repository) }

    /// What a successful fetch of `model.safetensors` at revision `revision` leaves: the blob and the snapshot link.
    static func fetched(_ digest: String = FetchTests.digest, revision: String = "main") -> [String] {
        ["blobs", "blobs/\(digest)", "snapshots", "snapshots/\(revision)", "snapshots/\(revision)/model.safetensors"]
    }

    @Test func fullDownloadVerifiedAndCached() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set("/m", .init(body: Self.body))
        let cache = FixturePaths.temporaryDirectory("zoo-full")
        let result = try fetcher(cache).fetch(repository: "test.full", file: file(server, "/m"))
        #expect(result.sha256 == Self.digest && result.size == Self.body.count && !result.fromCache)
        #expect(result.verification == .catalog)
        #expect(result.path == "\(cache)/models--test.full/snapshots/main/model.safetensors")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: result.path) == "../../blobs/\(Self.digest)")
        #expect(try ZooFetcher.digest(of: result.path).0 == Self.digest)
        #expect(leftovers(cache, "test.full") == Self.fetched())
        #expect(server.requests.first?.headers["accept-encoding"] == "identity")
        #expect(server.requests.first?.headers["range"] == nil)
    }

    @Test func resumesAfterACutTransfer() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let cutAt = 1_000_000
        server.set("/m", .init(body: Self.body, cutFirstAfter: cutAt))
        let cache = FixturePaths.temporaryDirectory("zoo-resume")
        let result = try fetcher(cache).fetch(repository: "test.resume", file: file(server, "/m"))
        #expect(result.sha256 == Self.digest && result.size == Self.body.count)
        let requests = server.requests
        #expect(requests.count == 2)
        // The second request asks only for the rest, conditional on the validator.
        let range = try #require(requests.last?.headers["range"])
        #expect(range.hasPrefix("bytes=") && range.hasSuffix("-"))
        let from = try #require(Int(range.dropFirst(6).dropLast()))
        #expect(from > 0 && from <= cutAt)
        #expect(requests.last?.headers["if-range"] == "\"v1\"")
        #expect(leftovers(cache, "test.resume") == Self.fetched())
    }

    @Test func restartsWhenTheServerIgnoresRange() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set("/m", .init(body: Self.body, cutFirstAfter: 700_000, honorRange: false))
        let cache = FixturePaths.temporaryDirectory("zoo-restart")
        let result = try fetcher(cache).fetch(repository: "test.restart", file: file(server, "/m"))
        #expect(result.sha256 == Self.digest && result.size == Self.body.count)
        #expect(server.requests.count == 2)
    }

    @Test func corruptedBodyIsRefusedAndNothingIsCached() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        var corrupted = Self.body
        corrupted[123_456] ^= 0x40
        server.set("/m", .init(body: corrupted))
        let cache = FixturePaths.temporaryDirectory("zoo-corrupt")
        let error = try #require(throws: TResNetError.self) {
            try fetcher(cache).fetch(repository: "test.corrupt", file: file(server, "/m"))
        }
        #expect(error.code == .checksumMismatch)
        #expect(error.message.contains("expected \(Self.digest)"))
        #expect(leftovers(cache, "test.corrupt").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(cache)/pins.json"))
    }

    @Test func wrongSizeIsRefused() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set("/m", .init(body: Self.body))
        let cache = FixturePaths.temporaryDirectory("zoo-size")
        let error = try #require(throws: TResNetError.self) {
            try fetcher(cache).fetch(
                repository: "test.size", file: file(server, "/m", sha256: nil, size: Self.body.count - 1))
        }
        #expect(error.code == .checksumMismatch)
        #expect(leftovers(cache, "test.size").isEmpty)
    }

    @Test func endlessBodyIsCutAtTheExpectedSize() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        var route = LocalHTTPServer.Route(body: Self.body)
        route.omitLength = true
        server.set("/m", route)
        let cache = FixturePaths.temporaryDirectory("zoo-endless")
        let e = try #require(throws: TResNetError.self) {
            try fetcher(cache).fetch(repository: "test.endless", file: file(server, "/m", sha256: nil, size: 1_000_000))
        }
        #expect(e.code == .checksumMismatch && e.message.contains("more than the expected 1000000 bytes"))
        #expect(leftovers(cache, "test.endless").isEmpty)
        // With a digest, a body without Content-Length is taken whole and proven by the digest.
        let ok = try fetcher(cache).fetch(repository: "test.nolength", file: file(server, "/m"))
        #expect(ok.sha256 == Self.digest && ok.verification == .catalog)
        // With neither digest nor size, completeness cannot be proven: refused, nothing pinned.
        let unproven = try #require(throws: TResNetError.self) {
            try fetcher(cache).fetch(repository: "test.unproven", file: file(server, "/m", sha256: nil))
        }
        #expect(unproven.code == .network && unproven.message.contains("cannot be proven complete"))
        #expect(leftovers(cache, "test.unproven").isEmpty)
        #expect(try PinStore(cacheDirectory: cache).pin(for: "test.unproven/model.safetensors") == nil)
    }

    @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set("/m", .init(body: Self.body))
        let cache = FixturePaths.temporaryDirectory("zoo-stale")
        let dir = "\(cache)/models--test.stale/blobs"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // pid 2^22 + 1 is above Linux's pid_max limit, so no process has it.
        let stale = "\(dir)/.model.safetensors.tmp-4194305-1"
        let live = "\(dir)/.model.safetensors.tmp-\(getpid())-7"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data([1, 2, 3])))
        #expect(FileManager.default.createFile(atPath: live, contents: Data([1, 2, 3])))
        _ = try fetcher(cache).fetch(repository: "test.stale", file: file(server, "/m"))
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
    }

    @Test func compressedResponsesAreRefused() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set("/m", .init(body: Self.body, extraHeaders: [("Content-Encoding", "br")]))
        let cache = FixturePaths.temporaryDirectory("zoo-encoding")
        let e = try #require(throws: TResNetError.self) {
            try fetcher(cache).fetch(repository: "test.encoding", file: file(server, "/m"))
        }
        #expect(e.code == .network && e.message.contains("Content-Encoding"), "\(e)")
        #expect(leftovers(cache, "test.encoding").isEmpty)
    }

    @Test func notFoundIsANetworkError() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let cache = FixturePaths.temporaryDirectory("zoo-404")
        let error = try #require(throws: TResNetError.self) {
            try fetcher(cache).fetch(repository: "test.missing", file: file(server, "/nothing-here"))
        }
        #expect(error.code == .network)
        #expect(error.message.contains("HTTP 404"))
        #expect(leftovers(cache, "test.missing").isEmpty)
        #expect(server.requests.count == 1)
    }

    @Test func firstUsePinThenOfflineReuse() throws {
        let server = try LocalHTTPServer()
        server.set("/m", .init(body: Self.body))
        let cache = FixturePaths.temporaryDirectory("zoo-offline")
        let unpinned = file(server, "/m", sha256: nil)
        let first = try fetcher(cache).fetch(repository: "test.offline", file: unpinned)
        #expect(first.verification == .firstUse && first.sha256 == Self.digest)
        let pin = try #require(try PinStore(cacheDirectory: cache).pin(for: "test.offline/model.safetensors"))
        #expect(pin.sha256 == Self.digest && pin.size == Self.body.count)
        server.stop()

        // Server gone: the cached copy is re-verified against the pin and reused, online or offline.
        let again = try fetcher(cache).fetch(repository: "test.offline", file: unpinned)
        #expect(again.fromCache && again.verification == .pinned && again.sha256 == Self.digest)
        var offline = fetcher(cache)
        offline.offline = true
        #expect(try offline.fetch(repository: "test.offline", file: unpinned).fromCache)

        // A tampered cached file is refused, not reused.
        let handle = try #require(FileHandle(forUpdatingAtPath: again.path))
        try handle.seek(toOffset: 10)
        try handle.write(contentsOf: Data([0xff, 0xee]))
        try handle.close()
        let error = try #require(throws: TResNetError.self) {
            try offline.fetch(repository: "test.offline", file: unpinned)
        }
        #expect(error.code == .checksumMismatch)

        // Offline with nothing cached.
        let missing = try #require(throws: TResNetError.self) {
            try offline.fetch(repository: "test.other", file: unpinned)
        }
        #expect(missing.code == .network)
    }

    @Test func requirePinRefusesUnpinnedFiles() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set("/m", .init(body: Self.body))
        var f = fetcher(FixturePaths.temporaryDirectory("zoo-requirepin"))
        f.requirePin = true
        #expect(throws: TResNetError.self) {
            try f.fetch(repository: "test.pin", file: file(server, "/m", sha256: nil))
        }
        #expect(server.requests.isEmpty)
    }

    @Test func policyRefusesPlainHTTPAndUnknownHostsAndEscapes() throws {
        let cache = FixturePaths.temporaryDirectory("zoo-policy")
        for url in [
            "http://huggingface.co/x", "https://evil.example.com/x", "ftp://127.0.0.1/x",
            "https://user:pw@huggingface.co/x"
        ] {
            let e = try #require(throws: TResNetError.self) {
                try fetcher(cache).fetch(repository: "test.policy", file: ZooFile(name: "f.bin", url: url))
            }
            #expect(e.code == .network, "\(url)")
        }
        for (tag, name) in [
            ("../x", "f"), ("a", "../f"), ("a/b/c", "f"), ("a", ".hidden"), ("/abs", "f"), ("a--b", "f")
        ] {
            let e = try #require(throws: TResNetError.self) {
                try fetcher(cache).fetch(repository: tag, file: ZooFile(name: name, url: "https://huggingface.co/x"))
            }
            #expect(e.code == .pathEscape, "\(tag)/\(name)")
        }
    }

    @Test func redirectsAreFollowedOnlyToAllowedHosts() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set("/real", .init(body: Self.body))
        server.set("/hop", .init(body: [], redirect: server.url("/real")))
        server.set("/away", .init(body: [], redirect: "https://evil.example.com/model.safetensors"))
        server.set("/plain", .init(body: [], redirect: "http://huggingface.co/model.safetensors"))
        let cache = FixturePaths.temporaryDirectory("zoo-redirect")
        let ok = try fetcher(cache).fetch(repository: "test.hop", file: file(server, "/hop"))
        #expect(ok.sha256 == Self.digest)
        for path in ["/away", "/plain"] {
            let e = try #require(throws: TResNetError.self) {
                try fetcher(cache).fetch(repository: "test.away", file: file(server, path))
            }
            #expect(e.code == .network && e.message.contains("refusing"), "\(path): \(e)")
        }
        #expect(leftovers(cache, "test.away").isEmpty)
    }

    /// The hub names the commit (`X-Repo-Commit`, here on a redirect as huggingface.co sends it): the snapshot is
    /// `snapshots/<commit>`, `refs/main` records it, and a later fetch of `main` finds the file through the ref.
    @Test func theHubsCommitNamesTheSnapshot() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let commit = "0123456789abcdef0123456789abcdef01234567"
        server.set("/real", .init(body: Self.body))
        server.set("/hop", .init(body: [], extraHeaders: [("X-Repo-Commit", commit)], redirect: server.url("/real")))
        let cache = FixturePaths.temporaryDirectory("zoo-commit")
        let result = try fetcher(cache).fetch(repository: "org/test.commit", file: file(server, "/hop"))
        #expect(result.revision == commit && !result.fromCache)
        #expect(result.path == "\(cache)/models--org--test.commit/snapshots/\(commit)/model.safetensors")
        #expect(
            leftovers(cache, "org/test.commit") == [
                "blobs", "blobs/\(Self.digest)", "refs", "refs/main", "snapshots",
                "snapshots/\(commit)", "snapshots/\(commit)/model.safetensors"
            ])
        #expect(HubCache(root: cache).commit(repository: "org/test.commit") == commit)
        var offline = fetcher(cache)
        offline.offline = true
        let again = try offline.fetch(repository: "org/test.commit", file: file(server, "/hop"))
        #expect(again.fromCache && again.path == result.path && again.revision == commit)
    }

    /// A failed fetch into a fresh cache leaves no folder at all: no repository folder, no lock, no cache root.
    @Test func aFailedFetchLeavesNothingBehind() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let cache = FixturePaths.temporaryDirectory("zoo-nothing") + "/deep/hub"
        _ = try #require(throws: TResNetError.self) {
            try fetcher(cache).fetch(repository: "org/test.none", file: file(server, "/nothing-here"))
        }
        #expect(!FileManager.default.fileExists(atPath: cache), "\(leftovers(cache, "org/test.none"))")
        #expect(!FileManager.default.fileExists(atPath: (cache as NSString).deletingLastPathComponent))
    }

    @Test func deadLinksAreNotContacted() throws {
        let entry = try #require(ZooCatalog.shared.entry(named: "miil/tresnet_m"))
        let e = try #require(throws: TResNetError.self) {
            try fetcher(FixturePaths.temporaryDirectory("zoo-dead")).fetch(entry)
        }
        #expect(e.code == .network && e.message.contains("tresnet_m.miil_in1k"))
    }

    @Test func contentRangeParsing() {
        #expect(ContentRange("bytes 100-199/200").map { [$0.start, $0.end, $0.total ?? -1] } == [100, 199, 200])
        #expect(ContentRange("bytes 5-9/*")?.total == nil)
        #expect(ContentRange("bytes 9-5/10") == nil)
        #expect(ContentRange("bytes 0-9/9") == nil)
        #expect(ContentRange("items 0-9/10") == nil)
    }
}
