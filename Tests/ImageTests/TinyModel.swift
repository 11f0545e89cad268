import Foundation
import TestSupport
import TResNetCheckpoint
import TResNetCore
import TResNetModel
import TResNetRuntime
@testable import TResNetImage

/// The tiny fixture model `tiny_v1` as a `BatchRunner`.
///
/// Main has no checkpoint reader yet (`CheckpointReader.read` is a stub), so the tensors come from
/// `tiny_v1.safetensors` through the small test-only reader below; once the reader lands, `load()` takes
/// `tiny_v1.pth` through it instead (the fallback is used only while it reports "not implemented").
enum TinyModel {
    static func tensors() throws -> [String: Tensor] {
        if let loaded = try? CheckpointProbe.read(FixturePaths.tiny("tiny_v1.pth")) { return loaded }
        return try SafetensorsForTests.read(FixturePaths.tiny("tiny_v1.safetensors"))
    }

    static func network() throws -> TResNetNetwork {
        let record = try require2(try FixtureManifest.load().files["tiny_v1.pth"]?.arch, "tiny_v1 arch")
        let configuration = TResNetConfiguration(layout: record.layout == "v2" ? .v2 : .v1, layers: record.layers,
                                                 planes: record.planes, numClasses: record.num_classes)
        let tensors = try tensors()
        return try TResNetNetwork(configuration: configuration) { tensors[$0] }
    }

    static func runner() throws -> BatchRunner {
        let net = try network()
        return { input in try net.forward(input).logits }
    }
}

/// `#require` outside a test body.
func require2<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw SafetensorsForTests.Failure(description: "missing \(what)") }
    return value
}

/// Uses the checkpoint reader when main has one (the stub throws "not implemented").
enum CheckpointProbe {
    static func read(_ path: String) throws -> [String: Tensor] {
        try CheckpointReader.read(path: path).stateDict.tensors
    }
}

/// A minimal safetensors reader for this test target only: 8-byte header length, JSON header, raw data.
enum SafetensorsForTests {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String) throws -> [String: Tensor] {
        let store = try ByteStore.map(path: path)
        let bytes = store.bytes
        guard bytes.count >= 8 else { throw Failure(description: "\(path): too short") }
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        guard n > 0, 8 + n <= bytes.count else { throw Failure(description: "\(path): bad header length") }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any] ?? [:]
        var out: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
                  offsets.count == 2, let dtype = DType.allCases.first(where: { $0.safetensorsName == dtypeName }),
                  offsets[0] >= 0, offsets[0] <= offsets[1], 8 + n + offsets[1] <= bytes.count,
                  offsets[1] - offsets[0] == shape.reduce(1, *) * dtype.byteSize
            else { throw Failure(description: "\(path): bad entry \(name)") }
            out[name] = Tensor(dtype: dtype, shape: shape,
                               data: ByteSlice(store: store, offset: 8 + n + offsets[0], count: offsets[1] - offsets[0]))
        }
        return out
    }
}
