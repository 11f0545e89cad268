import Foundation
import TestSupport
import Testing
import TResNetCore
import TResNetKit
import TResNetModel
import TResNetZoo

/// Runs the built `tresnet-zoo`.
enum ZooCLI {
    static func run(_ arguments: [String]) throws -> ToolRun { try runBuiltTool("tresnet-zoo", arguments) }

    /// The mirror route of `file` in `repository` (the hub's `/<repo>/resolve/main/<file>` layout).
    static func route(_ repository: String, _ file: String) -> String { "/\(repository)/resolve/main/\(file)" }

    /// Where a fetched `file` of `repository` is in the hub cache `cache`.
    static func cached(_ cache: String, _ repository: String, _ file: String) -> String {
        HubCache(root: cache).snapshotPath(repository: repository, file: file)
    }

    /// Everything under `repository`'s folder in `cache` (locks and temporaries included), sorted.
    static func leftovers(_ cache: String, _ repository: String) -> [String] {
        let folder = HubCache(root: cache).repositoryFolder(repository)
        return ((FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []).sorted()
    }
}

@Suite(.serialized) struct ZooCLITests {
    @Test func listTableAndJSON() throws {
        let table = try ZooCLI.run(["list"])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("tag") == true)
        #expect(lines.filter { $0.hasPrefix("tresnet_") || $0.hasPrefix("miil/") }.count == 18)

        let json = try ZooCLI.run(["list", "--json", "--arch", "v2_l", "--dataset", "in21k"])
        #expect(json.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(
            Set(rows.compactMap { $0["tag"] as? String }) == [
                "tresnet_v2_l.miil_in21k_ft_in1k", "tresnet_v2_l.miil_in21k", "miil/tresnet_l_v2_miil_21k"
            ])
        #expect(rows.allSatisfy { $0["num_classes"] as? Int == 1000 || $0["num_classes"] as? Int == 11221 })
    }

    @Test func showResolvesAliases() throws {
        let card = try ZooCLI.run(["show", "tresnet_m_448"])
        #expect(card.status == 0)
        #expect(card.stdout.hasPrefix("tresnet_m.miil_in1k_448\n"))
        #expect(card.stdout.contains("resize to 448x448 ignoring aspect ratio"))
        let json = try ZooCLI.run(["show", "--json", "tresnet_l_v2_miil_21k.pth"])
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(entry["tag"] as? String == "miil/tresnet_l_v2_miil_21k")
        #expect(entry["num_classes"] as? Int == 11221)

        let missing = try ZooCLI.run(["show", "tresnet_q"])
        #expect(missing.status == 64 && missing.stderr.contains("no zoo entry named 'tresnet_q'"))
    }

    @Test func fetchFromALocalMirror() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        server.set(ZooCLI.route("timm/tresnet_m.miil_in1k", "model.safetensors"), .init(body: body))
        server.set(ZooCLI.route("timm/tresnet_l.miil_in1k", "model.safetensors"), .init(body: body))
        let cache = FixturePaths.temporaryDirectory("zoo-cli")
        let mirror = "http://127.0.0.1:\(server.port)"

        // No published sha256 for this file: pinned on first use.
        let first = try ZooCLI.run(["fetch", "tresnet_m.miil_in1k", "--cache", cache, "--mirror", mirror])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("trust on first use"))
        let path = ZooCLI.cached(cache, "timm/tresnet_m.miil_in1k", "model.safetensors")
        #expect(path.hasSuffix("/models--timm--tresnet_m.miil_in1k/snapshots/main/model.safetensors"))
        #expect(FileManager.default.contents(atPath: path) == Data(body))

        // Reused offline from the cache, verified against the pin.
        let offline = try ZooCLI.run(["fetch", "tresnet_m", "--cache", cache, "--offline", "--quiet"])
        #expect(offline.status != 0, "bare tresnet_m is the in21k_ft_in1k tag, which is not cached")
        let again = try ZooCLI.run(["fetch", "tresnet_m.miil_in1k", "--cache", cache, "--offline", "--quiet"])
        #expect(again.status == 0 && again.stdout == path + "\n")

        // The catalog publishes a sha256 for tresnet_l.miil_in1k: the mirror's bytes are refused.
        let refused = try ZooCLI.run(["fetch", "tresnet_l", "--cache", cache, "--mirror", mirror])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("checksum mismatch for timm/tresnet_l.miil_in1k/model.safetensors"))
        #expect(ZooCLI.leftovers(cache, "timm/tresnet_l.miil_in1k").isEmpty, "a failed fetch leaves no folder, no lock")

        // HF_HUB_OFFLINE=1 is --offline; HF_ENDPOINT points the hub's files at the mirror (no --mirror).
        let hubOffline = try runBuiltTool(
            "tresnet-zoo", ["fetch", "tresnet_xl.miil_in1k", "--cache", cache],
            environment: ["HF_HUB_OFFLINE": "1"])
        #expect(hubOffline.status == 1 && hubOffline.stderr.contains("offline"), "\(hubOffline.stderr)")
        #expect(ZooCLI.leftovers(cache, "timm/tresnet_xl.miil_in1k").isEmpty)
        server.set(ZooCLI.route("timm/tresnet_xl.miil_in1k", "model.safetensors"), .init(body: body))
        let endpoint = try runBuiltTool(
            "tresnet-zoo", ["fetch", "tresnet_xl.miil_in1k", "--cache", cache, "--quiet"],
            environment: ["HF_ENDPOINT": mirror])
        #expect(endpoint.status == 0, "\(endpoint.stderr)")
        #expect(endpoint.stdout == ZooCLI.cached(cache, "timm/tresnet_xl.miil_in1k", "model.safetensors") + "\n")
    }

    /// docs/ROBUSTNESS.md A.9 #111 across processes: two `tresnet-zoo fetch` processes share one cache; the file lock
    /// makes the second wait and then reuse the first one's verified file; no temporary is left.
    @Test func twoProcessesFetchingTheSameFile() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        server.set(ZooCLI.route("timm/tresnet_m.miil_in1k", "model.safetensors"), .init(body: body))
        let cache = FixturePaths.temporaryDirectory("zoo-cli-two")
        let mirror = "http://127.0.0.1:\(server.port)"
        let runs = Runs()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            runs.add(Result { try ZooCLI.run(["fetch", "tresnet_m.miil_in1k", "--cache", cache, "--mirror", mirror]) })
        }
        let path = ZooCLI.cached(cache, "timm/tresnet_m.miil_in1k", "model.safetensors")
        let finished = try runs.values.map { try $0.get() }
        #expect(finished.count == 2)
        for run in finished {
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains(path), "\(run.stdout)")
        }
        // One downloads; the other (waiting on the lock, or started after) reuses the verified file.
        #expect(
            finished.map { $0.stdout.split(separator: " ").first ?? "" }.sorted() == ["cached", "fetched"],
            "\(finished.map(\.stdout))")
        #expect(FileManager.default.contents(atPath: path) == Data(body))
        let left = ZooCLI.leftovers(cache, "timm/tresnet_m.miil_in1k").filter { !$0.hasPrefix("blobs/") }
        #expect(left == ["blobs", "snapshots", "snapshots/main", "snapshots/main/model.safetensors"], "\(left)")
        #expect(ZooCLI.leftovers(cache, "timm/tresnet_m.miil_in1k").filter { $0.hasPrefix("blobs/") }.count == 1)
    }

    /// docs/ROBUSTNESS.md A.9 #112 for downloads: the cache's file system refuses a write midway (`ulimit -f`, the
    /// EFBIG a full disk gives as ENOSPC): one error line, exit 1, no file and no temporary left in the cache.
    @Test func downloadWhoseWriteFailsLeavesNothing() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set(
            ZooCLI.route("timm/tresnet_m.miil_in1k", "model.safetensors"),
            .init(body: [UInt8](repeating: 7, count: 1_000_000)))
        let cache = FixturePaths.temporaryDirectory("zoo-cli-efbig")
        let tool = try #require(builtTool("tresnet-zoo"))
        // SIGXFSZ ignored, so the write past 64 KiB fails with EFBIG instead of killing the process.
        let script = "trap '' XFSZ; ulimit -f 64; exec \"$0\" fetch tresnet_m.miil_in1k --cache \"$1\" --mirror \"$2\""
        let run = try runTool("/bin/sh", ["-c", script, tool, cache, "http://127.0.0.1:\(server.port)"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("File too large"), "\(run.stderr)")
        #expect(run.stderr.contains("model.safetensors"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        let left = ZooCLI.leftovers(cache, "timm/tresnet_m.miil_in1k")
        #expect(left.isEmpty, "\(left)")
    }

    final class Runs: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [Result<ToolRun, any Error>] = []
        func add(_ r: Result<ToolRun, any Error>) { lock.lock(); list.append(r); lock.unlock() }
        var values: [Result<ToolRun, any Error>] { lock.lock(); defer { lock.unlock() }; return list }
    }

    @Test func deadLinksFailClearly() throws {
        let cache = FixturePaths.temporaryDirectory("zoo-cli-dead")
        let dead = try ZooCLI.run(["fetch", "miil/tresnet_m", "--convert", "--cache", cache])
        #expect(dead.status == 1 && dead.stderr.contains("tresnet_m.miil_in1k"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).isEmpty)
    }

    /// A catalog holding one entry of the built-in catalog re-pointed at a tiny fixture: `tag`, architecture,
    /// classes, label set and preprocessing replaced, one file `file` in `naming` spelling.
    static func testCatalog(
        tag: String, architecture: String, file: String, naming: String,
        preprocessing: [String: Any], inputSize: Int
    ) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.root + "/Zoo/catalog.json"))
        var catalog = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(catalog["entries"] as? [[String: Any]])
        var entry = try #require(entries.first { $0["tag"] as? String == "tresnet_m.miil_in1k" })
        var files = try #require(entry["files"] as? [[String: Any]])
        var f = files[0]
        f["name"] = file
        f["format"] = "pytorch-zip"
        f["naming"] = naming
        f["url"] = "https://example.invalid/\(file)"
        files = [f]
        entry["files"] = files
        entry["tag"] = tag
        entry["hub_id"] = "test/" + tag
        entry["aliases"] = [String]()
        entry["architecture"] = architecture
        entry["num_classes"] = 10
        entry["label_set"] = "tiny-test-10"
        entry["input_size"] = inputSize
        var p = try #require(entry["preprocessing"] as? [String: Any])
        for (k, v) in preprocessing { p[k] = v }
        entry["preprocessing"] = p
        catalog["entries"] = [entry]
        let path = FixturePaths.temporaryDirectory("zoo-catalog") + "/catalog.json"
        try JSONSerialization.data(withJSONObject: catalog).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func fetchConvertWritesTheZoosMetadata() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("tiny_v1_miil.pth"))))
        server.set(ZooCLI.route("test/test.tiny_v1_miil", "tiny_v1_miil.pth"), .init(body: body))
        server.set(ZooCLI.route("test/test.tiny_as_m", "tiny_v1_miil.pth"), .init(body: body))
        let preprocessing: [String: Any] = [
            "crop_pct": 1.0, "crop_mode": "squash", "interpolation": "bicubic",
            "mean": [0.25, 0.5, 0.75], "std": [0.5, 1.0, 2.0]
        ]
        let catalog = try Self.testCatalog(
            tag: "test.tiny_v1_miil", architecture: "tiny_v1", file: "tiny_v1_miil.pth",
            naming: "miil", preprocessing: preprocessing, inputSize: 64)
        let cache = FixturePaths.temporaryDirectory("zoo-cli-convert")
        let mirror = "http://127.0.0.1:\(server.port)"

        let run = try ZooCLI.run([
            "fetch", "test.tiny_v1_miil", "--catalog", catalog, "--cache", cache, "--mirror", mirror,
            "--convert"
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let tw = ZooCLI.cached(cache, "test/test.tiny_v1_miil", "tiny_v1_miil.tw")
        #expect(run.stdout.contains(tw))
        #expect(!run.stdout.contains("forced by --variant"), "no --variant was given: \(run.stdout)")
        let model = try TWModel.open(path: tw, verifyChecksums: true)
        #expect(model.metadata.labelSet == "tiny-test-10")
        #expect(
            model.metadata.preprocessing
                == PreprocessingConfig(
                    inputSize: 64, cropPct: 1.0, cropMode: .squash, interpolation: .bicubic,
                    mean: [0.25, 0.5, 0.75], std: [0.5, 1.0, 2.0]))
        #expect(model.metadata.sourceDialect == "miil" && model.metadata.bnWeightTransform == "abs_plus_eps")
        #expect(model.metadata.sourceSHA256 == (try FixtureManifest.load().files["tiny_v1_miil.pth"]?.sha256))
        #expect(model.metadata.configuration.numClasses == 10)
        #expect(
            model.metadata.zoo == ZooOrigin(tag: "test.tiny_v1_miil", hubID: "test/test.tiny_v1_miil", revision: "main")
        )
        // and the converted file computes what PyTorch computed
        let verify = try runTool(
            try tool("tresnet-verify"), [tw, "--reference", FixturePaths.tiny("tiny_v1_miil.reference.npz")])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // An entry whose architecture is a zoo variant is forced to it: the tiny file does not bind to tresnet_m,
        // the conversion fails (exit 2) and leaves no .tw.
        let wrong = try Self.testCatalog(
            tag: "test.tiny_as_m", architecture: "tresnet_m", file: "tiny_v1_miil.pth",
            naming: "miil", preprocessing: [:], inputSize: 224)
        let refused = try ZooCLI.run([
            "fetch", "test.tiny_as_m", "--catalog", wrong, "--cache", cache, "--mirror", mirror,
            "--convert"
        ])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ZooCLI.cached(cache, "test/test.tiny_as_m", "tiny_v1_miil.tw")))
    }

    /// The multi-label weights are zoo entries like the others: listed with their head and mAP, and fetched and
    /// converted with the catalog's threshold and squash preprocessing (the built-in ML-Decoder entry re-pointed at
    /// the micro ML-Decoder fixture, saved as ML-Decoder's code saves: {'model': MIIL spelling, 'idx_to_class'}).
    @Test func multiLabelEntriesFetchAndConvert() throws {
        let list = try ZooCLI.run(["list", "--json", "--dataset", "coco"])
        #expect(list.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 6 && rows.allSatisfy { $0["threshold"] is Double && $0["num_classes"] as? Int == 80 })
        let card = try ZooCLI.run(["show", "ml_decoder/tresnet_m_coco_224"])
        #expect(card.stdout.contains("ML-Decoder head, sigmoid per class, threshold 0.75, mAP 84.2"))
        #expect(card.stdout.contains("80, label set coco-80 — \"person\", \"bicycle\", \"car\", …"))

        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.root + "/Zoo/catalog.json"))
        var catalog = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(catalog["entries"] as? [[String: Any]])
        var entry = try #require(entries.first { $0["tag"] as? String == "ml_decoder/tresnet_m_coco_224" })
        var file = try #require((entry["files"] as? [[String: Any]])?.first)
        file["name"] = "mld_v1_full.pth"
        entry["files"] = [file]
        entry["tag"] = "ml_decoder/micro"
        entry["architecture"] = "mld_v1"  // no zoo variant: inferred from the tensors
        entry["num_classes"] = 5
        entry["groups"] = 5
        entry["label_set"] = ""  // the names come from the checkpoint's idx_to_class
        entry["input_size"] = 64
        entry["threshold"] = 0.6
        catalog["entries"] = [entry]
        let path = FixturePaths.temporaryDirectory("zoo-catalog-ml") + "/catalog.json"
        try JSONSerialization.data(withJSONObject: catalog).write(to: URL(fileURLWithPath: path))

        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("mldecoder/mld_v1_full.pth"))))
        server.set(ZooCLI.route("ml_decoder/micro", "mld_v1_full.pth"), .init(body: body))
        let cache = FixturePaths.temporaryDirectory("zoo-cli-ml")
        let run = try ZooCLI.run([
            "fetch", "ml_decoder/micro", "--catalog", path, "--cache", cache, "--mirror",
            "http://127.0.0.1:\(server.port)", "--convert"
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let tw = ZooCLI.cached(cache, "ml_decoder/micro", "mld_v1_full.tw")
        // the cached copy again, as JSON: where it is, how it was verified, what the conversion did
        let again = try ZooCLI.run([
            "fetch", "ml_decoder/micro", "--catalog", path, "--cache", cache, "--offline", "--convert", "--json"
        ])
        #expect(again.status == 0, "\(again.stderr)")
        let r = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(r["from_cache"] as? Bool == true && r["verification"] as? String == "pinned")
        #expect(r["size_bytes"] as? Int == body.count && r["file"] as? String == "mld_v1_full.pth")
        #expect((r["conversion"] as? [String: Any])?["output"] as? String == tw)
        #expect(JSONStyleTests.badKeys(r).isEmpty, "\(JSONStyleTests.badKeys(r))")
        let model = try TWModel.open(path: tw, verifyChecksums: true)
        #expect(model.metadata.multiLabel == MultiLabelCard(threshold: 0.6))
        #expect(model.metadata.configuration.mlDecoder?.groups == 5)
        #expect(model.metadata.labelNames == ["person", "bicycle", "car", "motorcycle", "airplane"])
        #expect(model.metadata.preprocessing == .officialSquash(inputSize: 64))
        #expect(model.metadata.zoo?.tag == "ml_decoder/micro")
    }
}
