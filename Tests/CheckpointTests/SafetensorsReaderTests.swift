import Testing
import TResNetCore
import TResNetCheckpoint
import TestSupport

@Suite("SafetensorsReader fixtures")
struct SafetensorsReaderTests {
    @Test(arguments: ["tiny_v1.safetensors", "tiny_v2.safetensors"])
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
