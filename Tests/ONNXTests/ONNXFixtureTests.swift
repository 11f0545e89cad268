import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetModel
import TResNetONNX
import TResNetRuntime

/// The tiny ONNX exports made by Fixtures/gen_onnx.py (both torch exporters) read by graph structure and run
/// with the PyTorch reference activations of the model they were exported from.
struct ONNXFixtureTests {
    struct Export: Decodable {
        let exporter: String
        let opset: Int
        let folded: Bool
        let reference: String
        let external_data: Bool
    }

    static let exports: [String: Export] = {
        guard let data = FileManager.default.contents(atPath: FixturePaths.tiny("onnx.json")),
            let table = try? JSONDecoder().decode([String: Export].self, from: data)
        else { return [:] }
        return table
    }()

    static let files = [
        "tiny_v1.ts.onnx", "tiny_v1.ts_bn.onnx", "tiny_v1.dynamo.onnx",
        "tiny_v2.dynamo.onnx", "tiny_v1.variant.onnx"
    ]

    @Test(arguments: files)
    func readsAndPassesParity(_ file: String) throws {
        let export = try #require(Self.exports[file], "onnx.json lists \(file)")
        let model = try ONNXModel.read(path: FixturePaths.tiny(file))
        let pth = file.hasPrefix("tiny_v1") ? "tiny_v1.pth" : "tiny_v2.pth"
        let arch = try #require(try FixtureManifest.load().files[pth]?.arch)
        #expect(model.configuration.layout.rawValue == arch.layout)
        #expect(model.configuration.layers == arch.layers)
        #expect(model.configuration.planes == arch.planes)
        #expect(model.configuration.numClasses == arch.num_classes)
        #expect(model.folded == export.folded)
        #expect(model.summary.opset == Int64(export.opset))
        #expect(model.summary.externalDataFiles.isEmpty == !export.external_data)

        let network = try TResNetNetwork(configuration: model.configuration, tensor: { model.tensors[$0] })
        let reference = try References.read(FixturePaths.tiny(export.reference))
        let report = try ParityReport.run(network, reference: reference, tolerance: .float32)
        #expect(report.passed, "\(file):\n\(report.render())")
        #expect(report.rows.contains { $0.name == "head.fc" })
    }

    /// Where the export kept values as PyTorch had them, they are bound to the right canonical names: every
    /// tensor of the unfolded TorchScript export, and the SE and head tensors of the folded ones, match the
    /// manifest's sampled values of the state dict exactly.
    @Test(arguments: files)
    func unfoldedValuesMatchTheStateDict(_ file: String) throws {
        let model = try ONNXModel.read(path: FixturePaths.tiny(file))
        let pth = file.hasPrefix("tiny_v1") ? "tiny_v1.pth" : "tiny_v2.pth"
        let records = try #require(try FixtureManifest.load().files[pth]?.tensors)
        var compared = 0
        for record in records {
            guard let t = model.tensors[record.name] else {
                let expectedAbsent =
                    record.name.hasSuffix("num_batches_tracked")
                    || (model.folded && record.name.contains(".bn."))
                #expect(expectedAbsent, "\(file): \(record.name) missing")
                continue
            }
            let unchangedByFolding = record.name.contains(".se.") || record.name.hasPrefix("head.")
            guard !model.folded || unchangedByFolding else { continue }
            #expect(t.shape == record.shape, "\(record.name)")
            for sample in record.samples {
                #expect(t.scalar(at: Int(sample[0])) == sample[1], "\(file): \(record.name)[\(Int(sample[0]))]")
            }
            compared += 1
        }
        #expect(compared >= (model.folded ? 5 : records.count / 2))
        if !model.folded {
            #expect(model.tensors.count == records.filter { !$0.name.hasSuffix("num_batches_tracked") }.count)
        }
    }
}

/// The reader's own folding: BatchNormalization with an ε other than 1e-5 (here 1e-5 plus one float ulp, patched
/// into the unfolded TorchScript export) cannot be given as `.bn.*` (the runtime assumes 1e-5), so the reader
/// folds it into `.conv.weight` + `.conv.bias` — and the result still matches PyTorch on every tap.
struct ONNXReaderFoldingTests {
    @Test(arguments: [true, false])
    func foldsBatchNormWithAnotherEpsilon(_ all: Bool) throws {
        let eps = Float(1e-5)
        let old: [UInt8] =
            [0x0a, 0x07] + Array("epsilon".utf8) + [0x15]
            + withUnsafeBytes(of: eps.bitPattern.littleEndian) { Array($0) }
        var new = old
        new[new.count - 4] &+= 1  // one ulp up
        var data = try #require(FileManager.default.contents(atPath: FixturePaths.tiny("tiny_v1.ts_bn.onnx"))).map {
            $0
        }
        var patched = 0
        var i = 0
        while i + old.count <= data.count {
            if Array(data[i..<(i + old.count)]) == old {
                data.replaceSubrange(i..<(i + old.count), with: new)
                patched += 1
                if !all { break }
            }
            i += 1
        }
        #expect(patched == (all ? 19 : 1))
        let path = FixturePaths.temporaryDirectory("onnx-eps") + "/m.onnx"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(data)))
        let model = try ONNXModel.read(path: path)
        #expect(model.folded)
        #expect(model.tensors["body.conv1.conv.bias"] != nil && model.tensors["body.conv1.bn.weight"] == nil)
        #expect(model.tensors.names.contains { $0.contains(".bn.") } == !all)
        let network = try TResNetNetwork(configuration: model.configuration, tensor: { model.tensors[$0] })
        let report = try ParityReport.run(
            network, reference: try References.read(FixturePaths.tiny("tiny_v1.reference.npz")),
            tolerance: .float32)
        #expect(report.passed, "\(report.render())")
    }
}
