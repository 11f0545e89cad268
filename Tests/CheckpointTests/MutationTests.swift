import Foundation
import Testing
import TestSupport
import TResNetCheckpoint
import TResNetCore

@Suite("Mutated checkpoints never trap")
struct MutationTests {
    /// Flips, overwrites and splices bytes of real fixtures; every outcome must be a value or a `TResNetError`.
    /// `TRESNET_MUTATIONS=N` runs N rounds per file instead of 1,500.
    @Test(
        "random byte mutations",
        arguments: [
            "nocrc.pth", "proto4.pth", "dtypes.pth", "dtypes_legacy.pth",
            "rezipped_deflate.pth", "wrapper_ema.pth", "../readers/lightning.ckpt"
        ])
    func mutations(_ file: String) throws {
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny(file))))
        var rng = SplitMix64(seed: UInt64(original.count))
        var refused = 0
        let rounds = ProcessInfo.processInfo.environment["TRESNET_MUTATIONS"].flatMap(Int.init) ?? 1500
        for _ in 0..<rounds {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
                case 1: bytes[i] = [0x00, 0xFF, 0x7F, 0x80, 0x2E, 0x52, 0x28][Int.random(in: 0..<7, using: &rng)]
                default: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...16, using: &rng)))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            do {
                _ = try CheckpointReader.read(ByteStore.copying(bytes), path: file)
            } catch is TResNetError {
                refused += 1
            }
        }
        #expect(refused > 0)
    }
}
