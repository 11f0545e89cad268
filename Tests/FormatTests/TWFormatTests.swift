import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetFormat

/// f32 tensors whose bits cover NaN payloads, ±inf, ±0, subnormals and ordinary values.
func sampleTensors() -> [(name: String, tensor: Tensor)] {
    var rng = SystemRandomNumberGenerator()
    func random(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        let bits: [UInt32] = (0..<n).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }
        let store = bits.withUnsafeBytes { ByteStore.copying($0) }
        return Tensor(dtype: .float32, shape: shape, data: ByteSlice(store: store))
    }
    let special: [UInt32] = [0x7fc0_0001, 0x7f80_0000, 0xff80_0000, 0, 0x8000_0000, 1, 0x807f_ffff, 0x3f80_0000]
    let store = special.withUnsafeBytes { ByteStore.copying($0) }
    return [
        ("body.conv1.conv.weight", random([4, 48, 3, 3])),
        ("body.conv1.bn.weight", random([3])),  // 12 bytes: the next tensor needs padding
        ("special", Tensor(dtype: .float32, shape: [8], data: ByteSlice(store: store))),
        ("scalar", random([])),
        ("empty", random([0, 5])),
        ("head.fc.weight", random([10, 7]))
    ]
}

let sampleMetadata: [String: TWValue] = [
    "arch.layers": .ints([1, 2, 2, 1]), "arch.variant": .string("custom"), "preprocess.mean": .doubles([0, 0, 0]),
    "preprocess.crop_pct": .double(0.875), "conversion.bn_kept_f32": .bool(true), "arch.planes": .int(4),
    "labels.names": .strings(["a", "b"])
]

func writeSample(_ dir: String, _ tensors: [(name: String, tensor: Tensor)] = sampleTensors()) throws -> (
    String, [UInt8]
) {
    let path = dir + "/m.tw"
    try TWWriter.write(tensors, metadata: sampleMetadata, to: path, overwrite: false)
    return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
}

func openBytes(_ bytes: [UInt8], verify: Bool = false) throws -> TWFile {
    try TWFile(store: ByteStore.copying(bytes), verifyChecksums: verify)
}

func twError(_ body: () throws -> Void) -> TResNetError? {
    do { try body() } catch let e as TResNetError { return e } catch { return nil }
    return nil
}

/// Rewrites the header checksum after an index edit, so the later checks (not the checksum) are exercised.
func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var b = bytes
    let ml = b[32..<40].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    let il = b[40..<48].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    guard ml < 1 << 40, il < 1 << 40, 64 + Int(ml) + Int(il) <= b.count else { return b }  // lengths now point outside
    let sum = b.withUnsafeBytes { TWLayout.headerChecksum($0, indexEnd: 64 + Int(ml) + Int(il)) }
    withUnsafeBytes(of: sum.littleEndian) { for i in 0..<8 { b[56 + i] = $0[i] } }
    return b
}

@Suite struct TWRoundTripTests {
    @Test func f32RoundTripIsBitExactAndZeroCopy() throws {
        let dir = FixturePaths.temporaryDirectory("tw")
        let tensors = sampleTensors()
        let (path, bytes) = try writeSample(dir, tensors)
        let file = try TWFile.open(path: path, verifyChecksums: true)
        #expect(file.entries.map(\.name) == tensors.map(\.name))
        for (name, t) in tensors {
            let r = try #require(file.tensor(name))
            #expect(r.dtype == t.dtype && r.shape == t.shape)
            #expect(r.data.toArray() == t.data.toArray(), "\(name)")
            #expect(r.data.store === file.store)
            #expect(Int(bitPattern: r.data.bytes.baseAddress) % 64 == 0 || r.byteCount == 0)
        }
        for (k, v) in sampleMetadata { #expect(file[metadata: k] == v) }
        #expect(file.metadata.map(\.key) == sampleMetadata.keys.sorted())
        // Writing the same content again gives the same bytes (canonical form).
        try FileManager.default.removeItem(atPath: path)
        let (_, again) = try writeSample(dir, tensors)
        #expect(again == bytes)
    }

    @Test(arguments: [DType.float16, .bfloat16])
    func narrowDTypesRoundTrip(dtype: DType) throws {
        let dir = FixturePaths.temporaryDirectory("tw")
        let t = try Tensor(shape: [3, 5], floats: (0..<15).map { Float($0) * 0.37 - 2 }).converted(to: dtype)
        let path = dir + "/n.tw"
        try TWWriter.write([("w", t)], metadata: [:], to: path, overwrite: false)
        let r = try #require(try TWFile.open(path: path, verifyChecksums: true).tensor("w"))
        #expect(r.dtype == dtype)
        #expect(r.data.toArray() == t.data.toArray())
    }

    @Test func refusesUnsupportedDType() throws {
        let store = ByteStore.allocate(count: 8) { _ in }
        let t = Tensor(dtype: .int64, shape: [1], data: ByteSlice(store: store))
        let dir = FixturePaths.temporaryDirectory("tw")
        #expect(
            twError { try TWWriter.write([("n", t)], metadata: [:], to: dir + "/x.tw", overwrite: false) }?.code
                == .unsupported)
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.tw"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}

@Suite struct TWValidationTests {
    @Test func truncatedAtEveryRegionIsRejected() throws {
        let (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw"))
        let file = try openBytes(bytes)
        let cuts = [0, 7, 40, 63, 64, 70, file.dataOffset - 1, file.dataOffset, file.dataOffset + 100, bytes.count - 1]
        for cut in cuts {
            let e = twError { _ = try openBytes(Array(bytes[0..<cut])) }
            #expect(e?.code == .truncated, "cut at \(cut): \(String(describing: e))")
            #expect(e?.format == "tw")
        }
    }

    @Test func badMagic() throws {
        var (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw"))
        bytes[1] = UInt8(ascii: "X")
        #expect(twError { _ = try openBytes(bytes) }?.message.contains("bad magic") == true)
    }

    @Test func corruptIndexFailsHeaderChecksum() throws {
        var (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw"))
        let file = try openBytes(bytes)
        bytes[file.dataOffset - 80] ^= 0x01  // somewhere in the index (or padding before data)
        let e = twError { _ = try openBytes(bytes) }
        #expect(e?.code == .checksumMismatch || e?.message.contains("padding") == true)
    }

    @Test func overlappingOffsetsAreRejected() throws {
        let (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw"))
        let file = try openBytes(bytes)
        // Point the second tensor's offset at the first tensor's bytes (offset 0).
        let second = file.entries[1]
        let pattern =
            withUnsafeBytes(of: UInt64(second.offset).littleEndian) { Array($0) }
            + withUnsafeBytes(of: UInt64(second.length).littleEndian) { Array($0) }
        let at = try #require(findSubsequence(bytes, pattern, from: 64))
        var edited = bytes
        for i in 0..<8 { edited[at + i] = 0 }
        let e = twError { _ = try openBytes(resealed(edited)) }
        #expect(e?.message.contains("expected \(second.offset)") == true, "\(String(describing: e))")
        #expect(e?.description.contains("body.conv1.bn.weight") == true)
    }

    @Test func tensorChecksumMismatchNamesTheTensor() throws {
        var (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw"))
        let file = try openBytes(bytes)
        let head = try #require(file.entries.last)
        bytes[file.dataOffset + head.offset + 3] ^= 0x40
        _ = try openBytes(bytes)  // structure still valid without checksums
        let e = twError { _ = try openBytes(bytes, verify: true) }
        #expect(e?.code == .checksumMismatch)
        #expect(e?.description.contains("head.fc.weight") == true)
    }

    @Test func trailingBytesAreRejected() throws {
        let (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw"))
        let e = twError { _ = try openBytes(bytes + [0]) }
        #expect(e?.message.contains("trailing bytes") == true)
        // Even when the declared length is patched to match.
        var patched = bytes + [UInt8](repeating: 0, count: 64)
        withUnsafeBytes(of: UInt64(patched.count).littleEndian) { for i in 0..<8 { patched[48 + i] = $0[i] } }
        let e2 = twError { _ = try openBytes(resealed(patched)) }
        #expect(e2?.message.contains("trailing bytes") == true, "\(String(describing: e2))")
    }

    @Test func nonZeroPaddingIsRejected() throws {
        var (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw"))
        let file = try openBytes(bytes)
        let bn = file.entries[1]  // 12 bytes, followed by 52 bytes of padding
        bytes[file.dataOffset + bn.offset + bn.length + 5] = 1
        #expect(twError { _ = try openBytes(bytes) }?.message.contains("padding byte is not zero") == true)
    }

    @Test func reservedFieldsMustBeZero() throws {
        // Resealed after each edit, so the reserved-field checks run (not the header checksum).
        let (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw"))
        var flags = bytes
        flags[20] = 1
        let e = twError { _ = try openBytes(resealed(flags)) }
        #expect(e?.message.contains("reserved flags are not zero") == true, "\(String(describing: e))")
        #expect(e?.description.contains("offset 20") == true, "\(String(describing: e))")
        // The two reserved bytes after dtype and rank in the first index entry.
        let file = try openBytes(bytes)
        let first = file.entries[0]
        let name = Array(first.name.utf8)
        let at = try #require(findSubsequence(bytes, name, from: 64)) + name.count + 2
        #expect(bytes[at] == 0 && bytes[at + 1] == 0)
        var entry = bytes
        entry[at + 1] = 0x80
        let e2 = twError { _ = try openBytes(resealed(entry)) }
        #expect(e2?.message.contains("reserved bytes are not zero") == true, "\(String(describing: e2))")
        #expect(e2?.description.contains(first.name) == true)
    }

    @Test func unsortedMetadataIsRejected() throws {
        // Swap two equal-length keys in place: same bytes otherwise, so only the order check can fail.
        let dir = FixturePaths.temporaryDirectory("tw")
        let path = dir + "/k.tw"
        try TWWriter.write([], metadata: ["aa": .int(1), "ab": .int(2)], to: path, overwrite: false)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let a = try #require(findSubsequence(bytes, Array("aa".utf8), from: 64))
        let b = try #require(findSubsequence(bytes, Array("ab".utf8), from: a + 2))
        bytes[a + 1] = UInt8(ascii: "b")
        bytes[b + 1] = UInt8(ascii: "a")
        let e = twError { _ = try openBytes(resealed(bytes)) }
        #expect(e?.message.contains("out of order") == true)
    }

    @Test func opensLargeFileWithoutReadingTensorBytes() throws {
        // 128 MiB of data. Opening validates the header, metadata and index only; how long that takes is
        // measured by `tresnet-bench --open-only` in docs/BENCHMARKS.md (speed targets live in benchmarks).
        let dir = FixturePaths.temporaryDirectory("tw")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = Tensor(
            dtype: .float32, shape: [8, 1 << 20], data: ByteSlice(store: ByteStore.allocate(count: 32 << 20) { _ in }))
        let path = dir + "/big.tw"
        try TWWriter.write((0..<4).map { ("t\($0)", t) }, metadata: [:], to: path, overwrite: false)
        let file = try TWFile.open(path: path)
        #expect(file.entries.count == 4)
        #expect(file.entries.map(\.length) == [Int](repeating: 32 << 20, count: 4))
    }
}

func findSubsequence(_ haystack: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    for i in from...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle { return i }
    return nil
}

@Suite struct TWMutationTests {
    /// Random byte flips, truncations and extensions never trap: each open either succeeds or throws a
    /// `TResNetError` from the `tw` reader.
    @Test func mutatedFilesNeverTrap() throws {
        let (_, bytes) = try writeSample(FixturePaths.temporaryDirectory("tw"))
        var rng = SystemRandomNumberGenerator()
        var rejected = 0
        for round in 0..<3000 {
            var b = bytes
            switch round % 3 {
            case 0:
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                }
            case 1:
                b = Array(b[0..<Int.random(in: 0..<b.count, using: &rng)])
            default:
                // Flip bytes in the header/index region and reseal, so the checks past the checksum run.
                let file = try openBytes(bytes)
                b[Int.random(in: 8..<file.dataOffset, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                if b.count >= 64 { b = resealed(b) }
            }
            do { _ = try openBytes(b, verify: true) } catch let e as TResNetError {
                #expect(e.format == "tw")
                rejected += 1
            }
        }
        #expect(rejected > 2500)
    }
}
