import Foundation
import TestSupport
import TResNetCheckpoint
import TResNetCore
import TResNetModel
import TResNetRuntime
@testable import TResNetImage

/// The tiny fixture model `tiny_v1` as a `BatchRunner`: `tiny_v1.pth` (the file the generator's PyTorch runs
/// loaded) through main's `CheckpointReader`, architecture from the fixture manifest.
enum TinyModel {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static func network() throws -> TResNetNetwork {
        guard let arch = try FixtureManifest.load().files["tiny_v1.pth"]?.arch else {
            throw Missing(description: "manifest has no architecture for tiny_v1.pth")
        }
        let configuration = TResNetConfiguration(
            layout: arch.layout == "v2" ? .v2 : .v1, layers: arch.layers,
            planes: arch.planes, numClasses: arch.num_classes)
        let checkpoint = try CheckpointReader.read(path: FixturePaths.tiny("tiny_v1.pth"))
        return try TResNetNetwork(configuration: configuration) { checkpoint.stateDict[$0] }
    }

    static func runner() throws -> BatchRunner {
        let net = try network()
        return { input in try net.forward(input).logits }
    }
}
