import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetFormat

/// Truncation at every header/index offset and every header byte flipped, for a `.tw` file (docs/ROBUSTNESS.md A.0 #1,
/// #2; A.7 #90–#93). With checksums verified, a flip anywhere is refused (header checksum or tensor checksum).
@Suite("Truncation and flip sweeps: .tw")
struct TWSweepTests {
    @Test func sampleFile() throws {
        let (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw-sweep"))
        let dataOffset = try openBytes(bytes).dataOffset
        let sweep = Sweep(name: "m.tw", bytes: bytes, header: [0..<dataOffset]) { store in
            try TWFile(store: store, verifyChecksums: true).stateDict()
        }
        let cuts = sweep.truncations(dataSamples: 64)
        #expect(cuts.problems.isEmpty, "\(cuts.problems.prefix(5))")
        #expect(cuts.refused == cuts.cases, "\(cuts)")
        let flips = try sweep.flips(dataSamples: 64)
        #expect(flips.problems.isEmpty, "\(flips.problems.prefix(5))")
        #expect(flips.loaded == 0 && flips.refused == flips.cases, "\(flips)")
        print("sweep m.tw: truncations \(cuts); flips \(flips)")
    }
}
