import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetCheckpoint
import TResNetCore
import TResNetFormat
import TResNetModel
import TResNetRuntime

/// ML-Decoder TResNets (Fixtures/gen_mldecoder.py): the MIIL-spelling checkpoints convert with no flags, every
/// tap matches PyTorch's, the `.tw` carries the head and the class names, and binding is strict.
@Suite("ML-Decoder heads against PyTorch")
struct MLDecoderTests {
    struct Expected: Decodable {
        var layout: String, layers: [Int], planes: Int, num_classes: Int, groups: Int, duplicate_factor: Int
        var embed: Int, feed_forward: Int, heads: Int, labels: [String]
    }

    static func manifest() throws -> [String: Expected] {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("mldecoder/manifest.json")))
        return try JSONDecoder().decode([String: Expected].self, from: data)
    }

    static func reference(_ name: String) throws -> [String: Tensor] {
        Dictionary(
            uniqueKeysWithValues: try NpzArchive.read(path: FixturePaths.tiny("mldecoder/\(name)")).map {
                ($0.name, $0.tensor)
            })
    }

    static func prepared(_ name: String) throws -> PreparedModel {
        let checkpoint = try CheckpointReader.read(path: FixturePaths.tiny("mldecoder/\(name).pth"))
        return try Conversion.prepare(checkpoint)  // no flags
    }

    static let fixtures = ["mld_v1_full", "mld_v2_grouped"]

    @Test("the head is inferred from the tensors", arguments: fixtures)
    func inferred(name: String) throws {
        let e = try #require(try Self.manifest()[name])
        let p = try Self.prepared(name)
        let c = p.bound.configuration
        #expect(p.dialect.id == "miil")
        #expect(c.layout.rawValue == e.layout && c.layers == e.layers && c.planes == e.planes)
        #expect(c.numClasses == e.num_classes)
        let d = try #require(c.mlDecoder)
        #expect(d.groups == e.groups && d.duplicateFactor == e.duplicate_factor && d.embedDim == e.embed)
        #expect(d.feedForwardDim == e.feed_forward && d.heads == e.heads && d.decoderLayers == 1)
        #expect(p.checkpoint.classNames == e.labels)
        #expect(p.bound.tree.taps.last == "head")
        #expect(Set(p.bound.tree.taps).isSubset(of: Set(p.bound.tree.modules.map(\.path))))
        // every tensor of the file is bound, none is left over
        #expect(p.bound.tensors.count == p.checkpoint.stateDict.count)
    }

    @Test("every tap passes against PyTorch", arguments: fixtures, [ConvolutionBackend.blas, .direct, .winograd])
    func everyTap(name: String, backend: ConvolutionBackend) throws {
        let reference = try Self.reference("\(name).reference.npz")
        let network = try TResNetNetwork(try Self.prepared(name).bound.tree, backend: backend)
        let report = try ParityReport.run(network, reference: reference, tolerance: .float32)
        #expect(
            report.rows.map(\.name) == [
                "body.s2d", "body.conv1", "body.layer1", "body.layer2", "body.layer3",
                "body.layer4", "head"
            ])
        #expect(report.passed, "\(name):\n\(report.render())")
        // the float64 logits: ours is as close to them as PyTorch's float32 is (both within the model budget)
        let (logits, _) = try network.forward(reference["input"]!)
        let truth = try reference["head.float64"]!.converted(to: .float32).floats()
        let ours = try logits.floats(), theirs = try reference["head"]!.floats()
        let worst = zip(ours, truth).map { abs($0 - $1) }.max()!
        let torchWorst = zip(theirs, truth).map { abs($0 - $1) }.max()!
        #expect(worst <= max(4 * torchWorst, 1e-5), "ours \(worst) vs PyTorch \(torchWorst) from float64")
    }

    /// The float64 oracle (`tresnet-verify --oracle`) runs the ML-Decoder head too: its logits equal PyTorch's
    /// float64 forward of the same model (the generator's `head.float64`) to float64's own precision, far below
    /// the float32 distance between PyTorch f32 and f64.
    @Test("the float64 oracle's logits equal PyTorch's float64 logits", arguments: fixtures)
    func oracleHead(name: String) throws {
        let reference = try Self.reference("\(name).reference.npz")
        let oracle = try Float64Forward(try Self.prepared(name).bound.tree)
        let taps = try oracle.forward(reference["input"]!)
        let ours = try #require(taps["head"]).values
        let t = try #require(reference["head.float64"])
        let truth = (0..<t.elementCount).compactMap { t.scalar(at: $0) }
        let f32 = try #require(reference["head"]).floats().map(Double.init)
        #expect(ours.count == truth.count && truth.count == f32.count)
        let worst = zip(ours, truth).map { abs($0 - $1) }.max()!
        let float32Distance = zip(f32, truth).map { abs($0 - $1) }.max()!
        let scale = truth.map(abs).max()!
        #expect(worst <= 1e-12 * max(scale, 1), "oracle \(worst) from PyTorch float64 (scale \(scale))")
        #expect(float32Distance > 1000 * worst, "f32 is \(float32Distance) away, the oracle \(worst)")
        // every body tap too: the f32 reference is within float32's reach of the oracle's
        let report = try ParityReport.run(
            try TResNetNetwork(try Self.prepared(name).bound.tree), reference: reference, tolerance: .float32,
            oracle: oracle)
        #expect(report.passed, "\(report.render())")
    }

    @Test("a batch of two gives each image its own logits", arguments: fixtures)
    func batch(name: String) throws {
        let reference = try Self.reference("\(name).reference.npz")
        let x = try reference["input"]!.floats()
        let network = try TResNetNetwork(try Self.prepared(name).bound.tree)
        let flipped = Tensor(shape: [1, 3, 64, 64], floats: x.reversed())
        let one = try network.forward(reference["input"]!).logits.floats()
        let other = try network.forward(flipped).logits.floats()
        let both = try network.forward(Tensor(shape: [2, 3, 64, 64], floats: x + x.reversed())).logits.floats()
        #expect(zip(both, one + other).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        #expect(one != other)
    }

    @Test("ONNX Runtime's logits of the PyTorch export agree with ours")
    func onnxRuntimeLogits() throws {
        let reference = try Self.reference("mld_v1_full.reference.npz")
        let ort = try Self.reference("mld_v1_full.ort.npz")["logits"]!
        let network = try TResNetNetwork(try Self.prepared("mld_v1_full").bound.tree)
        let row = try TapComparison(
            name: "head", actual: try network.forward(reference["input"]!).logits,
            expected: ort, tolerance: .float32, depth: 200)
        #expect(row.passed, "max abs \(row.maxAbsoluteError)")
    }

    @Test(".tw keeps the head, the class names and the multi-label card", arguments: fixtures)
    func twRoundTrip(name: String) throws {
        let e = try #require(try Self.manifest()[name])
        let dir = FixturePaths.temporaryDirectory("mld")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/\(name).tw"
        _ = try Conversion.convert(source: FixturePaths.tiny("mldecoder/\(name).pth"), output: out, options: .init())
        let model = try TWModel.open(path: out, verifyChecksums: true)
        #expect(model.metadata.labelNames == e.labels)
        #expect(model.metadata.multiLabel == MultiLabelCard(threshold: 0.75))
        #expect(model.metadata.configuration == (try Self.prepared(name).bound.configuration))
        let p = model.metadata.preprocessing
        #expect(p.cropMode == .squash && p.cropPct == 1 && p.mean == [0, 0, 0] && p.std == [1, 1, 1])
        let report = try ParityReport.run(
            try TResNetNetwork(model.bound.tree),
            reference: try Self.reference("\(name).reference.npz"), tolerance: .float32)
        #expect(report.passed, "\(report.render())")
    }

    @Test("binding reports every missing, unexpected and mis-shaped head tensor at once")
    func strictBinding() throws {
        let p = try Self.prepared("mld_v2_grouped")
        var entries = p.bound.tensors.map { (name: $0.spec.path, shape: $0.tensor.shape, dtype: $0.tensor.dtype) }
        entries.removeAll { $0.name == "head.decoder.layers.0.norm2.bias" }
        let i = try #require(entries.firstIndex { $0.name == "head.decoder.layers.0.linear2.weight" })
        entries[i].shape = [16, 21]
        entries.append((name: "head.decoder.layers.0.self_attn.in_proj_weight", shape: [48, 16], dtype: .float32))
        let report = Binder.check(entries, against: p.bound.configuration)
        let found = Set(report.problems.map { "\($0.kind.rawValue) \($0.path)" })
        #expect(
            found == [
                "missing head.decoder.layers.0.norm2.bias", "shape head.decoder.layers.0.linear2.weight",
                "unexpected head.decoder.layers.0.self_attn.in_proj_weight"
            ], "\(report.message)")
    }

    @Test("a malformed head is refused by name, not trapped on")
    func malformedHead() throws {
        var shapes = try Self.prepared("mld_v2_grouped").bound.tensors.reduce(into: [String: [Int]]()) {
            $0[$1.spec.path] = $1.tensor.shape
        }
        shapes["head.decoder.duplicate_pooling"] = [3, 16, 2]  // 3 × 2 < 7 classes
        var why: [String] = []
        let e = try #require(throws: TResNetError.self) { try MLDecoderInference.infer(shapes, explanation: &why) }
        #expect(e.description.contains("head.decoder.duplicate_pooling"))
        shapes["head.decoder.duplicate_pooling"] = nil
        #expect(throws: TResNetError.self) { try MLDecoderInference.infer(shapes, explanation: &why) }
    }
}

/// The toolkit's ONNX export of an ML-Decoder TResNet, as ONNX Runtime ran it (Fixtures/gen_mldecoder.py
/// --check-onnx, which also compared ORT with PyTorch): the export is byte-identical to the one ORT ran, and
/// ORT's logits of it (the image and its vertical mirror) agree with ours.
@Suite("ML-Decoder ONNX export") struct MLDecoderONNXTests {
    @Test func exportAsOnnxRuntimeRanIt() throws {
        let dir = FixturePaths.temporaryDirectory("mldonnx")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.onnx"
        _ = try Conversion.convert(
            source: FixturePaths.tiny("mldecoder/mld_v2_grouped.pth"), output: out, options: .init())
        let ort = try MLDecoderTests.reference("mld_v2_grouped.toolkit_onnx.ort.npz")
        let digestTensor = ort["onnx_sha256"]!
        let digest = (0..<digestTensor.elementCount).map { UInt8(digestTensor.scalar(at: $0) ?? -1) }
        #expect(
            try SHA256Hex.of(file: out) == digest.map { String(format: "%02x", $0) }.joined(),
            "the export changed since ONNX Runtime ran it: re-run the --check-onnx command in gen_mldecoder.py")
        let reference = try MLDecoderTests.reference("mld_v2_grouped.reference.npz")
        let x = try reference["input"]!.floats()  // [1, 3, 64, 64]; the mirror flips H
        var mirrored = x
        for c in 0..<3 {
            for h in 0..<64 { for w in 0..<64 { mirrored[(c * 64 + h) * 64 + w] = x[(c * 64 + 63 - h) * 64 + w] } }
        }
        let network = try TResNetNetwork(try MLDecoderTests.prepared("mld_v2_grouped").bound.tree)
        let ours = try network.forward(Tensor(shape: [2, 3, 64, 64], floats: x + mirrored)).logits
        let row = try TapComparison(
            name: "head", actual: ours, expected: ort["logits"]!, tolerance: .float32, depth: 200)
        #expect(row.passed, "max abs \(row.maxAbsoluteError)")
    }
}
