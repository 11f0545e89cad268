import Foundation
import Testing
import TestSupport

/// `tresnet-validate --shard K/N` and `--merge`: the shards cover the folder once, and the merged report has the
/// exact totals of one run (the generator's PyTorch counts).
@Suite("tresnet-validate --shard / --merge", .serialized)
struct ShardMergeTests {
    @Test("three shards, merged: PyTorch's totals, every image once, the broken one listed")
    func shardsMergeToTheWholeRun() throws {
        let expected = try FolderExpectation.load()
        let policy = try #require(try ImageManifest.load().policies[expected.policy])
        let validate = try tool("tresnet-validate")
        let dir = FixturePaths.temporaryDirectory("shards")
        var reports: [String] = []
        var shardImages: [[String]] = []
        for k in 1...3 {
            let path = "\(dir)/shard\(k).json"
            let run = try runTool(
                validate,
                [
                    FixturePaths.tiny(expected.model), "--val-dir", FixturePaths.tiny("imagefolder"),
                    "--quiet", "--shard", "\(k)/3", "--report", path
                ] + policy.flags)
            #expect(run.status == 0 || run.status == 2, "\(run.stderr)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
                    as? [String: Any])
            let shard = try #require(report["shard"] as? [String: Any])
            #expect(shard["index"] as? Int == k && shard["count"] as? Int == 3)
            shardImages.append(
                ((report["per_image"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String }
                    + ((report["unreadable"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String })
            reports.append(path)
        }
        // deterministic: sample i goes to shard i mod 3 + 1; together they are the folder, each sample once
        let all = shardImages.flatMap { $0 }
        #expect(Set(all).count == all.count)
        #expect(Set(all) == Set(expected.per_image.map(\.path) + expected.unreadable.map(\.path)))

        let total = dir + "/total.json"
        let merged = try runTool(validate, ["--merge"] + reports + ["--report", total])
        #expect(merged.status == (expected.unreadable.isEmpty ? 0 : 2), "\(merged.stderr)")
        #expect(
            merged.stdout.contains(
                String(
                    format: "top-1 %.3f%% (%d/%d)  top-5 %.3f%% (%d/%d)", expected.top1,
                    expected.top1_correct, expected.images, expected.top5,
                    expected.top5_correct, expected.images)), "\(merged.stdout)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: total)))
                as? [String: Any])
        #expect(report["images"] as? Int == expected.images)
        #expect(report["top1_correct"] as? Int == expected.top1_correct)
        #expect(report["top5_correct"] as? Int == expected.top5_correct)
        #expect(
            ((report["unreadable"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String }
                == expected.unreadable.map(\.path))
        let perImage = try #require(report["per_image"] as? [[String: Any]])
        let byPath = Dictionary(uniqueKeysWithValues: perImage.map { ($0["path"] as? String ?? "", $0) })
        for image in expected.per_image {
            #expect(byPath[image.path]?["predicted"] as? [Int] == image.predicted, "\(image.path)")
        }
        #expect((report["merged_shards"] as? [Any])?.count == 3)

        // an incomplete or repeated set of shards is refused, naming what is missing
        let missing = try runTool(validate, ["--merge", reports[0], reports[2]])
        #expect(missing.status == 64 && missing.stderr.contains("missing 2/3"), "\(missing.stderr)")
        let twice = try runTool(validate, ["--merge", reports[0], reports[0], reports[1], reports[2]])
        #expect(twice.status == 64, "\(twice.stderr)")
        let notAShard = try runTool(validate, ["--merge", total])
        #expect(notAShard.status == 64, "\(notAShard.stderr)")
    }
}
