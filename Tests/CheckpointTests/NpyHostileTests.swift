import Foundation
import Testing
import TResNetCore
import TResNetCheckpoint
import TestSupport

/// Crafted bad `.npy` inputs (docs/ROBUSTNESS.md A.6 #81–#88); each asserts its code and message.
@Suite("NpyArray hostile input")
struct NpyHostileTests {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// A v1.0 (u16 length) or v2.0 (u32 length) file with `header` verbatim and `data` after it.
    func npy(_ header: String, data: [UInt8], version: UInt8 = 1, declaredLength: Int? = nil) -> ByteSlice {
        let h = Array(header.utf8)
        let n = declaredLength ?? h.count
        var bytes = Self.magic + [version, 0]
        if version == 1 {
            bytes += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF)]
        } else {
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) }
        }
        return ByteSlice(store: ByteStore.copying(bytes + h + data))
    }

    func header(descr: String = "'<f4'", fortran: String = "False", shape: String = "(2,)") -> String {
        "{'descr': \(descr), 'fortran_order': \(fortran), 'shape': \(shape), }\n"
    }

    let eight = [UInt8](repeating: 0, count: 8)

    func expectRefused(
        _ slice: ByteSlice, _ code: TResNetError.Code, _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let t = try NpyArray.read(slice, name: "crafted.npy")
            Issue.record("accepted as \(t)", sourceLocation: sourceLocation)
        } catch let e as TResNetError {
            #expect(e.code == code, "code \(e.code): \(e)", sourceLocation: sourceLocation)
            #expect(e.message.contains(fragment), "message: \(e)", sourceLocation: sourceLocation)
            #expect(e.format == "npy", sourceLocation: sourceLocation)
            #expect(e.file == "crafted.npy", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a TResNetError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func craftedBaselineIsAccepted() throws {
        // The helper makes valid files, so each refusal below is due to its one change.
        let t = try NpyArray.read(npy(header(), data: eight), name: "ok")
        #expect(t.shape == [2])
        let t2 = try NpyArray.read(npy(header(), data: eight, version: 2), name: "ok")
        #expect(t2.dtype == .float32)
    }

    @Test func badMagicAndVersion() {
        var bytes = Self.magic + [1, 0, 0, 0]
        bytes[1] = UInt8(ascii: "n")
        expectRefused(ByteSlice(store: ByteStore.copying(bytes)), .unrecognizedContainer, "bad magic")
        expectRefused(npy(header(), data: eight, version: 4), .unsupported, "version 4.0")
        expectRefused(ByteSlice(store: ByteStore.copying(Array(Self.magic.prefix(4)))), .truncated, "need 8 bytes")
    }

    @Test func headerTooLargeIsRefusedBeforeReadingIt() {
        // Declares 10,001 header bytes but holds only a few: the limit, not truncation, must be reported.
        expectRefused(
            npy(header(), data: eight, version: 2, declaredLength: 10_001), .limitExceeded,
            "header length 10001 exceeds the 10000-byte limit")
        expectRefused(
            npy(header(), data: eight, version: 2, declaredLength: Int(UInt32.max)), .limitExceeded,
            "exceeds the 10000-byte limit")
        let big = header() + String(repeating: " ", count: 10_001)
        expectRefused(npy(big, data: eight, version: 2), .limitExceeded, "exceeds the 10000-byte limit")
        expectRefused(npy(header(), data: eight, declaredLength: 9_000), .truncated, "truncated")
    }

    @Test func objectAndUnsupportedDtypes() {
        expectRefused(npy(header(descr: "'|O'"), data: eight), .unsupported, "object arrays need pickle; refused")
        expectRefused(npy(header(descr: "'<U3'"), data: eight), .unsupported, "string arrays are not supported")
        expectRefused(npy(header(descr: "'<M8[ns]'"), data: eight), .unsupported, "datetime")
        expectRefused(npy(header(descr: "'<c8'"), data: eight), .unsupported, "complex")
        expectRefused(npy(header(descr: "[('a', '<f4')]"), data: eight), .malformed, "structured dtypes")
        expectRefused(npy(header(descr: "'f4'"), data: eight), .unsupported, "not supported")
    }

    @Test func shapeAndByteCountMismatch() {
        expectRefused(npy(header(shape: "(3,)"), data: eight), .truncated, "needs 12 bytes of data, 8 remain")
        expectRefused(npy(header(shape: "(1,)"), data: eight), .malformed, "4 trailing bytes after the array data")
        expectRefused(npy(header(shape: "(2, 0)"), data: eight), .malformed, "8 trailing bytes")
        expectRefused(npy(header(shape: "(-2,)"), data: eight), .malformed, "negative dimension")
        expectRefused(
            npy(header(shape: "(4194305, 4194305, 211106198978564)"), data: eight), .sizeOverflow, "overflows")
        expectRefused(npy(header(shape: "(99999999999999999999999,)"), data: eight), .sizeOverflow, "too large")
        expectRefused(npy(header(shape: "(2)"), data: eight), .malformed, "not one")
        expectRefused(npy(header(shape: "[2]"), data: eight), .malformed, "list literals")
        expectRefused(npy(header(shape: "(2.0,)"), data: eight), .malformed, "',' or ')'")
    }

    @Test func trailingBytesAfterARealFile() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: NpyExpected.path("f32_c.npy"))))
        bytes.append(0)
        expectRefused(ByteSlice(store: ByteStore.copying(bytes)), .malformed, "1 trailing bytes")
    }

    @Test func expressionsInsteadOfLiterals() {
        expectRefused(npy(header(shape: "(2*1,)"), data: eight), .malformed, "',' or ')'")
        expectRefused(npy(header(descr: "np.float32"), data: eight), .malformed, "expected a literal")
        expectRefused(
            npy(header(fortran: "__import__('os').system('true')"), data: eight), .malformed,
            "expected a literal")
        expectRefused(npy(header(fortran: "Truex"), data: eight), .malformed, "expected a literal")
        expectRefused(npy(header(fortran: "1"), data: eight), .malformed, "expected a literal")
        expectRefused(npy(header(descr: "'<f' '4'"), data: eight), .malformed, "',' or '}'")
        expectRefused(
            npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} + {}\n", data: eight),
            .malformed, "after the header dictionary")
    }

    @Test func keysMustBeExactlyTheThree() {
        expectRefused(npy("{'descr': '<f4', 'shape': (2,), }\n", data: eight), .malformed, "missing 'fortran_order'")
        expectRefused(
            npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 'y'}\n", data: eight),
            .malformed, "unexpected 'x'")
        expectRefused(
            npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", data: eight),
            .malformed, "duplicate key 'descr'")
        expectRefused(
            npy("{'descr': '<f4', 'fortran_order': 'no', 'shape': (2,)}\n", data: eight),
            .malformed, "True or False")
        expectRefused(
            npy("{'descr': '<f4', 'fortran_order': False, 'shape': '2'}\n", data: eight),
            .malformed, "tuple of integers")
        expectRefused(npy("('descr', '<f4')\n", data: eight), .malformed, "'{'")
    }

    @Test func everyTruncationIsRefused() throws {
        for file in ["f32_fortran.npy", "big_endian_f4.npy", "f32_v2.npy"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: NpyExpected.path(file))))
            for cut in 0..<bytes.count {
                let slice = ByteSlice(store: ByteStore.copying(Array(bytes[0..<cut])))
                #expect(throws: TResNetError.self, "\(file) cut at \(cut)") { _ = try NpyArray.read(slice, name: file) }
            }
        }
    }
}

@Suite("NpyArray mutations")
struct NpyMutationTests {
    /// Deterministic byte mutations of real numpy files: read or refused with a `TResNetError`, never a trap.
    @Test func mutatedFilesNeverTrap() throws {
        var rng = SplitMix64(seed: 81)
        for file in ["f32_fortran.npy", "big_endian_i2_fortran.npy", "f32_v3.npy"] {
            let base = [UInt8](try Data(contentsOf: URL(fileURLWithPath: NpyExpected.path(file))))
            var refused = 0
            for _ in 0..<1500 {
                var bytes = base
                for _ in 0..<Int(rng.next() % 3 + 1) {
                    // Mostly the preamble and header, where the parsing is.
                    let i = Int(rng.next() % UInt64(min(bytes.count, 140)))
                    bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                do {
                    _ = try NpyArray.read(ByteSlice(store: ByteStore.copying(bytes)), name: file)
                } catch is TResNetError {
                    refused += 1
                }
            }
            #expect(refused > 300, "\(file)")
        }
    }
}
