import Foundation
import Testing
import TResNetCore
import TResNetCheckpoint
import TestSupport

@Suite("SafetensorsReader fixtures")
struct SafetensorsReaderTests {
    @Test(arguments: ["tiny_v1.safetensors"])
    func fixtureMatchesManifest(_ file: String) throws {
        let manifest = try FixtureManifest.load()
        let record = try #require(manifest.files[file])
        let path = FixturePaths.tiny(file)
        #expect(try SHA256Hex.of(file: path) == record.sha256)
        let store = try ByteStore.map(path: path)
        let (dict, metadata) = try SafetensorsReader.read(store, path: path)
        #expect(metadata.isEmpty)
        let expected = try #require(record.tensors)
        #expect(dict.count == expected.count)
        #expect(Set(dict.names) == Set(expected.map(\.name)))
        for t in expected {
            let tensor = try #require(dict[t.name], "missing \(t.name)")
            #expect(tensor.dtype.rawValue == t.dtype, "\(t.name)")
            #expect(tensor.shape == t.shape, "\(t.name)")
            for sample in t.samples {
                let index = Int(sample[0])
                // Bit-exact: the f32 (or i64) value widened to Double equals the value PyTorch recorded.
                #expect(tensor.scalar(at: index) == sample[1], "\(t.name)[\(index)]")
            }
        }
    }

    @Test func tensorsAreZeroCopySlicesInHeaderOrder() throws {
        let path = FixturePaths.tiny("tiny_v1.safetensors")
        let store = try ByteStore.map(path: path)
        let (dict, _) = try SafetensorsReader.read(store, path: path)
        // Header key order: the reference writer puts the i64 scalars first (descending alignment, then name).
        let first = try #require(dict.names.first)
        #expect(dict[first]?.dtype == .int64)
        var previousEnd = -1
        for (_, tensor) in dict.entries {
            #expect(tensor.data.store === store)
            #expect(tensor.data.offset >= previousEnd)
            previousEnd = tensor.data.offset + tensor.byteCount
        }
        #expect(previousEnd == store.count)
    }
}

@Suite("SafetensorsReader full-size")
struct SafetensorsFullSizeTests {
    /// `make fixtures-full` writes tresnet_m.safetensors (git-ignored); its tensors must be exactly timm's
    /// tresnet_m state dict as listed in Fixtures/keys/tresnet_m.txt (`name [shape] dtype` per line).
    @Test(.enabled(if: FixturePaths.full("tresnet_m.safetensors") != nil))
    func tresnetMMatchesTimmKeys() throws {
        let path = try #require(FixturePaths.full("tresnet_m.safetensors"))
        let (dict, _) = try SafetensorsReader.read(try ByteStore.map(path: path), path: path)
        let keys = try String(contentsOfFile: FixturePaths.path("keys/tresnet_m.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(dict.count == keys.count)
        for line in keys {
            let name = String(line.prefix { $0 != " " })
            let dtype = String(line.split(separator: " ").last ?? "")
            let shapeText = line.drop { $0 != "[" }.prefix { $0 != "]" }.dropFirst()
            let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let t = try #require(dict[name], "missing \(name)")
            #expect(t.shape == shape, "\(name)")
            #expect(t.dtype.rawValue == dtype, "\(name)")
        }
    }

    /// Writing the full-size state dict back reproduces safetensors' own file byte for byte.
    @Test(.enabled(if: FixturePaths.full("tresnet_m.safetensors") != nil))
    func tresnetMRewriteIsByteIdentical() throws {
        let path = try #require(FixturePaths.full("tresnet_m.safetensors"))
        let store = try ByteStore.map(path: path)
        let (dict, metadata) = try SafetensorsReader.read(store, path: path)
        let out = FixturePaths.temporaryDirectory("st-full") + "/tresnet_m.safetensors"
        defer { try? FileManager.default.removeItem(atPath: out) }
        try SafetensorsWriter.write(dict.entries, metadata: metadata, to: out, overwrite: false)
        let written = try ByteStore.map(path: out)
        #expect(written.count == store.count)
        let a = try #require(written.bytes.baseAddress), b = try #require(store.bytes.baseAddress)
        #expect(memcmp(a, b, store.count) == 0)
    }
}
