import Foundation
import Testing
import TResNetCore
import TResNetCheckpoint
import TestSupport

@Suite("SafetensorsWriter")
struct SafetensorsWriterTests {
    func readFixture(_ name: String) throws -> StateDict {
        let path = FixturePaths.tiny(name)
        return try SafetensorsReader.read(try ByteStore.map(path: path), path: path).0
    }

    func fileBytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A mixed state dict: tensors of the fixture, narrowed copies, the i64 0-d scalars and an empty tensor.
    func mixedEntries() throws -> [(name: String, tensor: Tensor)] {
        let dict = try readFixture("tiny_v1.safetensors")
        let weight = try #require(dict["body.conv1.conv.weight"])
        let bias = try #require(dict["head.fc.bias"])
        let nbt = try #require(dict["body.conv1.bn.num_batches_tracked"])
        let empty = Tensor(dtype: .float32, shape: [0, 3], data: ByteSlice(store: ByteStore.copying([UInt8]())))
        return [
            ("z.f32", weight), ("a.f16", try weight.converted(to: .float16)),
            ("m.bf16", try bias.converted(to: .bfloat16)),
            ("b.i64.scalar", nbt), ("empty", empty), ("c.f32", bias)
        ]
    }

    @Test func reproducesTheReferenceWriterByteForByte() throws {
        // The fixtures were written by safetensors' own save_file; writing the same tensors must give the same file.
        for name in ["tiny_v1.safetensors"] {
            let dict = try readFixture(name)
            let dir = FixturePaths.temporaryDirectory("st")
            let out = dir + "/" + name
            // Reversed input order: the canonical order must not depend on it.
            try SafetensorsWriter.write(Array(dict.entries.reversed()), to: out, overwrite: false)
            #expect(try fileBytes(out) == (try fileBytes(FixturePaths.tiny(name))), "\(name)")
        }
    }

    @Test func roundTripIsBitExact() throws {
        let entries = try mixedEntries()
        let out = FixturePaths.temporaryDirectory("st") + "/mixed.safetensors"
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n é"]
        try SafetensorsWriter.write(entries, metadata: metadata, to: out, overwrite: false)
        let (back, meta) = try SafetensorsReader.read(try ByteStore.map(path: out), path: out)
        #expect(meta == metadata)
        #expect(back.count == entries.count)
        for (name, t) in entries {
            let r = try #require(back[name])
            #expect(r.dtype == t.dtype, "\(name)")
            #expect(r.shape == t.shape, "\(name)")
            #expect(r.data.toArray() == t.data.toArray(), "\(name)")
        }
        // Canonical order: descending dtype (i64, f32, bf16, f16), then name; header padded to a multiple of 8.
        #expect(back.names == ["b.i64.scalar", "c.f32", "empty", "z.f32", "m.bf16", "a.f16"])
        let bytes = try fileBytes(out)
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0)
        #expect(bytes[8] == UInt8(ascii: "{"))
        #expect(String(decoding: bytes[8..<min(8 + 17, bytes.count)], as: UTF8.self) == "{\"__metadata__\":{")
    }

    @Test func refusesToOverwriteUnlessAsked() throws {
        let entries = try mixedEntries()
        let out = FixturePaths.temporaryDirectory("st") + "/x.safetensors"
        try SafetensorsWriter.write(entries, to: out, overwrite: false)
        #expect(throws: TResNetError.self) { try SafetensorsWriter.write(entries, to: out, overwrite: false) }
        do {
            try SafetensorsWriter.write(entries, to: out, overwrite: false)
        } catch let e as TResNetError {
            #expect(e.code == .outputExists)
        }
        try SafetensorsWriter.write(Array(entries.prefix(1)), to: out, overwrite: true)
        let (back, _) = try SafetensorsReader.read(try ByteStore.map(path: out), path: out)
        #expect(back.names == ["z.f32"])
        // No temporary file is left behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: (out as NSString).deletingLastPathComponent)
        #expect(left == ["x.safetensors"])
    }

    @Test func refusesDuplicateAndReservedNames() throws {
        let entries = try mixedEntries()
        let out = FixturePaths.temporaryDirectory("st") + "/d.safetensors"
        for bad in [[entries[0], entries[0]], [("__metadata__", entries[0].tensor)]] {
            do {
                try SafetensorsWriter.write(bad, to: out, overwrite: false)
                Issue.record("accepted")
            } catch let e as TResNetError {
                #expect(e.code == .malformed)
                #expect(e.message.contains("duplicate") || e.message.contains("reserved"))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func everyTruncationIsRefused() throws {
        let out = FixturePaths.temporaryDirectory("st") + "/t.safetensors"
        try SafetensorsWriter.write(try mixedEntries(), metadata: ["k": "v"], to: out, overwrite: false)
        let bytes = try fileBytes(out)
        for cut in 0..<bytes.count {
            let store = ByteStore.copying(Array(bytes[0..<cut]))
            #expect(throws: TResNetError.self, "cut at \(cut)") { _ = try SafetensorsReader.read(store, path: "t") }
        }
    }
}
