import Foundation
import Testing
import TestSupport
@testable import TResNetModel
import TResNetCore

/// The key lists generated from timm (`Fixtures/keys/<variant>.txt`, `name [shape] dtype`).
func keyList(_ variant: String) throws -> [String] {
    let text = try String(contentsOfFile: FixturePaths.path("keys/\(variant).txt"), encoding: .utf8)
    return text.split(separator: "\n").map(String.init)
}

/// `(name, shape, dtype)` parsed from a key-list line.
func parseKeyLine(_ line: String) -> (name: String, shape: [Int], dtype: DType) {
    let open = line.firstIndex(of: "[")!, close = line.firstIndex(of: "]")!
    let name = String(line[..<open]).trimmingCharacters(in: .whitespaces)
    let shape = line[line.index(after: open)..<close].split(separator: ",").map {
        Int($0.trimmingCharacters(in: .whitespaces))!
    }
    let dtype = DType(rawValue: String(line[line.index(after: close)...]).trimmingCharacters(in: .whitespaces))!
    return (name, shape, dtype)
}

@Suite struct TreeListingTests {
    @Test(arguments: [("tresnet_m", 434), ("tresnet_l", 620), ("tresnet_xl", 752), ("tresnet_v2_l", 746)])
    func listingMatchesTimmSnapshot(variant: String, count: Int) throws {
        let expected = try keyList(variant)
        #expect(expected.count == count)
        let listing = TResNet(try #require(TResNetConfiguration.variant(variant))).listing.map(\.description)
        #expect(listing.count == count)
        #expect(listing == expected)
    }

    @Test func storedTensorsDropNumBatchesTracked() throws {
        let model = TResNet(.tresnetM)
        #expect(model.storedTensors.count == 434 - 60)
        #expect(
            model.listing.filter { $0.role == .optionalBuffer }.allSatisfy { $0.path.hasSuffix("num_batches_tracked") })
    }

    @Test func tapPointsAreModulesOfTheTree() {
        let paths = Set(TResNet(.tresnetV2L).modules.map(\.path))
        for tap in TResNet.tapPoints { #expect(paths.contains(tap), "\(tap)") }
    }

    @Test func foldedNormalizationHasConvBiasAndNoBN() {
        var c = TResNetConfiguration.tresnetM
        c.normalization = .folded
        let names = TResNet(c).listing.map(\.path)
        #expect(names.contains("body.conv1.conv.bias"))
        #expect(!names.contains { $0.contains(".bn.") })
        #expect(names.contains("body.layer2.0.downsample.1.conv.bias"))
    }

    /// Params and MACs from timm 1.0.31 / torch 2.15: `sum(p.numel())` and
    /// `FlopCounterMode` (aten.convolution + aten.addmm) / 2 at 224×224 (docs/TRESNET.md, §9).
    @Test(arguments: [
        ("tresnet_m", 31_389_032, 5_734_497_792 + 2_048_000),
        ("tresnet_l", 55_989_256, 10_875_134_880 + 2_432_000),
        ("tresnet_xl", 78_436_244, 15_164_407_432 + 2_656_000),
        ("tresnet_v2_l", 46_174_824, 8_811_675_136 + 2_048_000)
    ])
    func costMatchesTorch(variant: String, params: Int, macs: Int) throws {
        let cost = ArchitectureCost.of(try #require(TResNetConfiguration.variant(variant)))
        #expect(cost.parameters == params)
        #expect(cost.macs == macs)
    }

    /// 11221-class head parameter counts (docs/TRESNET.md, timm).
    @Test func costWith21kHead() throws {
        #expect(
            ArchitectureCost.of(try #require(TResNetConfiguration.variant("tresnet_m", numClasses: 11221))).parameters
                == 52_331_861)
        #expect(
            ArchitectureCost.of(try #require(TResNetConfiguration.variant("tresnet_v2_l", numClasses: 11221)))
                .parameters == 67_117_653)
    }
}
