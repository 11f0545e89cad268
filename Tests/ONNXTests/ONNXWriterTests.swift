import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetModel
import TResNetONNX
import TResNetRuntime

/// `ONNXWriter` output read back by our own reader: same configuration, same tensors, same logits.
struct ONNXWriterTests {
    /// Set TRESNET_KEEP_ONNX=<folder> to keep the written files (for scripts/check_onnx_export.py).
    static func outputFolder() -> String {
        if let keep = ProcessInfo.processInfo.environment["TRESNET_KEEP_ONNX"], !keep.isEmpty {
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            return keep
        }
        return FixturePaths.temporaryDirectory("onnx-writer")
    }

    /// Written from an unfolded source (BN folded by the writer) and from folded ones (tensors passed through).
    @Test(arguments: ["tiny_v1.ts_bn.onnx", "tiny_v1.ts.onnx", "tiny_v2.dynamo.onnx"])
    func writtenModelRereadsWithParity(_ source: String) throws {
        let model = try ONNXModel.read(path: FixturePaths.tiny(source))
        let path = Self.outputFolder() + "/" + source.replacingOccurrences(of: ".onnx", with: ".written.onnx")
        try ONNXWriter.write(
            try Binder.bind(model.configuration, lookup: { model.tensors[$0] }).tree, to: path, overwrite: true)
        let back = try ONNXModel.read(path: path)
        #expect(back.configuration == model.configuration)
        #expect(back.folded)
        #expect(back.summary.opset == ONNXWriter.opset)
        #expect(back.summary.externalDataFiles.isEmpty)
        if model.folded {
            // Folded tensors go through the writer untouched: the re-read file holds the same bytes.
            #expect(back.tensors.names.sorted() == model.tensors.names.sorted())
            for (name, t) in model.tensors.entries {
                let u = try #require(back.tensors[name], "\(name)")
                #expect(u.shape == t.shape && u.data.toArray() == t.data.toArray(), "\(name)")
            }
        }
        let reference = source.hasPrefix("tiny_v1") ? "tiny_v1.reference.npz" : "tiny_v2.reference.npz"
        let network = try TResNetNetwork(configuration: back.configuration, tensor: { back.tensors[$0] })
        let report = try ParityReport.run(
            network, reference: try References.read(FixturePaths.tiny(reference)),
            tolerance: .float32)
        #expect(report.passed, "\(source) → written:\n\(report.render())")
    }

    @Test func refusesAnExistingFileWithoutOverwrite() throws {
        let model = try ONNXModel.read(path: FixturePaths.tiny("tiny_v1.ts.onnx"))
        let path = FixturePaths.temporaryDirectory("onnx-writer") + "/exists.onnx"
        try writeFileAtomically(path, [1, 2, 3])
        #expect(throws: TResNetError.self) {
            try ONNXWriter.write(
                try Binder.bind(model.configuration, lookup: { model.tensors[$0] }).tree, to: path, overwrite: false)
        }
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
    }

    @Test func missingTensorIsNamed() throws {
        let model = try ONNXModel.read(path: FixturePaths.tiny("tiny_v1.ts.onnx"))
        let error = try #require(throws: TResNetError.self) {
            _ = try ONNXWriter.serialize(
                try Binder.bind(model.configuration) { $0 == "body.layer2.0.se.fc1.bias" ? nil : model.tensors[$0] }
                    .tree)
        }
        #expect(error.code == .binding)
        #expect(error.description.contains("body.layer2.0.se.fc1.bias"))
    }
}
