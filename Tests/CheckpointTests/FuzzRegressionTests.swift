import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

/// Replays every kept fuzz crasher of the checkpoint parsers (Fuzz/crashers/) through its harness's entry
/// points: each must end in a value or a `TResNetError` (a trap ends the test process).
@Suite("Fuzz crashers replayed: checkpoints")
struct CheckpointFuzzRegressionTests {
    static let inputs = FuzzCrashers.inputs([
        "FuzzPickle", "FuzzZip", "FuzzTorchZip", "FuzzLegacy", "FuzzSafetensors",
        "FuzzNpy", "FuzzNpz", "FuzzJSON"
    ])

    @Test(.enabled(if: !inputs.isEmpty, "no crashers kept"), arguments: inputs)
    func replay(_ input: FuzzCrashers.Input) throws {
        let store = ByteStore.copying(input.bytes)
        do {
            switch input.target {
            case "FuzzPickle":
                do {
                    let r = try PickleMachine.parse(store.bytes, style: .zip)
                    _ = try r.arena.flattenTensors(from: r.root, budget: 100_000)
                } catch is TResNetError {}
                let r = try PickleMachine.parse(store.bytes, style: .legacy)
                _ = try r.arena.flattenTensors(from: r.root, budget: 100_000)
            case "FuzzZip":
                let archive = try ZipArchive.open(store, path: "z")
                for e in archive.entries { _ = try? archive.data(e) }
            case "FuzzSafetensors": _ = try SafetensorsReader.read(store, path: "s")
            case "FuzzNpy": _ = try NpyArray.read(ByteSlice(store: store), name: "n")
            case "FuzzNpz": _ = try NpzArchive.read(store, path: "z")
            case "FuzzJSON": _ = try JSONParser.parse(store.bytes, format: "json")
            default: _ = try CheckpointReader.read(store, path: "c")
            }
        } catch is TResNetError {}
    }
}
