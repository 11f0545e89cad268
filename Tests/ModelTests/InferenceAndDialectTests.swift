import Foundation
import Testing
import TestSupport
@testable import TResNetModel
import TResNetCore

@Suite struct InferenceTests {
    @Test(arguments: ["tresnet_m", "tresnet_l", "tresnet_xl", "tresnet_v2_l"])
    func infersZooVariantFromKeyList(variant: String) throws {
        let entries = try keyList(variant).map(parseKeyLine)
        let inferred = try ArchitectureInference.infer(entries.map { ($0.name, $0.shape) })
        #expect(inferred.variantName == variant)
        #expect(inferred.configuration == TResNetConfiguration.variant(variant))
        #expect(inferred.explanation.contains { $0.contains("match \(variant)") })
    }

    @Test(arguments: ["tiny_v1.pth", "tiny_v2.pth", "tiny_v1_miil.pth", "tiny_v2_miil.pth"])
    func infersTinyFixtureArchitecture(file: String) throws {
        let record = try #require(try FixtureManifest.load().files[file])
        let arch = try #require(record.arch)
        let dialect = try #require(Dialect.detect(record.tensors!.map(\.name)))
        #expect(dialect.id == record.dialect)
        let mapped = record.tensors!.compactMap { t in dialect.canonicalName(t.name).map { ($0, t.shape) } }
        let inferred = try ArchitectureInference.infer(mapped)
        #expect(inferred.configuration.layout.rawValue == arch.layout)
        #expect(inferred.configuration.layers == arch.layers)
        #expect(inferred.configuration.planes == arch.planes)
        #expect(inferred.configuration.numClasses == arch.num_classes)
        #expect(inferred.variantName == nil)
        #expect(inferred.explanation.last?.contains("custom configuration") == true)
    }

    @Test func missingStemIsNamed() {
        #expect {
            try ArchitectureInference.infer([("head.fc.weight", [10, 8])])
        } throws: { ($0 as? TResNetError)?.description.contains("body.conv1.conv.weight") == true }
    }
}

@Suite struct DialectTests {
    @Test(arguments: ["tiny_v1_miil.pth", "tiny_v2_miil.pth"])
    func miilFixtureNamesMapOntoTheTreeExactly(file: String) throws {
        let manifest = try FixtureManifest.load()
        let miil = try #require(manifest.files[file]?.tensors)
        let mapping = Dialect.miil.map(miil.map(\.name), detected: true)
        #expect(mapping.collisions.isEmpty)
        let shapes = Dictionary(uniqueKeysWithValues: miil.map { ($0.name, $0.shape) })
        let entries = mapping.renamed.map { ($0.canonical, shapes[$0.source]!, DType.float32) }
        let inferred = try ArchitectureInference.infer(entries.map { ($0.0, $0.1) })
        let report = Binder.check(entries, against: inferred.configuration)
        #expect(report.problems.isEmpty, "\(report.message)")
        // And the mapped names equal the names of the timm-spelling fixture of the same architecture.
        let timmFile = file.replacingOccurrences(of: "_miil", with: "")
        let timmNames = try #require(manifest.files[timmFile]?.tensors).map(\.name).filter {
            !$0.hasSuffix("num_batches_tracked")
        }
        #expect(Set(mapping.renamed.map(\.canonical)) == Set(timmNames))
    }

    @Test func ruleOrderHandlesAntiAliasedConvs() {
        #expect(Dialect.miil.canonicalName("body.layer2.0.conv1.0.0.weight") == "body.layer2.0.conv1.conv.weight")
        #expect(
            Dialect.miil.canonicalName("body.layer2.0.conv1.0.1.running_var") == "body.layer2.0.conv1.bn.running_var")
        #expect(
            Dialect.miil.canonicalName("body.layer1.0.downsample.0.1.weight") == "body.layer1.0.downsample.0.bn.weight")
        #expect(Dialect.miil.canonicalName("body.layer3.0.conv2.1.op.filt") == nil)
        #expect(Dialect.miil.canonicalName("body.layer1.0.se.fc1.weight") == "body.layer1.0.se.fc1.weight")
        #expect(Dialect.timm.canonicalName("body.conv1.conv.weight") == "body.conv1.conv.weight")
    }

    @Test func detection() {
        #expect(Dialect.detect(["body.conv1.conv.weight"])?.id == "timm")
        #expect(Dialect.detect(["body.conv1.0.weight"])?.id == "miil")
        #expect(Dialect.detect(["model.conv1.weight"]) == nil)
    }
}

@Suite struct FoldedInferenceTests {
    @Test func foldedListingIsInferredAsFolded() throws {
        var c = TResNetConfiguration.tresnetV2L
        c.normalization = .folded
        let inferred = try ArchitectureInference.infer(TResNet(c).listing.map { ($0.path, $0.shape) })
        #expect(inferred.configuration == c)
        #expect(Binder.check(TResNet(c).listing.map { ($0.path, $0.shape, $0.dtype) }, against: c).isClean)
    }
}
