import Foundation
import Testing
import TestSupport
import TResNetCore

/// `FileFormat` is the one place that recognises a file by its first bytes: every committed fixture kind is
/// recognised as what its generator wrote, and no other source file spells a magic number or sniffs a format.
@Suite("One format recogniser")
struct FileFormatTests {
    @Test(arguments: [
        ("tiny/tiny_v1.pth", FileFormat.zip), ("tiny/tiny_v1_legacy.pth", .pytorchLegacy),
        ("tiny/tiny_v1.safetensors", .safetensors), ("tiny/tiny_v1.reference.npz", .zip),
        ("tiny/npy/big_endian_f4.npy", .numpy), ("tiny/tiny_v1.ts.onnx", .onnx), ("tiny/tiny_v1.dynamo.onnx", .onnx),
        ("tiny/micro.ts20.dyn_b.onnx", .onnx), ("tiny/hostile_reduce_raw.pkl", .barePickle),
        ("tiny/bombs/jpeg_baseline_13000.jpg", .jpeg), ("tiny/bombs/png_rgba16_13000.png", .png)
    ])
    func recognisesEachFixtureKind(_ file: String, _ expected: FileFormat) throws {
        #expect(FileFormat.recognise(path: FixturePaths.path(file)) == expected)
        // The same answer from the bytes in memory (the readers' route) as from the path (the tools' route).
        let data = try #require(FileManager.default.contents(atPath: FixturePaths.path(file)))
        #expect(FileFormat.recognise(Array(data)) == expected)
    }

    @Test func recognisesTheTWMagicAndRefusesTheUnknown() throws {
        #expect(FileFormat.recognise(FileFormat.twMagic + [UInt8](repeating: 0, count: 56)) == .tw)
        #expect(FileFormat.recognise(Array("hello, world".utf8)) == nil)
        #expect(FileFormat.recognise(path: FixturePaths.path("tiny/manifest.json")) == nil)
        #expect(FileFormat.recognise(path: FixturePaths.path("tiny/does-not-exist")) == nil)
        #expect(FileFormat.recognise(path: FixturePaths.path("tiny")) == nil)  // a directory
        let gzip: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]
        let error = try #require(throws: TResNetError.self) { try gzip.withUnsafeBytes { try FileFormat.require($0) } }
        #expect(error.code == .unrecognizedContainer)
        #expect(error.description.contains("gzip-compressed"), "\(error)")
    }

    /// A safetensors header length must fit the file: from a head alone, the file's size decides.
    @Test func safetensorsHeaderLengthIsCheckedAgainstTheFileSize() throws {
        let data = try #require(FileManager.default.contents(atPath: FixturePaths.tiny("tiny_v1.safetensors")))
        let head = Array(data.prefix(FileFormat.headLength))
        #expect(FileFormat.recognise(head, fileSize: data.count) == .safetensors)
        #expect(FileFormat.recognise(Array(head.prefix(9)), fileSize: 9) == nil)
    }

    /// Guard: the magic numbers live in FileFormat.swift only, and no other file has a sniffing function.
    @Test func noSecondRecogniser() throws {
        let sources = FixturePaths.root + "/Sources"
        let files = try #require(FileManager.default.enumerator(atPath: sources)?.allObjects as? [String])
        let patterns = [
            "0x89, 0x54, 0x57, 0x46", "0x6C, 0xFC, 0x9C, 0x46", "0x93, 0x4E, 0x55, 0x4D", "0x89, 0x50, 0x4E, 0x47",
            "0xFF, 0xD8, 0xFF", "func sniff",
            "enum ContainerSniffer", "\"ustar\""
        ]
        var offenders: [String] = []
        for file in files where file.hasSuffix(".swift") && file != "TResNetCore/FileFormat.swift" {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            for pattern in patterns where text.contains(pattern) { offenders.append("Sources/\(file): \(pattern)") }
        }
        #expect(offenders.isEmpty, "format recognition outside FileFormat:\n\(offenders.joined(separator: "\n"))")
    }

    /// Guard: the modules below TResNetKit never name it or its types in their code or messages.
    @Test func lowerModulesDoNotNameUpperOnes() throws {
        let sources = FixturePaths.root + "/Sources"
        var offenders: [String] = []
        for module in [
            "TResNetCore", "TResNetCheckpoint", "TResNetFormat", "TResNetModel", "TResNetONNX",
            "TResNetImage", "TResNetZoo", "TResNetRuntime"
        ] {
            let files = try #require(
                FileManager.default.enumerator(atPath: sources + "/" + module)?.allObjects as? [String])
            for file in files where file.hasSuffix(".swift") {
                let text = try String(contentsOfFile: sources + "/\(module)/" + file, encoding: .utf8)
                for word in ["ModelSource", "ModelLoader", "TResNetKit"] where text.contains(word) {
                    offenders.append("Sources/\(module)/\(file): \(word)")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders.joined(separator: "\n"))")
    }
}
