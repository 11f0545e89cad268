import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetModel
import TResNetONNX
import TResNetRuntime

/// Dynamic-shape exports of the micro TResNet (Fixtures/gen_onnx_dynamic.py): the space-to-depth reshapes and the
/// blur pads are computed from the input's size by shape subgraphs, which the reader evaluates symbolically. The
/// exports were made at batch 2, 64×64; the PyTorch reference is at batch 1, 32×32.
struct ONNXDynamicShapeTests {
    struct Export: Decodable {
        let exporter: String
        let opset: Int
        let batchnorm: String
        let folded: Bool
        let dynamic: [String]
        let export_input: [Int]
        let reference: String
    }

    static func table(_ path: String?) -> [String: Export] {
        guard let path, let data = FileManager.default.contents(atPath: path),
            let t = try? JSONDecoder().decode([String: Export].self, from: data)
        else { return [:] }
        return t
    }

    static let committed = table(FixturePaths.tiny("onnx_dynamic.json"))
    /// The whole matrix (opsets 11/13/17/20 × BN folded/kept/preserved × batch/batch+H+W, dynamo), git-ignored.
    static let matrix = table(FixturePaths.full("onnx_dynamic/onnx_dynamic.json"))

    static let files = [
        "micro.ts11_bn.dyn_bhw.onnx", "micro.ts13.dyn_bhw.onnx", "micro.ts17_bn.dyn_b.onnx",
        "micro.ts20.dyn_b.onnx"
    ]

    /// Reads, binds the micro configuration and passes parity on every tap at a batch size and image size the
    /// export was not made at.
    static func readAndCheck(_ path: String, _ export: Export) throws {
        let model = try ONNXModel.read(path: path)
        #expect(model.configuration.layout == .v1)
        #expect(model.configuration.layers == [1, 1, 1, 1])
        #expect(model.configuration.planes == 1)
        #expect(model.configuration.numClasses == 5)
        #expect(model.folded == export.folded, "\(path)")
        #expect(model.summary.opset == Int64(export.opset))
        let reference = try References.read(FixturePaths.tiny(export.reference))
        let input = try #require(reference["input"])
        #expect(input.shape[0] != export.export_input[0] && input.shape[2] != export.export_input[2])
        let network = try TResNetNetwork(configuration: model.configuration, tensor: { model.tensors[$0] })
        let report = try ParityReport.run(network, reference: reference, tolerance: .float32)
        #expect(report.passed, "\(path):\n\(report.render())")
        #expect(
            report.rows.map(\.name) == [
                "body.s2d", "body.conv1", "body.layer1", "body.layer2", "body.layer3",
                "body.layer4", "head.global_pool", "head.fc"
            ])
    }

    @Test(arguments: files)
    func committedExportReadsAndPassesParity(_ file: String) throws {
        let export = try #require(Self.committed[file], "onnx_dynamic.json lists \(file)")
        #expect(export.exporter == "torchscript")
        try Self.readAndCheck(FixturePaths.tiny(file), export)
    }

    @Test func committedExportsCoverBothDynamicKinds() {
        #expect(Set(Self.files.compactMap { Self.committed[$0]?.dynamic }) == [["batch"], ["batch", "height", "width"]])
        #expect(Set(Self.files.compactMap { Self.committed[$0]?.folded }) == [true, false])
        #expect(Set(Self.files.compactMap { Self.committed[$0]?.opset }) == [11, 13, 17, 20])
    }

    /// Every export of the generated matrix (skipped when `python Fixtures/gen_onnx_dynamic.py` has not run).
    @Test(.enabled(if: !matrix.isEmpty))
    func everyGeneratedExportReadsAndPassesParity() throws {
        let folder = try #require(FixturePaths.full("onnx_dynamic"))
        for (file, export) in Self.matrix.sorted(by: { $0.key < $1.key }) {
            try Self.readAndCheck(folder + "/" + file, export)
        }
        #expect(Self.matrix.count + Self.committed.count >= 26)
        #expect(Set(Self.matrix.values.map(\.opset)).isSuperset(of: [11, 13, 17, 20, 21]))
    }

    /// Full size (`python Fixtures/gen_onnx_dynamic.py --full`, git-ignored): tresnet_m exported with dynamic
    /// batch, height and width at batch 2, 256×256, checked against PyTorch at batch 1, 224×224.
    @Test(.enabled(if: FixturePaths.full("onnx_dynamic/tresnet_m.ts17.dyn_bhw.onnx") != nil))
    func fullSizeDynamicExportMatchesPyTorch() throws {
        let path = try #require(FixturePaths.full("onnx_dynamic/tresnet_m.ts17.dyn_bhw.onnx"))
        let model = try ONNXModel.read(path: path)
        #expect(model.configuration.variantName == "tresnet_m")
        let reference = try References.read(try #require(FixturePaths.full("onnx_dynamic/tresnet_m.dyn.reference.npz")))
        let network = try TResNetNetwork(configuration: model.configuration, tensor: { model.tensors[$0] })
        let report = try ParityReport.run(network, reference: reference, tolerance: .float32)
        let logits = try #require(report.rows.first { $0.name == "head.fc" })
        print(
            "tresnet_m.ts17.dyn_bhw.onnx: max |ours − PyTorch| on the logits = \(logits.maxAbsoluteError)\n\(report.render())"
        )
        #expect(logits.passed, "\(report.render())")
    }

    // MARK: Wrong shape computations are refused, naming the node

    func patched(_ file: String, _ transform: (inout [UInt8]) throws -> Void) throws -> String {
        var bytes = try #require(FileManager.default.contents(atPath: FixturePaths.tiny(file))).map { $0 }
        try transform(&bytes)
        let path = FixturePaths.temporaryDirectory("onnx-dyn") + "/" + file
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
        guard pattern.count <= bytes.count else { return nil }
        var i = start
        while i + pattern.count <= bytes.count {
            if bytes[i] == pattern[0], Array(bytes[i..<(i + pattern.count)]) == pattern { return i }
            i += 1
        }
        return nil
    }

    func refusal(_ path: String) throws -> TResNetError {
        do {
            _ = try ONNXModel.read(path: path)
        } catch let e as TResNetError {
            return e
        }
        Issue.record("\(path) was read")
        throw CancellationError()
    }

    /// The exporter's `/body/s2d/Constant_4` (the 4 in `H // 4`) set to 2: the first space-to-depth Reshape now
    /// computes `[N, C, H/2, 4, W/4, 4]`, and is refused by name.
    @Test(arguments: files)
    func aWrongDivisorIsRefusedNamingTheReshape(_ file: String) throws {
        let path = try patched(file) { bytes in
            // The Constant node's output name comes first in the node, then its int64 scalar as raw_data.
            let at = try #require(find(Array("/body/s2d/Constant_4_output_0".utf8), in: bytes))
            let raw: [UInt8] = [0x4a, 0x08, 4, 0, 0, 0, 0, 0, 0, 0]
            let value = try #require(find(raw, in: bytes, from: at))
            #expect(value - at < 200)
            bytes[value + 2] = 2
        }
        let e = try refusal(path)
        #expect(e.code == .unsupportedGraph)
        #expect(e.location?.description == "node '/body/s2d/Reshape'", "\(e)")
        #expect(e.message.contains("H/2") && e.message.contains("[N, C, H/4, 4, W/4, 4]"), "\(e)")
    }

    /// The block size 4 of the Concat (`/body/s2d/Constant_6` … the literal 4 between H/4 and W/4) set to 3.
    @Test func aWrongBlockSizeIsRefusedNamingTheReshape() throws {
        let path = try patched("micro.ts20.dyn_b.onnx") { bytes in
            let at = try #require(find(Array("/body/s2d/Constant_6_output_0".utf8), in: bytes))
            let raw: [UInt8] = [0x4a, 0x08, 4, 0, 0, 0, 0, 0, 0, 0]
            let value = try #require(find(raw, in: bytes, from: at))
            #expect(value - at < 200)
            bytes[value + 2] = 3
        }
        let e = try refusal(path)
        #expect(e.location?.description == "node '/body/s2d/Reshape'", "\(e)")
    }

    /// A shape op the evaluator does not know (`Div` respelled `Mod`) is a clear refusal naming that node.
    @Test(arguments: files)
    func anUnknownShapeOpIsRefusedNamingIt(_ file: String) throws {
        let path = try patched(file) { bytes in
            let op = try #require(find([0x22, 0x03] + Array("Div".utf8), in: bytes))
            bytes.replaceSubrange((op + 2)..<(op + 5), with: Array("Mod".utf8))
        }
        let e = try refusal(path)
        #expect(e.location?.description == "node '/body/s2d/Div'", "\(e)")
        #expect(e.message.contains("Mod") && e.message.contains("does not evaluate"), "\(e)")
    }

    /// The blur pool's computed pads changed (the `2` of `Mul(4, 2)` in the pad arithmetic set to 3): the pads
    /// become [0, 0, 0, 0, 1, 1, 1, 1, …] and the Pad is refused by name.
    @Test func wrongComputedPadsAreRefused() throws {
        let path = try patched("micro.ts11_bn.dyn_bhw.onnx") { bytes in
            let at = try #require(find(Array("/body/layer2/layer2.0/conv1/aa/Constant_2_output_0".utf8), in: bytes))
            let raw: [UInt8] = [0x4a, 0x08, 2, 0, 0, 0, 0, 0, 0, 0]
            let value = try #require(find(raw, in: bytes, from: at))
            #expect(value - at < 200)
            bytes[value + 2] = 3
        }
        let e = try refusal(path)
        #expect(e.location?.description == "node '/body/layer2/layer2.0/conv1/aa/Pad'", "\(e)")
        #expect(e.message.contains("pads"), "\(e)")
    }
}

/// Seeded random corruption of the dynamic export, aimed at its shape subgraphs (the first third of the node
/// list) as well as anywhere: every outcome is a model or a `TResNetError`, never a trap.
struct ONNXDynamicMutationTests {
    @Test func corruptedDynamicExportsAreRefusedOrRead() throws {
        let file = "micro.ts11_bn.dyn_bhw.onnx"
        let original = try #require(FileManager.default.contents(atPath: FixturePaths.tiny(file))).map { $0 }
        let path = FixturePaths.temporaryDirectory("onnx-dyn-mutation") + "/" + file
        var rng = SplitMix64(seed: 0xD1_5EED)
        var read = 0, refused = 0
        let nodesStart = try #require(
            (0..<original.count).first {
                original[$0..<min($0 + 9, original.count)].elementsEqual(Array("/body/s2d".utf8))
            })
        for _ in 0..<150 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: nodesStart..<min(nodesStart + 12_000, bytes.count), using: &rng)
                bytes[i] = UInt8.random(in: 0...255, using: &rng)
            }
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            do {
                _ = try ONNXModel.read(path: path)
                read += 1
            } catch is TResNetError {
                refused += 1
            }
        }
        #expect(read + refused == 150)
        #expect(refused > 0 && read > 0)
    }
}
