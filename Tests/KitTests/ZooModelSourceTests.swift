import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetKit
import TResNetModel
import TResNetZoo
import TResNetZooFetch

/// A zoo tag as WEIGHTS (`ZooModelSource`): resolved from the hub cache, downloaded only when allowed (here from a
/// local server in the hub's `/<repo>/resolve/main/<file>` layout), converted once to `.tw` and then reused.
@Suite(.serialized) struct ZooModelSourceTests {
    /// A catalog with one entry, `test.tiny`, whose default file is the committed tiny_v1.pth at `url`.
    static func catalog(url: String, sha256: String? = nil) throws -> ZooCatalog {
        var entry = try #require(ZooCatalog.shared.entry(named: "tresnet_m.miil_in1k"))
        entry.tag = "test.tiny"
        entry.hubId = "test/tiny"
        entry.aliases = []
        entry.architecture = "tiny_v1"
        entry.numClasses = 10
        entry.labelSet = "tiny-test-10"
        entry.files = [ZooFile(name: "tiny_v1.pth", url: url, format: "pytorch-zip", naming: "timm", sha256: sha256)]
        entry.resources = nil
        return ZooCatalog(
            schema: 1, generatedBy: "test", timmVersion: "", labelSets: ["tiny-test-10": 10],
            entries: [entry])
    }

    @Test func aTagResolvesFromTheCacheDownloadsOnlyWhenAllowedAndConvertsOnce() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("tiny_v1.pth"))))
        let commit = "89abcdef0123456789abcdef0123456789abcdef"
        server.set("/test/tiny/resolve/main/tiny_v1.pth", .init(body: body, extraHeaders: [("X-Repo-Commit", commit)]))
        let published = try #require(try FixtureManifest.load().files["tiny_v1.pth"]?.sha256)
        let catalog = try Self.catalog(
            url: "https://huggingface.co/test/tiny/resolve/main/tiny_v1.pth", sha256: published)
        let cache = HubCache(root: FixturePaths.temporaryDirectory("zoo-source") + "/hub")

        // A path is a path: an existing file is never taken for a tag.
        let offline = ZooModelSource(cache: cache, catalog: catalog)
        #expect(try offline.resolve(FixturePaths.tiny("tiny_v1.pth")) == FixturePaths.tiny("tiny_v1.pth"))
        #expect(try offline.resolve("not-a-tag.pth") == "not-a-tag.pth")

        // Offline (no download allowed) and not cached: a usage hint, nothing created.
        let refused = try #require(throws: TResNetError.self) { try offline.resolve("test.tiny") }
        #expect(
            refused.code == .network && refused.message.contains("tresnet-zoo fetch test.tiny")
                && refused.message.contains("--allow-download"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: cache.root))

        // Allowed: fetched through $HF_ENDPOINT (the local server), verified against the published sha256.
        var fetcher = ZooFetcher(cacheDirectory: cache.root)
        fetcher.offline = false
        fetcher.timeout = 10
        let endpoint = "http://127.0.0.1:\(server.port)"
        fetcher.policy.allowedHostSuffixes.append("127.0.0.1")
        let downloads = Counter()
        let online = ZooModelSource(
            cache: cache, catalog: catalog,
            download: { [fetcher] entry in
                downloads.add()
                let file = HubCache.source(
                    of: try entry.downloadFile(), in: entry, mirror: nil,
                    environment: ["HF_ENDPOINT": endpoint])
                _ = try fetcher.fetch(repository: HubCache.repository(of: entry), file: file)
            })
        let tw = try online.resolve("test.tiny")
        #expect(tw == cache.root + "/models--test--tiny/snapshots/\(commit)/tiny_v1.tw")
        #expect(downloads.value == 1 && server.requests.count == 1)
        let model = try TWModel.open(path: tw, verifyChecksums: true)
        #expect(model.metadata.zoo == ZooOrigin(tag: "test.tiny", hubID: "test/tiny", revision: commit))
        #expect(model.metadata.sourceSHA256 == published)
        #expect(cache.commit(repository: "test/tiny") == commit)

        // Reused: no download, no second conversion (the .tw is the same file), even with downloads refused.
        let before = try FileManager.default.attributesOfItem(atPath: tw)[.modificationDate] as? Date
        #expect(try offline.resolve("test.tiny") == tw)
        #expect(try online.resolve("test.tiny") == tw)
        #expect(downloads.value == 1 && server.requests.count == 1)
        #expect(try FileManager.default.attributesOfItem(atPath: tw)[.modificationDate] as? Date == before)

        // Cached download without its .tw (removed): converted again from the cache, offline.
        try FileManager.default.removeItem(atPath: tw)
        #expect(try offline.resolve("test.tiny") == tw)
        #expect(try TWModel.open(path: tw).metadata.zoo?.revision == commit)
    }

    /// The conversion checks the bytes it converted against the catalog's published sha256: a cached file that
    /// was changed after it was fetched gives no `.tw`.
    @Test func aChangedCachedFileIsNotConverted() throws {
        let published = try #require(try FixtureManifest.load().files["tiny_v1.pth"]?.sha256)
        let catalog = try Self.catalog(url: "https://example.invalid/tiny_v1.pth", sha256: published)
        let cache = HubCache(root: FixturePaths.temporaryDirectory("zoo-source-changed"))
        // Planted as if fetched: the legacy file (same tensors, other bytes) under the entry's file name.
        let snapshot = cache.root + "/models--test--tiny/snapshots/main"
        try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: FixturePaths.tiny("tiny_v1_legacy.pth"), toPath: snapshot + "/tiny_v1.pth")
        let error = try #require(throws: TResNetError.self) {
            try ZooModelSource(cache: cache, catalog: catalog).resolve("test.tiny")
        }
        #expect(error.code == .checksumMismatch && error.message.contains(published), "\(error)")
        #expect(!FileManager.default.fileExists(atPath: snapshot + "/tiny_v1.tw"))
    }

    @Test func theEnvironmentPicksTheCacheAndTheEndpoint() {
        #expect(HubCache.defaultRoot(environment: ["HF_HUB_CACHE": "/a", "HF_HOME": "/b"]) == "/a")
        #expect(HubCache.defaultRoot(environment: ["HF_HOME": "/b", "HOME": "/h"]) == "/b/hub")
        #expect(HubCache.defaultRoot(environment: ["HOME": "/h"]) == "/h/.cache/huggingface/hub")
        #expect(HubCache.defaultRoot(environment: ["HOME": "/h", "XDG_CACHE_HOME": "/x"]) == "/x/huggingface/hub")
        #expect(HubCache.offline(environment: ["HF_HUB_OFFLINE": "1"]) && !HubCache.offline(environment: [:]))
        #expect(HubCache.downloadAllowed(environment: ["TRESNET_ALLOW_DOWNLOAD": "true"]))
        #expect(!HubCache.downloadAllowed(environment: ["TRESNET_ALLOW_DOWNLOAD": "0"]))
        let entry = ZooCatalog.shared.entry(named: "tresnet_l.miil_in1k")!
        let file = entry.defaultFile!
        #expect(
            HubCache.source(
                of: file, in: entry, mirror: nil, environment: ["HF_ENDPOINT": "https://hf-mirror.example/"]
            ).url
                == "https://hf-mirror.example/timm/tresnet_l.miil_in1k/resolve/main/model.safetensors")
        #expect(
            HubCache.source(of: file, in: entry, mirror: "http://127.0.0.1:9", environment: [:]).url
                == "http://127.0.0.1:9/timm/tresnet_l.miil_in1k/resolve/main/model.safetensors")
        #expect(HubCache.source(of: file, in: entry, mirror: nil, environment: [:]).url == file.url)
        #expect(
            HubCache(root: "/c").repositoryFolder("timm/tresnet_l.miil_in1k") == "/c/models--timm--tresnet_l.miil_in1k")
    }

    /// `fetch --convert` forces the catalog's architecture and says so: not "forced by --variant" when none was given.
    @Test func theCatalogForcesTheArchitectureAndSaysSo() throws {
        let entry = try #require(ZooCatalog.shared.entry(named: "tresnet_m.miil_in1k"))
        let options = ZooConversion.options(entry: entry, file: try entry.downloadFile())
        #expect(options.variant == "tresnet_m")
        #expect(options.variantSource == "the zoo catalog's architecture for tresnet_m.miil_in1k")
        #expect(Conversion.Options().variantSource == "--variant")
        let configuration = try #require(TResNetConfiguration.variant("tresnet_m"))
        var summary = ConversionSummary(
            source: "s", output: "o", sourceFormat: .safetensors, wrapper: nil, strippedPrefix: nil, dialect: "timm",
            dialectDetected: true,
            architecture: InferredArchitecture(
                configuration: configuration, variantName: "tresnet_m", explanation: [],
                forced: true),
            outputKind: "tw", dtype: .keep, tensors: 0, parameters: 0, transformedWeights: 0, dropped: [], ignored: [],
            bytesIn: 0, bytesOut: 0, seconds: 0)
        summary.variantSource = options.variantSource
        let line = try #require(summary.lines.first { $0.hasPrefix("architecture:") })
        #expect(line.hasSuffix("(forced by the zoo catalog's architecture for tresnet_m.miil_in1k)"), "\(line)")
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.lock(); n += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }
}
