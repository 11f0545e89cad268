import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetONNX

/// Truncation and flip sweeps over a self-contained ONNX export (docs/ROBUSTNESS.md A.0 #1, #2; A.5 #66). Protobuf has
/// no header region, so the "header" here is the first 512 bytes (model fields and the first nodes) and the last
/// 256 bytes (graph inputs, outputs, opset import); the middle (initializer payloads) is sampled.
@Suite("Truncation and flip sweeps: ONNX")
struct ONNXSweepTests {
    @Test func variantExport() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("tiny_v1.variant.onnx"))))
        let folder = FixturePaths.temporaryDirectory("onnx-sweep")
        let side = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("tiny_v1.dynamo.onnx.data")))
        #expect(FileManager.default.createFile(atPath: folder + "/tiny_v1.dynamo.onnx.data", contents: side))
        let sweep = Sweep(
            name: "tiny_v1.variant.onnx", bytes: bytes,
            header: [0..<512, (bytes.count - 256)..<bytes.count]
        ) { store in
            try ONNXModel.read(store, path: folder + "/m.onnx").tensors
        }
        let cuts = sweep.truncations(dataSamples: 64)
        #expect(cuts.problems.isEmpty, "\(cuts.problems.prefix(5))")
        #expect(cuts.refused == cuts.cases, "\(cuts)")
        let flips = try sweep.flips(masks: [0xFF], dataSamples: 64)
        #expect(flips.problems.isEmpty, "\(flips.problems.prefix(5))")
        #expect(flips.refused > 0 && flips.loaded > 0, "\(flips)")
        print("sweep tiny_v1.variant.onnx: truncations \(cuts); flips \(flips)")
    }
}
