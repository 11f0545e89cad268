import Foundation
import Testing
import TestSupport
import TResNetKit

/// `tresnet-validate --multi-label` and `tresnet-predict` on an ML-Decoder `.tw` (Fixtures/gen_mldecoder.py).
@Suite("multi-label CLIs", .serialized)
struct MultiLabelCLITests {
    struct Expected: Decodable {
        var mean_average_precision_percent: Double
        var average_precision_percent: [Double]
        var scores: [[Double]]
        var input_size: Int
    }

    static func expected() throws -> (Expected, files: [String]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("mldecoder/coco_tiny.json")))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try #require(root["images"] as? [[String: Any]]).compactMap { $0["file_name"] as? String }
        struct Wrapper: Decodable { var expected: Expected }
        return (try JSONDecoder().decode(Wrapper.self, from: data).expected, files)
    }

    /// mld_v1_full.pth converted with no options (its card: squash, no mean/std, threshold 0.75).
    static func model() throws -> String {
        let out = FixturePaths.temporaryDirectory("mlcli") + "/mld_v1_full.tw"
        _ = try Conversion.convert(
            source: FixturePaths.tiny("mldecoder/mld_v1_full.pth"), output: out, options: .init())
        return out
    }

    @Test("validate --multi-label reproduces the generator's mAP and per-class AP to 1e-6")
    func meanAveragePrecision() throws {
        let (e, files) = try Self.expected()
        let json = FixturePaths.temporaryDirectory("mlval") + "/map.json"
        let run = try runTool(
            try tool("tresnet-validate"),
            [
                try Self.model(), "--multi-label", "--annotations", FixturePaths.tiny("mldecoder/coco_tiny.json"),
                "--images", FixturePaths.tiny("images"), "--input-size", String(e.input_size), "--batch", "4",
                "--quiet",
                "--report", json
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
                as? [String: Any])
        let map = try #require(report["mean_average_precision_percent"] as? Double)
        #expect(abs(map - e.mean_average_precision_percent) <= 1e-6, "\(map) vs \(e.mean_average_precision_percent)")
        let classes = try #require(report["classes"] as? [[String: Any]])
        let ap = classes.compactMap { $0["average_precision_percent"] as? Double }
        #expect(ap.count == e.average_precision_percent.count)
        for (a, b) in zip(ap, e.average_precision_percent) { #expect(abs(a - b) <= 1e-6) }
        #expect(classes.compactMap { $0["name"] as? String } == ["person", "bicycle", "car", "motorcycle", "airplane"])
        #expect(report["images"] as? Int == files.count)
        // docs/JSON.md's units in the keys, as every other report
        #expect(report["elapsed_s"] is Double && report["images_per_s"] is Double)
        #expect(JSONStyleTests.badKeys(report).isEmpty, "\(JSONStyleTests.badKeys(report))")
        #expect(run.stdout.contains(String(format: "mAP %.4f%%", e.mean_average_precision_percent)))
    }

    @Test(
        "validate --multi-label: a category count other than the head's is bad input (exit 2) naming the file; missing flags are usage (64)"
    )
    func wrongCategoryCount() throws {
        let dir = FixturePaths.temporaryDirectory("mlbad")
        let bad = dir + "/instances.json"
        try #"{"images":[],"annotations":[],"categories":[{"id":1,"name":"person"}]}"#.write(
            toFile: bad, atomically: true, encoding: .utf8)
        let run = try runTool(
            try tool("tresnet-validate"),
            [
                try Self.model(), "--multi-label", "--annotations", bad, "--images", dir, "--quiet"
            ])
        #expect(run.status == 2, "\(run.status) \(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(run.stderr.contains("instances.json") && run.stderr.contains("1 categories"))
        let missing = try runTool(try tool("tresnet-validate"), [try Self.model(), "--multi-label", "--quiet"])
        #expect(missing.status == 64)
    }

    @Test("predict --multi-label on a plain head (an ASL-style checkpoint): sigmoid of PyTorch's logits")
    func multiLabelFlagOnALinearHead() throws {
        let records = try ImageManifest.load()
        let policy = try #require(records.policies[records.model_policy])
        let picked = Array(records.images.prefix(2))
        let run = try runTool(
            try tool("tresnet-predict"),
            [FixturePaths.tiny("tiny_v1.pth")]
                + picked.map { ImageManifest.folder + "/" + $0.file } + policy.flags
                + ["--multi-label", "--threshold", "0.5", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        for (row, record) in zip(rows, picked) {
            let scores = try #require(row["scores"] as? [Double])
            let expected = record.tiny_v1.logits.map { 1 / (1 + exp(-$0)) }
            #expect(failingElements(scores.map(Float.init), expected.map(Float.init), atol: 1e-5, rtol: 1e-5) == 0)
            let labels = try #require(row["labels"] as? [[String: Any]])
            #expect(
                labels.compactMap { $0["index"] as? Int }
                    == Array(record.tiny_v1.top5.filter { expected[$0] > 0.5 }.prefix(5)))
        }
        // --report writes the same JSON as --json (docs/JSON.md), also for multi-label predictions
        let report = FixturePaths.temporaryDirectory("mlreport") + "/predict.json"
        let reported = try runTool(
            try tool("tresnet-predict"),
            [FixturePaths.tiny("tiny_v1.pth")]
                + picked.map { ImageManifest.folder + "/" + $0.file } + policy.flags
                + ["--multi-label", "--threshold", "0.5", "--report", report, "--force"])
        #expect(reported.status == 0, "\(reported.stderr)")
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        #expect((written as? NSArray) == (rows as NSArray))
        // without the flag the same file is single-label (softmax top-5)
        let plain = try runTool(
            try tool("tresnet-predict"),
            [
                FixturePaths.tiny("tiny_v1.pth"),
                ImageManifest.folder + "/" + picked[0].file
            ] + policy.flags)
        #expect(plain.status == 0 && !plain.stdout.contains("multi-label"))
    }

    @Test("predict on an ML-Decoder .tw: sigmoid scores as PyTorch's, labels above the threshold within --top")
    func predict() throws {
        let (e, files) = try Self.expected()
        let model = try Self.model()
        let paths = files.prefix(3).map { FixturePaths.tiny("images/" + $0) }
        let run = try runTool(
            try tool("tresnet-predict"), [model] + paths + ["--input-size", String(e.input_size), "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 3)
        for (i, row) in rows.enumerated() {
            let scores = try #require(row["scores"] as? [Double])
            #expect(failingElements(scores.map(Float.init), e.scores[i].map(Float.init), atol: 1e-5, rtol: 1e-5) == 0)
            #expect(row["threshold"] as? Double == 0.75)
            let labels = try #require(row["labels"] as? [[String: Any]])
            #expect(labels.count == scores.filter { $0 > 0.75 }.prefix(5).count)
        }
        // a lower threshold, one class at most: the best class of each image, named
        let low = try runTool(
            try tool("tresnet-predict"),
            [
                model, paths[0], "--input-size", String(e.input_size),
                "--threshold", "0", "--top", "1"
            ])
        #expect(low.status == 0, "\(low.stderr)")
        let best = e.scores[0].indices.max { e.scores[0][$0] < e.scores[0][$1] }!
        let names = ["person", "bicycle", "car", "motorcycle", "airplane"]
        #expect(low.stdout.contains("\(names[best]) (\(best))"), "\(low.stdout)")
        #expect(low.stdout.split(separator: "\n").count == 2)
    }
}
