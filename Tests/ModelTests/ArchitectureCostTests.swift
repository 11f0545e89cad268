import Testing
import TResNetModel

/// Parameters and MACs from the Swift layer tree (`ArchitectureCost.of`) against timm 1.0.31's counts
/// (docs/TRESNET.md: `sum(p.numel())` and torch FlopCounterMode conv+linear / 2, measured with timm).
@Suite struct ArchitectureCostTests {
    struct Expected: Sendable {
        let arch: String
        let params1k: Int
        let params21k: Int
        let gmacs224: Double
    }

    static let expected = [
        Expected(arch: "tresnet_m", params1k: 31_389_032, params21k: 52_331_861, gmacs224: 5.737),
        Expected(arch: "tresnet_l", params1k: 55_989_256, params21k: 80_856_949, gmacs224: 10.878),
        Expected(arch: "tresnet_xl", params1k: 78_436_244, params21k: 105_593_441, gmacs224: 15.167),
        Expected(arch: "tresnet_v2_l", params1k: 46_174_824, params21k: 67_117_653, gmacs224: 8.814)
    ]

    @Test(arguments: expected) func treeCost(_ e: Expected) throws {
        let c1k = try #require(TResNetConfiguration.variant(e.arch, numClasses: 1000))
        let cost = ArchitectureCost.of(c1k, height: 224, width: 224)
        #expect(cost.parameters == e.params1k)
        let gmacs = Double(cost.macs) / 1e9
        #expect(abs(gmacs - e.gmacs224) / e.gmacs224 < 0.01, "\(gmacs) GMACs vs timm \(e.gmacs224)")
        let c21k = try #require(TResNetConfiguration.variant(e.arch, numClasses: 11221))
        #expect(ArchitectureCost.of(c21k).parameters == e.params21k)
    }
}
