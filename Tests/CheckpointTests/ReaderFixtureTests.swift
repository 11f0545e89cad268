import Foundation
import Testing
import TestSupport
import TResNetCheckpoint
import TResNetCore

/// Fixtures/readers (Fixtures/generate_readers.py): TorchScript, nn.Parameter dicts, a whole pickled module,
/// a Lightning-style checkpoint with Adam state, a protocol-5 pickle — all written by torch.
enum ReaderFixtures {
    static func manifest() throws -> FixtureManifest {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.path("readers/manifest.json")))
        return try JSONDecoder().decode(FixtureManifest.self, from: data)
    }
}

@Suite("Reader fixtures (Fixtures/readers)")
struct ReaderFixtureTests {
    @Test(
        "parameters, Lightning checkpoint and protocol 5 match the manifest",
        arguments: ["parameters.pth", "lightning.ckpt", "proto5.pth"])
    func matches(_ file: String) throws {
        let record = try #require(try ReaderFixtures.manifest().files[file])
        try expectMatches(try CheckpointReader.read(path: FixturePaths.path("readers/" + file)), record, file)
    }

    @Test("Lightning: optimizer state with int keys is summarised, its tensors counted, not loaded")
    func lightningOptimizer() throws {
        let loaded = try CheckpointReader.read(path: FixturePaths.path("readers/lightning.ckpt"))
        let optimizer = try #require(loaded.nonTensorEntries.first { $0.name == "optimizer_states" })
        // Adam after one step: exp_avg, exp_avg_sq and step for each of the 4 parameters
        #expect(optimizer.summary.hasSuffix("12 tensors"))
    }

    @Test("TorchScript archives are refused with a clear message")
    func torchScript() throws {
        let path = FixturePaths.path("readers/torchscript.pt")
        let e = #expect(throws: TResNetError.self) { try CheckpointReader.read(path: path) }
        #expect(e?.code == .unsupported)
        #expect(e?.description.contains("TorchScript") == true)
    }

    @Test("a whole pickled nn.Module: read as its object tree; refused naming its class under --strict-pickle")
    func fullModule() throws {
        let path = FixturePaths.path("readers/full_module.pth")
        let loaded = try CheckpointReader.read(path: path)
        #expect(loaded.stateDict.names == ["weight", "bias"])
        #expect(loaded.opaqueClasses == ["torch.nn.modules.linear.Linear"])
        let e = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(path: path, options: CheckpointReadOptions(strictPickle: true))
        }
        #expect(e?.code == .disallowedGlobal)
        #expect(e?.description.contains("'torch.nn.modules.linear.Linear'") == true)
        #expect(e?.description.contains("state_dict()") == true)
    }
}
