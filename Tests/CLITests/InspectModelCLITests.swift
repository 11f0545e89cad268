import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetKit
import TResNetModel

@Suite("tresnet-inspect on model files", .serialized)
struct InspectModelCLITests {
    @Test("a .tw made by tresnet-convert: its tensors and typed metadata (configuration, preprocessing, provenance)")
    func tw() throws {
        let manifest = try FixtureManifest.load()
        let record = try #require(manifest.files["tiny_v1_miil.pth"])
        let arch = try #require(record.arch)
        let tw = FixturePaths.temporaryDirectory("inspect") + "/m.tw"
        let convert = try runTool(try tool("tresnet-convert"), [FixturePaths.tiny("tiny_v1_miil.pth"), tw])
        try #require(convert.status == 0, "\(convert.stderr)")

        let run = try runTool(try tool("tresnet-inspect"), [tw, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(json["container"] as? String == "tw")
        // the .tw holds the canonical (timm) names: those of tiny_v1.pth (timm's own save), minus the counters
        let names = Set(try #require(json["tensors"] as? [[String: Any]]).compactMap { $0["name"] as? String })
        let expectedNames = try Set(#require(manifest.files["tiny_v1.pth"]?.tensors).map(\.name))
        #expect(names == expectedNames.filter { !$0.hasSuffix("num_batches_tracked") })
        let model = try #require(json["model"] as? [String: Any])
        #expect(model["num_classes"] as? Int == arch.num_classes)
        #expect((model["configuration"] as? String)?.contains("layers \(arch.layers)") == true)
        #expect(model["label_set"] as? String == "")  // 10 classes: no known label set
        let p = try #require(model["preprocessing"] as? [String: Any])
        let d = PreprocessingConfig.tresnetDefault
        #expect(p["input_size"] as? [Int] == d.timmInputSize && p["crop_pct"] as? Double == d.cropPct)
        #expect(
            p["crop_mode"] as? String == d.cropMode.rawValue
                && p["interpolation"] as? String == d.interpolation.rawValue)
        let s = try #require(model["provenance"] as? [String: Any])
        #expect(s["file"] as? String == "tiny_v1_miil.pth")
        #expect(s["sha256"] as? String == record.sha256)
        #expect(s["dialect"] as? String == "miil")
        #expect(s["bn_weight_transform"] as? String == "abs_plus_eps")
        #expect(json["onnx"] is NSNull)

        let text = try runTool(try tool("tresnet-inspect"), [tw])
        #expect(text.status == 0)
        #expect(text.stdout.contains("container:  tw"))
        #expect(text.stdout.contains("model:\n  configuration: "))
        #expect(text.stdout.contains("sha256 \(record.sha256)"))
    }

    struct ONNXRecord: Decodable {
        let opset: Int
        let folded: Bool
    }

    @Test(
        "ONNX exports: opset and folding as the generator recorded them",
        arguments: ["tiny_v1.ts.onnx", "tiny_v1.ts_bn.onnx"])
    func onnx(_ file: String) throws {
        let records = try JSONDecoder().decode(
            [String: ONNXRecord].self,
            from: Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("onnx.json"))))
        let record = try #require(records[file])
        let run = try runTool(try tool("tresnet-inspect"), [FixturePaths.tiny(file), "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(json["container"] as? String == "onnx")
        let onnx = try #require(json["onnx"] as? [String: Any])
        #expect(onnx["opset"] as? Int == record.opset)
        #expect(onnx["folded"] as? Bool == record.folded)
        #expect((onnx["producer"] as? String)?.contains("pytorch") == true)
        let names = try #require(json["tensors"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(names.contains("head.fc.weight"))
        #expect(names.contains { $0.hasSuffix(".bn.running_var") } == !record.folded)
        #expect(json["model"] is NSNull)

        let text = try runTool(try tool("tresnet-inspect"), [FixturePaths.tiny(file)])
        #expect(text.stdout.contains("onnx:\n  opset:    \(record.opset)"))
    }
}
