import Testing
import TestSupport
import TResNetCore

/// The streaming XXH64 the `.tw` writer hashes 256 KiB pieces with equals the one-shot hash of the whole, for
/// every length around the 32-byte stripe and 8/4/1-byte tail boundaries and for arbitrary cuts.
@Suite struct XXH64StreamTests {
    @Test func streamEqualsOneShotForEveryCut() {
        var rng = SplitMix64(seed: 7)
        let data = (0..<1000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        data.withUnsafeBytes { all in
            for n in Array(0...80) + [255, 256, 257, 999, 1000] {
                let whole = XXH64.hash(UnsafeRawBufferPointer(rebasing: all[0..<n]))
                for trial in 0..<6 {
                    var stream = XXH64.Stream()
                    var at = 0
                    while at < n {
                        let piece = trial == 0 ? 1 : Int(rng.next() % UInt64(min(n - at, 70))) + 1
                        stream.update(UnsafeRawBufferPointer(rebasing: all[at..<(at + piece)]))
                        at += piece
                    }
                    #expect(stream.finalize() == whole, "length \(n), trial \(trial)")
                }
            }
        }
    }
}
