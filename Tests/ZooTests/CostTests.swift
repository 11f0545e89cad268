import Testing
import TResNetModel
@testable import TResNetZoo

/// The zoo's entries carry the cost the layer tree computes (ArchitectureCostTests, in ModelTests, checks the
/// tree against timm).
@Suite struct CostTests {
    @Test func zooEntriesUseTheTree() throws {
        let entry = try #require(ZooCatalog.shared.entry(named: "tresnet_m.miil_in21k"))
        #expect(entry.configuration?.numClasses == 11221)
        #expect(entry.cost?.parameters == 52_331_861)
    }
}
