import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetONNX

/// Hostile and broken ONNX inputs (docs/ROBUSTNESS.md A.5), made from the real exports by same-length byte patches so
/// that every protobuf length stays valid and only the targeted field changes.
struct ONNXHostileTests {
    static let dataName = "tiny_v1.dynamo.onnx.data"

    func bytes(_ fixture: String) throws -> [UInt8] {
        try #require(FileManager.default.contents(atPath: FixturePaths.tiny(fixture))).map { $0 }
    }

    /// `data` with every occurrence of `old` replaced by `new` (same length).
    func patched(_ data: [UInt8], _ old: [UInt8], _ new: [UInt8], first: Bool = false) -> (bytes: [UInt8], count: Int) {
        precondition(old.count == new.count)
        var out = data
        var i = 0, n = 0
        while i + old.count <= out.count {
            if out[i] == old[0], Array(out[i..<(i + old.count)]) == old {
                out.replaceSubrange(i..<(i + old.count), with: new)
                n += 1
                if first { break }
                i += old.count
            } else {
                i += 1
            }
        }
        return (out, n)
    }

    func write(_ bytes: [UInt8], _ path: String) throws {
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    }

    func readError(_ path: String) throws -> TResNetError {
        try #require(throws: TResNetError.self) { _ = try ONNXModel.read(path: path) }
    }

    // MARK: External data locations (A.5 #73, #74)

    @Test(arguments: [
        ("../tiny_v1.dynamo.onnx.d", "'..' component"),
        ("sub/../tiny_v1.dynamo.on", "'..' component"),
        ("/tmp/tiny_v1.dynamo.onnx", "absolute path"),
        ("x\\tiny_v1.dynamo.onnx.da", "backslash"),
        ("tiny_v1.dynamo.onnx\0data", "NUL byte"),
        ("C:tiny_v1.dynamo.onnx.da", "drive letter")
    ])
    func refusesEscapingLocations(_ location: String, _ why: String) throws {
        let dir = FixturePaths.temporaryDirectory("onnx-hostile")
        let (data, n) = patched(try bytes("tiny_v1.dynamo.onnx"), Array(Self.dataName.utf8), Array(location.utf8))
        #expect(n > 0)
        try write(data, dir + "/model.onnx")
        // The real data sits where '..' or the absolute path would lead, so only the check can stop the read.
        try write(try bytes(Self.dataName), dir + "/" + Self.dataName)
        let error = try readError(dir + "/model.onnx")
        #expect(error.code == .pathEscape)
        #expect(error.description.contains(why), "\(error)")
        if case .tensor = error.location {} else { Issue.record("the error names no tensor: \(error)") }
    }

    @Test func refusesASymlinkLeavingTheFolder() throws {
        let outside = FixturePaths.temporaryDirectory("onnx-outside")
        let dir = FixturePaths.temporaryDirectory("onnx-hostile")
        try write(try bytes("tiny_v1.dynamo.onnx"), dir + "/tiny_v1.dynamo.onnx")
        try write(try bytes(Self.dataName), outside + "/secret.data")
        try FileManager.default.createSymbolicLink(
            atPath: dir + "/" + Self.dataName, withDestinationPath: outside + "/secret.data")
        let error = try readError(dir + "/tiny_v1.dynamo.onnx")
        #expect(error.code == .pathEscape)
        #expect(error.description.contains("outside the model's folder"), "\(error)")
    }

    @Test func acceptsASymlinkStayingInsideTheFolder() throws {
        let dir = FixturePaths.temporaryDirectory("onnx-inside")
        try write(try bytes("tiny_v1.dynamo.onnx"), dir + "/tiny_v1.dynamo.onnx")
        try FileManager.default.createDirectory(atPath: dir + "/blobs", withIntermediateDirectories: true)
        try write(try bytes(Self.dataName), dir + "/blobs/abc")
        try FileManager.default.createSymbolicLink(atPath: dir + "/" + Self.dataName, withDestinationPath: "blobs/abc")
        let model = try ONNXModel.read(path: dir + "/tiny_v1.dynamo.onnx")
        #expect(model.summary.externalDataFiles == [Self.dataName])
    }

    @Test func refusesAHardLinkedDataFile() throws {
        let dir = FixturePaths.temporaryDirectory("onnx-hostile")
        try write(try bytes("tiny_v1.dynamo.onnx"), dir + "/tiny_v1.dynamo.onnx")
        try write(try bytes(Self.dataName), dir + "/other")
        try FileManager.default.linkItem(atPath: dir + "/other", toPath: dir + "/" + Self.dataName)
        let error = try readError(dir + "/tiny_v1.dynamo.onnx")
        #expect(error.code == .pathEscape)
        #expect(error.description.contains("hard links"), "\(error)")
    }

    // MARK: Truncation and malformed protobuf (A.5 #66, #68, #71, #75)

    @Test func refusesTruncatedModels() throws {
        let full = try bytes("tiny_v1.ts.onnx")
        let dir = FixturePaths.temporaryDirectory("onnx-truncated")
        for cut in [0, 1, 9, 100, full.count / 3, full.count / 2, full.count - 200, full.count - 1] {
            try write(Array(full[0..<cut]), dir + "/cut.onnx")
            let error = try readError(dir + "/cut.onnx")
            #expect([.malformed, .truncated].contains(error.code), "cut at \(cut): \(error)")
            #expect(error.file == dir + "/cut.onnx")
        }
    }

    @Test func refusesTruncatedExternalData() throws {
        let dir = FixturePaths.temporaryDirectory("onnx-truncated")
        try write(try bytes("tiny_v1.dynamo.onnx"), dir + "/tiny_v1.dynamo.onnx")
        let data = try bytes(Self.dataName)
        try write(Array(data[0..<(data.count / 2)]), dir + "/" + Self.dataName)
        let error = try readError(dir + "/tiny_v1.dynamo.onnx")
        #expect(error.code == .truncated)
        #expect(error.description.contains("runs past the end"), "\(error)")
    }

    @Test(
        arguments: [
            [0x0f, 0x01],  // wire type 7
            [0x08] + [UInt8](repeating: 0xff, count: 11) + [0x01],  // 12-byte varint
            [0x3a, 0xff, 0xff, 0xff, 0x0f, 0x00]  // graph length far beyond the end
        ] as [[UInt8]])
    func refusesMalformedProtobuf(_ data: [UInt8]) throws {
        let dir = FixturePaths.temporaryDirectory("onnx-malformed")
        try write(data, dir + "/bad.onnx")
        #expect(try readError(dir + "/bad.onnx").code == .malformed)
    }

    @Test func refusesRawDataOfTheWrongLength() throws {
        // head.fc.bias: dims [10] -> [11]; raw_data still holds 40 bytes.
        let old: [UInt8] = [0x08, 0x0a, 0x10, 0x01, 0x42, 0x0c] + Array("head.fc.bias".utf8)
        var new = old
        new[1] = 0x0b
        let (data, n) = patched(try bytes("tiny_v1.ts.onnx"), old, new)
        #expect(n == 1)
        let dir = FixturePaths.temporaryDirectory("onnx-malformed")
        try write(data, dir + "/m.onnx")
        let error = try readError(dir + "/m.onnx")
        #expect(error.code == .malformed)
        #expect(error.description.contains("head.fc.bias") && error.description.contains("raw_data"), "\(error)")
    }

    @Test func refusesFilesOverTwoGiB() throws {
        let dir = FixturePaths.temporaryDirectory("onnx-huge")
        let path = dir + "/huge.onnx"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(Int32.max) + 1)  // sparse: no disk used
        try handle.close()
        let error = try readError(path)
        #expect(error.code == .limitExceeded)
        #expect(error.description.contains("external data"))
    }

    // MARK: Graphs that do not fit (issue item 4)

    @Test func namesTheFirstNodeThatDoesNotFit() throws {
        // The stem's activation op type LeakyRelu -> LeakyReLU (an op TResNet does not use).
        let old: [UInt8] = [0x22, 0x09] + Array("LeakyRelu".utf8)
        let (data, n) = patched(try bytes("tiny_v1.ts.onnx"), old, [0x22, 0x09] + Array("LeakyReLU".utf8), first: true)
        #expect(n == 1)
        let dir = FixturePaths.temporaryDirectory("onnx-graph")
        try write(data, dir + "/m.onnx")
        let error = try readError(dir + "/m.onnx")
        #expect(error.code == .unsupportedGraph)
        #expect(error.description.contains("node '/body/conv1/bn/act/LeakyRelu'"), "\(error)")
        #expect(error.description.contains("the graph also uses ops a TResNet does not: LeakyReLU"), "\(error)")
    }

    @Test func refusesAWrongSpaceToDepthPermutation() throws {
        // Transpose perm [0,3,5,1,2,4] -> [0,5,3,1,2,4] (the other block order).
        let old: [UInt8] = [0x40, 0x00, 0x40, 0x03, 0x40, 0x05, 0x40, 0x01]
        let (data, n) = patched(try bytes("tiny_v1.ts.onnx"), old, [0x40, 0x00, 0x40, 0x05, 0x40, 0x03, 0x40, 0x01])
        #expect(n == 1)
        let dir = FixturePaths.temporaryDirectory("onnx-graph")
        try write(data, dir + "/m.onnx")
        let error = try readError(dir + "/m.onnx")
        #expect(error.code == .unsupportedGraph)
        #expect(error.description.contains("/body/s2d/Transpose"), "\(error)")
    }
}

struct ONNXDetectionTests {
    @Test func sniffsONNXFilesAndNotOthers() throws {
        for file in ["tiny_v1.ts.onnx", "tiny_v1.ts_bn.onnx", "tiny_v1.dynamo.onnx", "tiny_v2.dynamo.onnx"] {
            let bytes = try #require(FileManager.default.contents(atPath: FixturePaths.tiny(file))).prefix(16)
            #expect(FileFormat.recognise(Array(bytes), fileSize: 1 << 20) == .onnx, "\(file)")
        }
        for file in [
            "tiny_v1.pth", "tiny_v1_legacy.pth", "tiny_v1.safetensors", "tiny_v1.reference.npz",
            "tiny_v1.dynamo.onnx.data", "manifest.json"
        ] {
            let bytes = try #require(FileManager.default.contents(atPath: FixturePaths.tiny(file))).prefix(16)
            #expect(FileFormat.recognise(Array(bytes), fileSize: 1 << 20) != .onnx, "\(file)")
        }
    }
}
