import Testing
import TestSupport
import TResNetKit
import TResNetCheckpoint
import TResNetCore
import TResNetModel
import TResNetRuntime

/// Full-size ML-Decoder TResNets (`make fixtures-full` → Fixtures/full/mldecoder/, never committed; skipped when
/// absent): tresnet_m with a COCO head at 224, tresnet_v2_l with a COCO head at 448, tresnet_m with an
/// OpenImages-style head (9605 classes, 200 groups). Every tap, the logits included, against PyTorch's.
@Suite("ML-Decoder full-size parity", .serialized)
struct MLDecoderFullSizeTests {
    static let cases: [(name: String, classes: Int, groups: Int, variant: String)] = [
        ("mld_tresnet_m_coco_224", 80, 80, "tresnet_m"),
        ("mld_tresnet_v2_l_coco_448", 80, 80, "tresnet_v2_l"),
        ("mld_tresnet_m_openimages_224", 9605, 200, "tresnet_m")
    ]

    @Test("every tap matches PyTorch", arguments: cases)
    func parity(c: (name: String, classes: Int, groups: Int, variant: String)) throws {
        guard let weights = FixturePaths.full("mldecoder/\(c.name).pth"),
            let referencePath = FixturePaths.full("mldecoder/\(c.name).reference.npz")
        else { return }
        let prepared = try Conversion.prepare(try CheckpointReader.read(path: weights))
        let configuration = prepared.bound.configuration
        #expect(prepared.architecture.variantName == c.variant)
        #expect(configuration.numClasses == c.classes)
        let head = try #require(configuration.mlDecoder)
        #expect(head.groups == c.groups && head.embedDim == 768 && head.feedForwardDim == 2048 && head.heads == 8)
        #expect(head.duplicateFactor == Int(Double(c.classes) / Double(c.groups) + 0.999))
        let reference = Dictionary(
            uniqueKeysWithValues: try NpzArchive.read(path: referencePath).map { ($0.name, $0.tensor) })
        let report = try ParityReport.run(
            try TResNetNetwork(prepared.bound.tree), reference: reference,
            tolerance: .float32)
        #expect(report.rows.map(\.name).last == "head")
        #expect(report.passed, "\(c.name):\n\(report.render())")
    }
}
