import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetZoo

@Suite("tresnet-zoo: the semantic tree resource (issue 21)", .serialized)
struct ZooSemanticTreeTests {
    @Test("the built-in catalog lists MIIL's tree as a resource of every 21K head, and only of those")
    func catalogResources() throws {
        for e in ZooCatalog.shared.entries {
            let tree = e.semanticTreeFile
            #expect((tree != nil) == (e.numClasses == 11221), "\(e.tag)")
            if let tree {
                #expect(tree.name == "imagenet21k_miil_tree.pth" && tree.url.hasSuffix("/imagenet21k_miil_tree.pth"))
                #expect(tree.sha256 == nil)  // no page publishes one: pinned on first fetch like the other files
                #expect(try e.downloadFile(named: tree.name) == tree)
            }
        }
    }

    /// A test catalog whose 21K-style entry (`tiny_v1`, 10 classes) lists `tree10.pth` as its semantic tree.
    static func catalog(tag: String) throws -> String {
        let path = try ZooCLITests.testCatalog(
            tag: tag, architecture: "tiny_v1", file: "tiny_v1.pth", naming: "timm",
            preprocessing: [:], inputSize: 64)
        var catalog = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
                as? [String: Any])
        var entries = try #require(catalog["entries"] as? [[String: Any]])
        var resource = try #require((entries[0]["files"] as? [[String: Any]])?.first)
        resource["name"] = "tree10.pth"
        resource["naming"] = "semantic-tree"
        resource["url"] = "https://example.invalid/tree10.pth"
        entries[0]["resources"] = [resource]
        catalog["entries"] = entries
        try JSONSerialization.data(withJSONObject: catalog).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("fetch --convert embeds the fetched tree; when the tree cannot be fetched, a note and a .tw without it")
    func fetchConvertEmbedsTheTree() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let weights = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("tiny_v1.pth"))))
        let tree = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("semantic/tree10.pth"))))
        server.set(ZooCLI.route("test/test.tree", "tiny_v1.pth"), .init(body: weights))
        server.set(ZooCLI.route("test/test.tree", "tree10.pth"), .init(body: tree))
        server.set(ZooCLI.route("test/test.notree", "tiny_v1.pth"), .init(body: weights))
        let cache = FixturePaths.temporaryDirectory("zoo-tree")
        let mirror = "http://127.0.0.1:\(server.port)"

        let run = try ZooCLI.run([
            "fetch", "test.tree", "--catalog", try Self.catalog(tag: "test.tree"), "--cache", cache,
            "--mirror", mirror, "--convert"
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("semantic tree embedded"))
        let model = try TWModel.open(path: ZooCLI.cached(cache, "test/test.tree", "tiny_v1.tw"), verifyChecksums: true)
        #expect(
            model.metadata.semanticTree == (try SemanticTreeFile.read(path: FixturePaths.tiny("semantic/tree10.pth"))))
        #expect(FileManager.default.fileExists(atPath: ZooCLI.cached(cache, "test/test.tree", "tree10.pth")))

        let missing = try ZooCLI.run([
            "fetch", "test.notree", "--catalog", try Self.catalog(tag: "test.notree"), "--cache",
            cache, "--mirror", mirror, "--convert"
        ])
        #expect(missing.status == 0, "\(missing.stderr)")
        #expect(missing.stderr.contains("tree10.pth was not fetched"), "\(missing.stderr)")
        #expect(
            try TWModel.open(path: ZooCLI.cached(cache, "test/test.notree", "tiny_v1.tw")).metadata.semanticTree == nil)
    }
}
