import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// Hostile bytes never trap: every mutation of a good JPEG or PNG (flipped bytes, overwritten runs, inserted and
/// deleted bytes) either decodes or throws a `TResNetError`; decoded images stay within the pixel limit and
/// preprocess cleanly. `TRESNET_MUTATIONS` sets the rounds per file (default 150).
@Suite struct ImageMutationTests {
    static let rounds = Int(ProcessInfo.processInfo.environment["TRESNET_MUTATIONS"] ?? "") ?? 150

    @Test(arguments: [
        "baseline_97x75.jpg", "progressive_80x120.jpg", "cmyk_88x66.jpg", "exif6_100x64.jpg",
        "palette4_83x57.png", "rgba16_42x34.png", "interlaced_81x67.png", "exif6_rgb8_48x34.png"
    ])
    func mutationsDecodeOrThrow(name: String) throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ImageManifest.folder + "/" + name)))
        var rng = SplitMix64(seed: UInt64(original.count) &* 2_654_435_761)
        let pre = try Preprocessing(.timm(inputSize: 32))
        var decoded = 0, refused = 0
        for _ in 0..<Self.rounds {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
                case 1:
                    let n = min(Int.random(in: 1...16, using: &rng), bytes.count - at)
                    for i in at..<(at + n) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: at)
                default: if bytes.count > 8 { bytes.remove(at: at) }
                }
            }
            do {
                let image = try ImageDecoder.decode(bytes)
                #expect(image.width * image.height <= maximumImagePixels)
                #expect(image.pixels.count == image.width * image.height * 3)
                _ = try pre.values(image)
                decoded += 1
            } catch is TResNetError {
                refused += 1
            }
        }
        #expect(decoded + refused == Self.rounds)
    }
}
