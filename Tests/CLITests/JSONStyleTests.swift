import Foundation
import Testing
import TestSupport

/// One JSON style for every tool (docs/JSON.md): `--json` prints one JSON document on stdout, keys in
/// snake_case with the unit in the key, and each report carries the keys its schema documents.
@Suite("JSON style of every tool (docs/JSON.md)", .serialized)
struct JSONStyleTests {
    static let weights = FixturePaths.tiny("tiny_v1.pth")

    /// Keys that are not snake_case, with their path; maps whose keys are data (tensor metadata, op counts,
    /// catalog sources) are not checked.
    static func badKeys(_ value: Any, path: String = "") -> [String] {
        if let object = value as? [String: Any] {
            return object.flatMap { key, child -> [String] in
                let here = path + "." + key
                let own = key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" } ? [] : [here]
                if ["metadata", "op_counts", "sources"].contains(key) { return own }
                return own + badKeys(child, path: here)
            }
        }
        if let array = value as? [Any] { return array.flatMap { badKeys($0, path: path + "[]") } }
        return []
    }

    func json(_ tool: String, _ arguments: [String], status: Int32 = 0) throws -> [String: Any] {
        let run = try runTool(try CLITests.tool(tool), arguments + ["--json"])
        #expect(run.status == status, "\(run.stderr)")
        let value = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
        #expect(Self.badKeys(value).isEmpty, "\(tool): keys not in snake_case: \(Self.badKeys(value))")
        return try #require(value as? [String: Any], "\(tool): a JSON object")
    }

    @Test func inspect() throws {
        let r = try json("tresnet-inspect", [Self.weights])
        for key in [
            "file", "container", "tensor_count", "parameters", "elements", "bytes", "tensors",
            "non_tensor_entries"
        ] {
            #expect(r[key] != nil, "\(key)")
        }
    }

    @Test func predict() throws {
        let r = try json(
            "tresnet-predict",
            [
                Self.weights, FixturePaths.tiny("images/baseline_97x75.jpg"),
                "--img-size", "64"
            ])
        let p = try #require((r["predictions"] as? [[String: Any]])?.first)
        let top = try #require(p["top"] as? [[String: Any]])
        #expect(
            top.count == 5
                && top.allSatisfy { $0["index"] is Int && $0["probability"] is Double && $0["logit"] is Double })
        #expect(r["weights"] as? String == Self.weights)
        #expect((r["notes"] as? [Any])?.isEmpty == true)
    }

    @Test func verify() throws {
        let r = try json("tresnet-verify", [Self.weights, "--reference", FixturePaths.tiny("tiny_v1.reference.npz")])
        #expect(r["passed"] as? Bool == true)
        let report = try #require(r["report"] as? [String: Any])
        let row = try #require((report["rows"] as? [[String: Any]])?.first)
        for key in ["max_abs_error", "mean_abs_error", "scaled_error", "cosine_similarity", "reference_rms"] {
            #expect(row[key] is Double, "\(key)")
        }
        let topK = try #require(report["top_k"] as? [String: Any])
        #expect(topK["top1_agree"] as? Int == 2 && topK["images"] as? Int == 2)
    }

    @Test func validate() throws {
        let r = try json(
            "tresnet-validate",
            [
                Self.weights, "--val-dir", FixturePaths.tiny("imagefolder"),
                "--img-size", "64", "--quiet"
            ], status: 2)  // one broken image
        for key in ["images_per_s", "elapsed_s", "top1_correct", "top5_correct", "batch_size", "per_image"] {
            #expect(r[key] != nil, "\(key)")
        }
        let p = try #require(r["preprocessing"] as? [String: Any])
        #expect(
            p["input_size"] as? [Int] == [3, 64, 64] && p["crop_pct"] is Double && p["crop_mode"] as? String == "center"
        )
    }

    @Test func convert() throws {
        let out = FixturePaths.temporaryDirectory("json-convert") + "/m.tw"
        let r = try json("tresnet-convert", [FixturePaths.tiny("tiny_v1_miil.pth"), out])
        for key in [
            "source", "output", "source_format", "dialect", "dialect_detected", "architecture", "output_kind", "dtype",
            "tensors", "parameters", "transformed_weights", "bytes_in", "bytes_out", "elapsed_s", "dry_run", "renamed",
            "reading"
        ] {
            #expect(r[key] != nil, "\(key)")
        }
        #expect(r["output"] as? String == out && r["dialect"] as? String == "miil" && r["dry_run"] as? Bool == false)
        let a = try #require(r["architecture"] as? [String: Any])
        #expect(a["variant"] as? String == "custom" && a["forced"] as? Bool == false && a["explanation"] is [String])
        #expect((r["renamed"] as? [[String: Any]])?.first?["canonical"] is String)
        #expect(FileManager.default.fileExists(atPath: out))
        // a failure in --json mode: the JSON error object on stdout, the line on stderr, nothing written
        let refused = try runTool(
            try CLITests.tool("tresnet-convert"), [FixturePaths.tiny("dtypes.pth"), out + ".2.tw", "--json"])
        #expect(refused.status == 2)
        let e = try #require(
            try JSONSerialization.jsonObject(with: Data(refused.stdout.utf8)) as? [String: [String: Any]])
        #expect(e["error"]?["exit_code"] as? Int == 2 && refused.stderr.hasPrefix("tresnet-convert: "))
        #expect(!FileManager.default.fileExists(atPath: out + ".2.tw"))
    }

    @Test func bench() throws {
        let r = try json("tresnet-bench", [Self.weights, "--img-size", "64", "--iterations", "1", "--warmup", "0"])
        for key in [
            "median_ms", "min_ms", "latencies_ms", "load_ms", "compile_ms", "images_per_s",
            "achieved_gflop_per_s", "gflop_per_image", "peak_rss_bytes", "batch_size"
        ] {
            #expect(r[key] != nil, "\(key)")
        }
    }

    @Test func zoo() throws {
        let run = try runTool(try tool("tresnet-zoo"), ["list", "--json"])
        #expect(run.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(Self.badKeys(rows).isEmpty, "\(Self.badKeys(rows))")
        #expect(rows.contains { $0["semantic_top1"] is Double })
        _ = try json("tresnet-zoo", ["show", "tresnet_m.miil_in21k"])
    }
}
