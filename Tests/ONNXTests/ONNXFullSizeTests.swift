import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetModel
import TResNetONNX
import TResNetRuntime

/// Full-size tresnet_m exported both ways (`python Fixtures/gen_onnx.py --full`, git-ignored); skipped when absent.
struct ONNXFullSizeTests {
    static let present = FixturePaths.full("tresnet_m.reference.npz") != nil

    /// The logits row of the parity report (default tolerance, docs/PARITY.md) and the whole report.
    func logits(_ model: ONNXModel) throws -> (TapComparison, ParityReport) {
        let reference = try References.read(try #require(FixturePaths.full("tresnet_m.reference.npz")))
        let network = try TResNetNetwork(configuration: model.configuration, tensor: { model.tensors[$0] })
        let report = try ParityReport.run(network, reference: reference, tolerance: .float32)
        return (try #require(report.rows.first { $0.name == "head.fc" }), report)
    }

    /// The logits pass the project's tolerance (|Δ| ≤ 1e-4 + 1e-4·|ref|); the max |Δ| is printed for the record.
    @Test(.enabled(if: present), arguments: ["tresnet_m.ts.onnx", "tresnet_m.ts_bn.onnx", "tresnet_m.dynamo.onnx"])
    func exportMatchesPyTorch(_ file: String) throws {
        let path = try #require(FixturePaths.full(file), "\(file) not generated")
        let model = try ONNXModel.read(path: path)
        #expect(model.configuration.variantName == "tresnet_m")
        #expect(model.configuration.numClasses == 1000)
        #expect(model.folded == !file.contains("_bn"))
        let (row, report) = try logits(model)
        print("\(file): max |ours − PyTorch| on the logits = \(row.maxAbsoluteError)\n\(report.render())")
        #expect(row.passed, "\(report.render())")

        // Written back as ONNX and re-read: the same logits.
        let folder =
            ProcessInfo.processInfo.environment["TRESNET_KEEP_ONNX"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FixturePaths.temporaryDirectory("onnx-full")
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let out = folder + "/" + file.replacingOccurrences(of: ".onnx", with: ".written.onnx")
        try ONNXWriter.write(
            try Binder.bind(model.configuration, lookup: { model.tensors[$0] }).tree, to: out, overwrite: true)
        let back = try ONNXModel.read(path: out)
        let (written, _) = try logits(back)
        print("\(out): max |ours − PyTorch| on the logits = \(written.maxAbsoluteError)")
        #expect(written.passed)
        if ProcessInfo.processInfo.environment["TRESNET_KEEP_ONNX"] == nil {
            try? FileManager.default.removeItem(atPath: out)
        }
    }
}
