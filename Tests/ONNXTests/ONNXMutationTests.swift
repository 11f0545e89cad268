import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetONNX

/// Seeded random corruption of real exports: every outcome must be a model or a `TResNetError`, never a trap
/// (docs/ROBUSTNESS.md A.0: bad input never traps). A trap would kill the test process.
struct ONNXMutationTests {
    @Test(arguments: ["tiny_v1.ts.onnx", "tiny_v1.dynamo.onnx", "tiny_v1.variant.onnx"])
    func corruptedModelsAreRefusedOrRead(_ file: String) throws {
        let original = try #require(FileManager.default.contents(atPath: FixturePaths.tiny(file))).map { $0 }
        let dir = FixturePaths.temporaryDirectory("onnx-mutation")
        let data = try #require(FileManager.default.contents(atPath: FixturePaths.tiny("tiny_v1.dynamo.onnx.data")))
        #expect(FileManager.default.createFile(atPath: dir + "/tiny_v1.dynamo.onnx.data", contents: data))
        var rng = SplitMix64(seed: 0x5EED_0000 + UInt64(file.count))
        var read = 0, refused = 0
        for round in 0..<150 {
            var bytes = original
            // Mostly small flips (structure survives, values and lengths change); some truncations.
            if round % 10 == 9 {
                bytes.removeLast(Int.random(in: 1..<bytes.count, using: &rng))
            } else {
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            let path = dir + "/" + file
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            do {
                let model = try ONNXModel.read(path: path)
                #expect(model.tensors.count > 0)
                read += 1
            } catch is TResNetError {
                refused += 1
            }
        }
        #expect(read + refused == 150)
        #expect(refused > 0)
    }
}
