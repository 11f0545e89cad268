import Foundation
import Testing
import TestSupport
import TResNetKit

@Suite("tresnet-validate", .serialized)
struct ValidateCLITests {
    @Test("the tiny ImageFolder: the generator's PyTorch top-1/top-5, the corrupt file listed")
    func imageFolder() throws {
        let expected = try FolderExpectation.load()
        let policy = try #require(try ImageManifest.load().policies[expected.policy])
        let json = FixturePaths.temporaryDirectory("validate") + "/report.json"
        let run = try runTool(
            try tool("tresnet-validate"),
            [
                FixturePaths.tiny(expected.model), "--val-dir", FixturePaths.tiny("imagefolder"), "--batch-size", "4",
                "--quiet",
                "--report", json
            ] + policy.flags)
        #expect(run.status == (expected.unreadable.isEmpty ? 0 : 2), "\(run.stderr)")  // unreadable: bad input
        #expect(
            run.stdout.contains(
                String(
                    format: "top-1 %.3f%% (%d/%d)  top-5 %.3f%% (%d/%d)", expected.top1,
                    expected.top1_correct, expected.images, expected.top5,
                    expected.top5_correct, expected.images)))
        for u in expected.unreadable { #expect(run.stdout.contains(u.path)) }
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
                as? [String: Any])
        #expect(report["images"] as? Int == expected.images)
        #expect(report["top1_correct"] as? Int == expected.top1_correct)
        #expect(report["top5_correct"] as? Int == expected.top5_correct)
        #expect(report["classes"] as? [String] == expected.classes)
        let unreadable = try #require(report["unreadable"] as? [[String: Any]])
        #expect(unreadable.compactMap { $0["path"] as? String } == expected.unreadable.map(\.path))
    }

    @Test("a .tw recording the policy needs no flags: same counts")
    func preprocessingFromTheWeights() throws {
        let expected = try FolderExpectation.load()
        let policy = try #require(try ImageManifest.load().policies[expected.policy])
        let run = try runTool(
            try tool("tresnet-validate"),
            [try tinyTW(recording: policy), "--val-dir", FixturePaths.tiny("imagefolder"), "--quiet"])
        #expect(run.status == (expected.unreadable.isEmpty ? 0 : 2), "\(run.stderr)")
        #expect(
            run.stdout.contains(
                String(
                    format: "top-1 %.3f%% (%d/%d)  top-5 %.3f%% (%d/%d)", expected.top1,
                    expected.top1_correct, expected.images, expected.top5,
                    expected.top5_correct, expected.images)))
        // and an override still wins: at 32 pixels the counts are not asserted, only that the override was applied
        let small = try runTool(
            try tool("tresnet-validate"),
            [
                try tinyTW(recording: policy), "--val-dir",
                FixturePaths.tiny("imagefolder"), "--quiet", "--img-size", "32"
            ])
        #expect(small.status == (expected.unreadable.isEmpty ? 0 : 2))
        #expect(small.stderr.contains("preprocessing: input 32,"))
    }

    @Test("missing weights exit 1 with one line; a bad override is a usage error")
    func errors() throws {
        let validate = try tool("tresnet-validate")
        let missing = try runTool(validate, ["/nonexistent/w.pth", "--val-dir", FixturePaths.tiny("imagefolder")])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("tresnet-validate: ") && missing.stderr.split(separator: "\n").count == 1)
        let bad = try runTool(
            validate,
            [
                FixturePaths.tiny("tiny_v1.pth"), "--val-dir", FixturePaths.tiny("imagefolder"),
                "--crop-mode", "zoom"
            ])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--crop-mode"))
    }
}
