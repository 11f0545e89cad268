import Foundation
import Testing
import TestSupport

@Suite("tresnet-inspect", .serialized)
struct InspectCLITests {
    @Test("lists a fixture's tensors as JSON matching the manifest")
    func inspectJSON() throws {
        let tool = try #require(builtTool("tresnet-inspect"), "build the tresnet-inspect product first")
        let manifest = try FixtureManifest.load()
        let record = try #require(manifest.files["tiny_v1_wrapped.pth"])
        let run = try runTool(tool, [FixturePaths.tiny("tiny_v1_wrapped.pth"), "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(json["container"] as? String == record.container)
        #expect(json["wrapper"] as? String == record.wrapper)
        #expect(json["stripped_prefix"] as? String == record.prefix)
        let rows = try #require(json["tensors"] as? [[String: Any]])
        let expected = try #require(record.tensors)
        #expect(rows.map { $0["name"] as? String ?? "" } == expected.map(\.name))
        #expect(rows.map { $0["shape"] as? [Int] ?? [] } == expected.map(\.shape))
        let elements = expected.filter { !$0.name.hasSuffix("num_batches_tracked") }
            .reduce(0) { $0 + $1.shape.reduce(1, *) }
        let parameters = expected.filter { !$0.name.hasSuffix("num_batches_tracked") && !$0.name.contains("running_") }
            .reduce(0) { $0 + $1.shape.reduce(1, *) }
        #expect(json["elements"] as? Int == elements)
        #expect(json["parameters"] as? Int == parameters)
        let entries = try #require(json["non_tensor_entries"] as? [[String: Any]])
        #expect(entries.map { $0["name"] as? String ?? "" } == record.non_tensor_entries)
    }

    @Test("text output names the container and tensor count")
    func inspectText() throws {
        let tool = try #require(builtTool("tresnet-inspect"))
        let run = try runTool(tool, [FixturePaths.tiny("dtypes_legacy.pth")])
        #expect(run.status == 0)
        #expect(run.stdout.contains("container:  pytorch-legacy"))
        #expect(run.stdout.contains("tensors:    15"))
    }

    @Test("a hostile file: exit 2, one line on stderr naming the global, nothing run")
    func inspectHostile() throws {
        let tool = try #require(builtTool("tresnet-inspect"))
        let marker = "/tmp/tresnet-kit-pwned"
        try? FileManager.default.removeItem(atPath: marker)
        let run = try runTool(tool, [FixturePaths.tiny("hostile_reduce.pth")])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(run.stderr.hasPrefix("tresnet-inspect: "))
        #expect(run.stderr.contains("'posix.system'"))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("full-size tresnet_m (when generated): 434 tensors, timm's 31,389,032 parameters")
    func fullSize() throws {
        guard let path = FixturePaths.full("tresnet_m.pth") else { return }
        let tool = try #require(builtTool("tresnet-inspect"))
        let run = try runTool(tool, [path, "--json"])  // its time is measured by `make bench` (docs/BENCHMARKS.md)
        #expect(run.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(json["tensor_count"] as? Int == 434)
        #expect(json["parameters"] as? Int == 31_389_032)
    }

    @Test("--key takes the state dict from the named entry; a bad key is one line, exit 2")
    func inspectKey() throws {
        let tool = try #require(builtTool("tresnet-inspect"))
        let path = FixturePaths.tiny("wrapper_ema.pth")
        let run = try runTool(tool, [path, "--key", "state_dict", "--json"])
        #expect(run.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(json["wrapper"] as? String == "state_dict")
        #expect(json["stripped_prefix"] is NSNull)
        let bad = try runTool(tool, [path, "--key", "nope"])
        #expect(bad.status == 2)
        #expect(bad.stderr.split(separator: "\n").count == 1)
        #expect(bad.stderr.contains("'nope'"))
    }

    @Test("a missing file: exit 1, one line")
    func inspectMissing() throws {
        let tool = try #require(builtTool("tresnet-inspect"))
        let run = try runTool(tool, ["/nonexistent/x.pth"])
        #expect(run.status == 1)
        #expect(run.stderr.split(separator: "\n").count == 1)
    }
}
