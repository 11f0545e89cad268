import TestSupport
import Testing
import TResNetCore
import TResNetCheckpoint

/// One crafted file per validation rule (docs/ROBUSTNESS.md A.4 #54–#64); each asserts its own code and message.
@Suite("SafetensorsReader hostile input")
struct SafetensorsHostileTests {
    /// `u64 length | header | data`; `length` overrides the true header length.
    func crafted(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> ByteStore {
        let h = Array(header.utf8)
        let n = length ?? UInt64(h.count)
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) }
        bytes += h
        bytes += data
        return ByteStore.copying(bytes)
    }

    func refusal(_ store: ByteStore) -> TResNetError? {
        do {
            _ = try SafetensorsReader.read(store, path: "crafted.safetensors")
            return nil
        } catch let e as TResNetError {
            return e
        } catch {
            return nil
        }
    }

    func expectRefused(
        _ store: ByteStore, _ code: TResNetError.Code, _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let e = refusal(store)
        #expect(e != nil, "accepted", sourceLocation: sourceLocation)
        #expect(e?.code == code, "code \(e?.code.name ?? "-"): \(e?.description ?? "")", sourceLocation: sourceLocation)
        #expect(
            e?.message.contains(fragment) == true, "message: \(e?.description ?? "")", sourceLocation: sourceLocation)
        #expect(e?.format == "safetensors", sourceLocation: sourceLocation)
        #expect(e?.file == "crafted.safetensors", sourceLocation: sourceLocation)
    }

    func entry(_ name: String, _ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
    }

    let eight = [UInt8](repeating: 7, count: 8)

    @Test func tooShortForTheLength() {
        expectRefused(ByteStore.copying([1, 0, 0]), .truncated, "needs 8 bytes")
    }

    @Test func headerTooLarge() {
        expectRefused(crafted("{}", length: 100_000_001), .limitExceeded, "exceeds the 100000000-byte limit")
        expectRefused(crafted("{}", length: UInt64.max), .limitExceeded, "exceeds")
    }

    @Test func headerLengthBeyondTheFile() {
        expectRefused(crafted("{}", length: 3), .truncated, "beyond the file")
    }

    @Test func headerNotStartingWithBrace() {
        expectRefused(crafted(" {}"), .malformed, "does not begin with '{'")
        expectRefused(crafted("[]"), .malformed, "does not begin with '{'")
        expectRefused(crafted(""), .malformed, "does not begin with '{'")
    }

    @Test func headerNotAnObjectOrNotJSON() {
        expectRefused(crafted("{\"a\": }"), .malformed, "invalid JSON")
        expectRefused(crafted("{} x"), .malformed, "after the JSON value")
        expectRefused(crafted("{}\u{0}"), .malformed, "invalid JSON")
    }

    @Test func trailingWhitespacePaddingIsAccepted() throws {
        let h = "{" + entry("w", "F32", [2], 0, 8) + "}   \n\t "
        let (dict, _) = try SafetensorsReader.read(crafted(h, data: eight), path: "p")
        #expect(dict["w"]?.shape == [2])
    }

    @Test func duplicateTensorName() {
        let h = "{" + entry("w", "U8", [4], 0, 4) + "," + entry("w", "F32", [1], 0, 4) + "}"
        expectRefused(crafted(h, data: [1, 2, 3, 4]), .malformed, "duplicate key 'w'")
        let m = "{\"__metadata__\":{},\"__metadata__\":{}}"
        expectRefused(crafted(m), .malformed, "duplicate key '__metadata__'")
    }

    @Test func unknownDtype() {
        expectRefused(crafted("{" + entry("w", "F33", [2], 0, 8) + "}", data: eight), .malformed, "unknown dtype 'F33'")
        expectRefused(crafted("{" + entry("w", "f32", [2], 0, 8) + "}", data: eight), .malformed, "unknown dtype 'f32'")
        expectRefused(
            crafted("{" + entry("w", "F8_E8M0", [8], 0, 8) + "}", data: eight), .unsupported,
            "F8_E8M0 is not supported")
    }

    @Test func hole() {
        let h = "{" + entry("a", "F32", [1], 0, 4) + "," + entry("b", "F32", [1], 8, 12) + "}"
        expectRefused(crafted(h, data: eight + [0, 0, 0, 0]), .malformed, "leave a hole")
        let late = "{" + entry("a", "F32", [1], 4, 8) + "}"
        expectRefused(crafted(late, data: eight), .malformed, "leave a hole")
    }

    @Test func overlap() {
        let h = "{" + entry("a", "F32", [2], 0, 8) + "," + entry("b", "F32", [2], 4, 12) + "}"
        expectRefused(crafted(h, data: eight + [0, 0, 0, 0]), .malformed, "overlap")
        // Two tensors sharing one range (the overlap DoS) are refused too.
        let shared = "{" + entry("a", "F32", [2], 0, 8) + "," + entry("b", "F32", [2], 0, 8) + "}"
        expectRefused(crafted(shared, data: eight), .malformed, "overlap")
    }

    @Test func sizeMismatch() {
        let h = "{" + entry("w", "F32", [3], 0, 8) + "}"
        expectRefused(crafted(h, data: eight), .malformed, "hold 8 bytes but shape [3] F32 needs 12")
    }

    @Test func shapeProductOverflow() {
        let h = "{" + entry("w", "F32", [4_194_305, 4_194_305, 211_106_198_978_564], 0, 8) + "}"
        expectRefused(crafted(h, data: eight), .sizeOverflow, "overflows")
    }

    @Test func trailingBytes() {
        let h = "{" + entry("w", "F32", [2], 0, 8) + "}"
        expectRefused(crafted(h, data: eight + [0]), .malformed, "1 trailing bytes after the last tensor")
    }

    @Test func offsetsPastEndOfFile() {
        let h = "{" + entry("w", "F32", [4], 0, 16) + "}"
        expectRefused(crafted(h, data: eight), .truncated, "past the end of the file")
    }

    @Test func nonStringMetadata() {
        expectRefused(crafted("{\"__metadata__\":{\"a\":1}}"), .malformed, "metadata values must be strings")
        expectRefused(crafted("{\"__metadata__\":[\"a\"]}"), .malformed, "not an object of strings")
    }

    @Test func badShapesAndOffsets() {
        let neg = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,8]}}"
        expectRefused(crafted(neg, data: eight), .malformed, "non-negative integers")
        let fraction = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}"
        expectRefused(crafted(fraction, data: eight), .malformed, "non-negative integers")
        let three = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}"
        expectRefused(crafted(three, data: eight), .malformed, "exactly two integers")
        let reversed = "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}"
        expectRefused(crafted(reversed, data: eight), .malformed, "begin is after end")
        let huge = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[18446744073709551615,0]}}"
        expectRefused(crafted(huge, data: eight), .sizeOverflow, "too large")
        let stringy = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",\"8\"]}}"
        expectRefused(crafted(stringy, data: eight), .malformed, "non-negative integers")
        let missing = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}"
        expectRefused(crafted(missing, data: eight), .malformed, "missing 'data_offsets'")
        let extra = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"stride\":[1]}}"
        expectRefused(crafted(extra, data: eight), .malformed, "unknown field 'stride'")
        expectRefused(crafted("{\"w\":[1]}"), .malformed, "not an object")
    }

    @Test func zeroDimensionalAndEmptyTensorsAreAccepted() throws {
        // Several empty tensors at one offset are harmless (docs/ROBUSTNESS.md #64); a 0-d tensor holds one element.
        let h =
            "{"
            + [entry("e1", "F32", [0, 3], 0, 0), entry("s", "I64", [], 0, 8), entry("e2", "F16", [0], 8, 8)]
            .joined(separator: ",") + "}"
        let (dict, _) = try SafetensorsReader.read(crafted(h, data: eight), path: "p")
        #expect(dict.names == ["e1", "s", "e2"])
        #expect(dict["s"]?.shape == [])
        #expect(dict["s"]?.scalar(at: 0) == Double(Int64(0x0707_0707_0707_0707)))
        #expect(dict["e1"]?.byteCount == 0)
    }

    @Test func hostileNamesAreEscapedInMessages() {
        let h = "{" + entry("evil\\u001b[2J", "F33", [2], 0, 8) + "}"
        let e = refusal(crafted(h, data: eight))
        #expect(e?.description.contains("\u{1b}") == false)
        #expect(e?.description.contains("\\x1b[2J") == true)
    }
}

@Suite("SafetensorsReader mutations")
struct SafetensorsMutationTests {
    /// Deterministic byte mutations of a small valid file: each is read or refused with a `TResNetError`; never a
    /// trap (a trap would end the test process).
    @Test func mutatedFilesNeverTrap() throws {
        let h =
            "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]}}"
        var base = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(h.utf8.count) >> (8 * UInt64($0))) }
        base += Array(h.utf8) + [UInt8](repeating: 1, count: 24)
        _ = try SafetensorsReader.read(ByteStore.copying(base), path: "base")
        var rng = SplitMix64(seed: 54)
        var refused = 0
        for _ in 0..<3000 {
            var bytes = base
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let i = Int(rng.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            do {
                _ = try SafetensorsReader.read(ByteStore.copying(bytes), path: "m")
            } catch is TResNetError {
                refused += 1
            }
        }
        #expect(refused > 1000)
    }
}

@Suite("SafetensorsReader limits")
struct SafetensorsLimitTests {
    @Test func shapesLongerThanTheRankLimitAreRefusedWhileParsing() {
        let dims = [String](repeating: "1", count: 65).joined(separator: ",")
        let h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[\(dims)],\"data_offsets\":[0,4]}}"
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(h.utf8.count) >> (8 * UInt64($0))) }
        bytes += Array(h.utf8) + [0, 0, 0, 0]
        do {
            _ = try SafetensorsReader.read(ByteStore.copying(bytes), path: "r")
            Issue.record("accepted")
        } catch let e as TResNetError {
            #expect(e.code == .limitExceeded)
            #expect(e.message.contains("longer than 64 elements"), "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
