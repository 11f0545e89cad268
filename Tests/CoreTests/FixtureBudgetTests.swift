import Foundation
import Testing
import TestSupport

/// The committed fixtures stay small (the README's promise for a clone): every file under Fixtures/ except the
/// git-ignored full-size folder and Python caches counts, generators included.
@Suite("Fixture budget")
struct FixtureBudgetTests {
    @Test("everything under Fixtures/ (but Fixtures/full) is under 8,000,000 bytes")
    func committedFixturesStayUnderBudget() throws {
        let root = FixturePaths.root + "/Fixtures"
        let walker = try #require(FileManager.default.enumerator(atPath: root))
        var total = 0
        var largest: [(String, Int)] = []
        while let relative = walker.nextObject() as? String {
            if relative == "full" || relative.hasPrefix("full/") || relative.contains("__pycache__") {
                walker.skipDescendants()
                continue
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: root + "/" + relative)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            total += size
            largest.append((relative, size))
        }
        largest.sort { $0.1 > $1.1 }
        #expect(total > 1_000_000, "the walk found the fixtures")
        #expect(total < 8_000_000, "committed fixtures: \(total) bytes; largest: \(largest.prefix(5))")
    }
}
