import Foundation
import Testing
import TResNetCore
import TResNetCheckpoint
import TestSupport

/// Fixtures/tiny/npy: arrays written by numpy (Fixtures/gen_numpy.py) and numpy's own record of them.
struct NpyExpected {
    struct Entry {
        let file: String
        let dtype: String
        let shape: [Int]
        let fortranOrder: Bool
        let values: [JSONValue]
    }

    let arrays: [Entry]
    let refused: [(file: String, reason: String)]
    /// npz file → members (name, dtype, shape, values) in archive order.
    let npz: [(file: String, members: [Entry])]

    static func path(_ name: String) -> String { FixturePaths.tiny("npy/" + name) }

    static func load() throws -> NpyExpected {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path("expected.json"))))
        let json = try bytes.withUnsafeBytes { try JSONParser.parse($0, format: "expected.json") }
        func array(_ v: JSONValue, file: String? = nil) throws -> Entry {
            Entry(
                file: try #require(file ?? v["file"]?.stringValue),
                dtype: try #require(v["dtype"]?.stringValue),
                shape: try #require(v["shape"]?.arrayElements).map { try #require($0.intValue) },
                fortranOrder: v["fortran_order"]?.boolValue ?? false,
                values: try #require(v["values"]?.arrayElements))
        }
        let arrays = try #require(json["arrays"]?.arrayElements).map { try array($0) }
        let refused = try #require(json["refused"]?.arrayElements).map {
            (file: try #require($0["file"]?.stringValue), reason: try #require($0["reason"]?.stringValue))
        }
        let npz = try #require(json["npz"]?.arrayElements).map { z in
            (
                file: try #require(z["file"]?.stringValue),
                members: try #require(z["members"]?.arrayElements).map { try array($0, file: $0["name"]?.stringValue) }
            )
        }
        return NpyExpected(arrays: arrays, refused: refused, npz: npz)
    }

    /// Checks dtype, shape and every value exactly (integers compared as Int64, floats as the Double numpy wrote).
    static func check(_ tensor: Tensor, against e: Entry, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(tensor.dtype.rawValue == e.dtype, "\(e.file) dtype", sourceLocation: sourceLocation)
        #expect(tensor.shape == e.shape, "\(e.file) shape", sourceLocation: sourceLocation)
        #expect(tensor.elementCount == e.values.count, "\(e.file) count", sourceLocation: sourceLocation)
        guard tensor.elementCount == e.values.count else { return }
        let b = tensor.data.bytes
        for (i, v) in e.values.enumerated() {
            let ok: Bool
            switch (tensor.dtype, v) {
            case (.int64, .number(let n)):
                ok =
                    n.int.map { Int64($0) }
                    == Int64(littleEndian: b.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
            case (.bool, .bool(let x)):
                ok = tensor.scalar(at: i) == (x ? 1 : 0)
            case (_, .number(let n)):
                ok = tensor.scalar(at: i) == n.double
            default:
                ok = false
            }
            let got = tensor.scalar(at: i).map { String($0) } ?? "-"
            let message = "\(e.file)[\(i)]: \(got) vs \(String(describing: v))"
            #expect(ok, Comment(rawValue: message), sourceLocation: sourceLocation)
        }
    }
}

@Suite("NpyArray fixtures")
struct NpyFixtureTests {
    @Test func everyArrayMatchesNumpy() throws {
        let expected = try NpyExpected.load()
        #expect(expected.arrays.count >= 17)
        #expect(expected.arrays.contains { $0.fortranOrder && $0.shape.count == 3 })
        for e in expected.arrays {
            let tensor = try NpyArray.read(path: NpyExpected.path(e.file))
            NpyExpected.check(tensor, against: e)
        }
    }

    @Test func littleEndianCOrderIsZeroCopy() throws {
        let store = try ByteStore.map(path: NpyExpected.path("f32_c.npy"))
        let tensor = try NpyArray.read(ByteSlice(store: store), name: "f32_c.npy")
        #expect(tensor.data.store === store)
        #expect(tensor.data.offset == 128)
    }

    @Test func objectArraysAreRefused() throws {
        let expected = try NpyExpected.load()
        #expect(!expected.refused.isEmpty)
        for r in expected.refused {
            do {
                _ = try NpyArray.read(path: NpyExpected.path(r.file))
                Issue.record("\(r.file) accepted")
            } catch let e as TResNetError {
                #expect(e.code == .unsupported)
                #expect(e.message.contains("object arrays need pickle; refused"), "\(e)")
                #expect(e.format == "npy")
                #expect(e.file == NpyExpected.path(r.file))
            }
        }
    }

    /// numpy.save's output for every C-order v1.0 fixture is reproduced byte for byte; a Fortran-order array
    /// written back is numpy's C-order file of the same values.
    @Test func writerReproducesNumpySave() throws {
        let dir = FixturePaths.temporaryDirectory("npy")
        let same = ["f32_c", "f16", "f64", "i64", "i32", "i16", "i8", "u8", "bool", "scalar_0d", "empty"]
        let pairs = same.map { ($0, $0) } + [("f32_fortran", "f32_c"), ("f32_v2", "f32_c"), ("f32_v3", "f32_c")]
        for (source, target) in pairs {
            let tensor = try NpyArray.read(path: NpyExpected.path(source + ".npy"))
            let out = dir + "/" + source + ".npy"
            try NpyArray.write(tensor, to: out, overwrite: false)
            let written = try Data(contentsOf: URL(fileURLWithPath: out))
            let numpy = try Data(contentsOf: URL(fileURLWithPath: NpyExpected.path(target + ".npy")))
            #expect(written == numpy, "\(source) → \(target)")
        }
    }

    @Test func writerRefusesWhatNumpyCannotHold() throws {
        let f = try NpyArray.read(path: NpyExpected.path("f32_c.npy"))
        let out = FixturePaths.temporaryDirectory("npy") + "/bf16.npy"
        #expect(throws: TResNetError.self) { try NpyArray.write(try f.converted(to: .bfloat16), to: out) }
        #expect(!FileManager.default.fileExists(atPath: out))
        try NpyArray.write(f, to: out, overwrite: false)
        do {
            try NpyArray.write(f, to: out, overwrite: false)
            Issue.record("overwrote")
        } catch let e as TResNetError {
            #expect(e.code == .outputExists)
        }
    }
}
