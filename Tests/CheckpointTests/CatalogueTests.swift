import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

/// Catalogue rows (docs/ROBUSTNESS.md) that had no test of their own (docs/ROBUSTNESS.md lists every row and
/// the test that covers it). Each case asserts its error code and a message fragment.
@Suite("Hostile-input catalogue")
struct CatalogueTests {
    static func hostile(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: FixturePaths.path("hostile/" + name))))
    }

    func refusal(_ bytes: [UInt8], path: String = "crafted") -> TResNetError? {
        #expect(throws: TResNetError.self) { try CheckpointReader.read(ByteStore.copying(bytes), path: path) }
    }

    func pickleRefusal(_ bytes: [UInt8]) -> TResNetError? {
        #expect(throws: TResNetError.self) { try bytes.withUnsafeBytes { try PickleMachine.parse($0) } }
    }

    // MARK: A.0

    @Test("#7: gzip- and 7z-wrapped checkpoints are sniffed by content and refused as unrecognised")
    func wrappedCheckpoints() throws {
        #expect(try CheckpointReader.read(ByteStore.copying(Self.hostile("small.pth")), path: "s").stateDict.count == 3)
        for name in ["gzip_wrapped.pth", "sevenzip_wrapped.pth"] {
            let e = refusal(try Self.hostile(name), path: name)
            #expect(e?.code == .unrecognizedContainer, "\(name): \(String(describing: e))")
            #expect(e?.description.contains(name) == true)
        }
    }

    @Test("#13: NaN, ±Inf and denormals are data: loaded bit for bit")
    func specialFloats() throws {
        let loaded = try CheckpointReader.read(ByteStore.copying(Self.hostile("nan_inf.safetensors")), path: "n")
        let values = try #require(loaded.stateDict["special"]).floats()
        #expect(values.count == 6)
        #expect(values[0].isNaN && values[1] == .infinity && values[2] == -.infinity)
        #expect(values[3].isSubnormal && values[3] > 0)
        #expect(values[4] == 0 && values[5] == 0 && values[5].sign == .minus)
    }

    // MARK: A.1 pickle

    @Test("#20: LONG_BINPUT/LONG_BINGET at index 2^32−1 use a dictionary memo (no array sized by the index)")
    func hugeMemoIndex() throws {
        let p: [UInt8] = [0x80, 0x02, 0x4B, 7, 0x72, 0xFF, 0xFF, 0xFF, 0xFF, 0x30, 0x6A, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E]
        let m = ResourceProbe.measure {
            let r = try? p.withUnsafeBytes { try PickleMachine.parse($0) }
            #expect(r.map { $0.arena.summary($0.root) } == "int 7")  // CPython's _pickle raises MemoryError here
        }
        #expect(m.peakGrowthBytes < 16 << 20, "\(m)")
    }

    @Test("#21: MEMOIZE and PUT mixed resolve as CPython does (memo slot = memo size at MEMOIZE)")
    func memoConfusion() throws {
        // PROTO 4, K 1, BINPUT 5, POP, K 2, MEMOIZE (→ slot 1: the memo holds one entry), POP,
        // MARK BINGET 5 BINGET 1 TUPLE STOP → (1, 2) under CPython's pickle.loads.
        let p: [UInt8] = [0x80, 0x04, 0x4B, 1, 0x71, 5, 0x30, 0x4B, 2, 0x94, 0x30, 0x28, 0x68, 5, 0x68, 1, 0x74, 0x2E]
        let r = try p.withUnsafeBytes { try PickleMachine.parse($0) }
        guard case .tuple(let items) = r.arena[r.root], items.count == 2 else {
            Issue.record("not a pair: \(r.arena.summary(r.root))")
            return
        }
        #expect(items.map { r.arena.summary($0) } == ["int 1", "int 2"])
    }

    @Test("#23: BINUNICODE that is not UTF-8 is refused at its offset")
    func invalidUTF8() throws {
        let e = pickleRefusal([0x80, 0x02, 0x58, 2, 0, 0, 0, 0xC3, 0x28, 0x2E])
        #expect(e?.code == .malformed)
        #expect(e?.description.contains("UTF-8") == true, "\(String(describing: e))")
    }

    @Test("#28: sparse, quantized and subclass rebuilds are refused by name")
    func unsupportedLayouts() throws {
        for name in ["_rebuild_sparse_tensor", "_rebuild_qtensor", "_rebuild_wrapper_subclass"] {
            let p: [UInt8] = [0x80, 0x02, 0x63] + Array("torch._utils\n\(name)\n".utf8) + [0x29, 0x52, 0x2E]
            let e = pickleRefusal(p)
            #expect(e?.code == .disallowedGlobal, "\(name): \(String(describing: e))")
            #expect(e?.description.contains("torch._utils.\(name)") == true, "\(String(describing: e))")
        }
    }

    @Test("#27: an unknown storage type in a persistent id is refused naming it")
    func unknownStorageType() throws {
        var zip = try CraftedZip.from(fixture: "nocrc.pth")
        var patched = false
        zip.edit("/data.pkl") { p in
            let old = Array("FloatStorage".utf8)
            for i in 0..<(p.count - old.count) where Array(p[i..<(i + old.count)]) == old {
                p.replaceSubrange(i..<(i + old.count), with: Array("EvilzStorage".utf8))
                patched = true
            }
        }
        #expect(patched)
        let e = refusal(zip.bytes)
        #expect(e?.code == .disallowedGlobal || e?.code == .unsupported, "\(String(describing: e))")
        #expect(e?.description.contains("EvilzStorage") == true, "\(String(describing: e))")
    }

    @Test("#24: a LONG1 integer wider than 64 bits used as a tensor size is refused at its offset")
    func bigIntShape() throws {
        var zip = try CraftedZip.from(fixture: "nocrc.pth")
        var patched = false
        zip.edit("/data.pkl") { p in
            // tensor 'a': size (2, 3) is `K 02 K 03 86`; make the 2 a 9-byte LONG1.
            for i in 0..<(p.count - 5) where !patched && Array(p[i..<(i + 5)]) == [0x4B, 2, 0x4B, 3, 0x86] {
                p.replaceSubrange(i..<(i + 2), with: [0x8A, 9] + [UInt8](repeating: 0x11, count: 8) + [0x01])
                patched = true
            }
        }
        #expect(patched)
        let e = refusal(zip.bytes)
        #expect(e?.code == .malformed || e?.code == .sizeOverflow, "\(String(describing: e))")
        #expect(e?.description.contains("tensor size does not fit in 64 bits") == true, "\(String(describing: e))")
        if case .offset(let o)? = e?.location {
            #expect(o > 0)
        } else {
            Issue.record("no offset: \(String(describing: e))")
        }
    }

    // MARK: A.3 zip

    /// A two-member stored archive and the offset of its central directory and end record.
    func twoMembers() -> (bytes: [UInt8], cd: Int, eocd: Int) {
        var zip = CraftedZip()
        zip.members = [
            .init(name: "a.npy", data: [UInt8](repeating: 1, count: 40)),
            .init(name: "b.npy", data: [UInt8](repeating: 2, count: 40))
        ]
        let bytes = zip.bytes
        let eocd = bytes.count - 22
        let cd =
            Int(bytes[eocd + 16]) | Int(bytes[eocd + 17]) << 8 | Int(bytes[eocd + 18]) << 16 | Int(bytes[eocd + 19])
            << 24
        return (bytes, cd, eocd)
    }

    func zipRefusal(_ bytes: [UInt8]) -> TResNetError? {
        #expect(throws: TResNetError.self) {
            let archive = try ZipArchive.open(ByteStore.copying(bytes), path: "z.zip")
            for e in archive.entries { _ = try archive.data(e) }
        }
    }

    func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for i in 0..<4 { b[at + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) }
    }
    func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) { b[at] = UInt8(v & 0xFF); b[at + 1] = UInt8(v >> 8) }

    @Test("#40: bytes after the end record (comment length mismatch) and junk prepended")
    func endRecord() throws {
        let (bytes, _, _) = twoMembers()
        let trailing = zipRefusal(bytes + [0, 0, 0, 0, 0])
        #expect(trailing?.format == "zip", "\(String(describing: trailing))")
        let prepended = zipRefusal([UInt8](repeating: 0x20, count: 100) + bytes)
        #expect(prepended?.format == "zip", "\(String(describing: prepended))")
    }

    @Test("#41: a central directory offset beyond the end is truncated")
    func directoryBeyondEnd() throws {
        var (bytes, _, eocd) = twoMembers()
        put32(&bytes, eocd + 16, 0x7FFF_0000)
        let e = zipRefusal(bytes)
        #expect(e?.code == .truncated, "\(String(describing: e))")
        #expect(e?.description.contains("runs past") == true, "\(String(describing: e))")
    }

    @Test("#42: an entry count the central directory cannot hold is refused before allocating")
    func entryCount() throws {
        var (bytes, _, eocd) = twoMembers()
        put16(&bytes, eocd + 8, 0xFFFF)
        put16(&bytes, eocd + 10, 0xFFFF)
        let e = zipRefusal(bytes)
        #expect(e?.code == .malformed, "\(String(describing: e))")
        #expect(e?.description.contains("65535 entries cannot fit") == true, "\(String(describing: e))")
    }

    @Test("#45: a member whose data covers the next member's local header (quoted overlap) is refused")
    func overlap() throws {
        var (bytes, cd, _) = twoMembers()
        let covering = UInt32(40 + 30 + 5 + 40)  // a's data, b's local header and name, b's data
        put32(&bytes, cd + 20, covering)
        put32(&bytes, cd + 24, covering)
        put32(&bytes, 18, covering)  // a's local header too
        put32(&bytes, 22, covering)
        let e = zipRefusal(bytes)
        #expect(e?.code == .malformed, "\(String(describing: e))")
        #expect(e?.description.contains("possible zip bomb") == true, "\(String(describing: e))")
    }

    @Test("#46: a deflated member inflating beyond, or short of, its declared size is refused")
    func inflateSize() throws {
        let over = refusal(try Self.hostile("inflate_overrun.npz"))
        #expect(over?.code == .malformed, "\(String(describing: over))")
        #expect(over?.description.contains("a.npy") == true, "\(String(describing: over))")
        let short = refusal(try Self.hostile("inflate_short.npz"))
        #expect(short?.code == .malformed, "\(String(describing: short))")
        #expect(short?.description.contains("a.npy") == true, "\(String(describing: short))")
    }

    @Test("#51: an extra-field length running past the central directory is refused")
    func extraFieldLength() throws {
        var (bytes, cd, _) = twoMembers()
        put16(&bytes, cd + 30, 0xFFFF)
        let e = zipRefusal(bytes)
        #expect(e?.code == .truncated, "\(String(describing: e))")
        #expect(e?.description.contains("runs past the directory") == true, "\(String(describing: e))")
    }

    @Test("#52: a local header offset past the central directory is refused naming the entry")
    func localOffset() throws {
        var (bytes, cd, _) = twoMembers()
        put32(&bytes, cd + 42, 0x00FF_FFFF)
        let e = zipRefusal(bytes)
        #expect(e?.code == .malformed, "\(String(describing: e))")
        #expect(e?.description.contains("entry 'a.npy'") == true, "\(String(describing: e))")
        #expect(e?.description.contains("past the central directory") == true, "\(String(describing: e))")
    }

    @Test("#43: a zip64 locator pointing off its end record, and a bad end-record size field, are refused")
    func zip64Records() throws {
        var zip = CraftedZip()
        zip.zip64 = true
        zip.members = [.init(name: "a.npy", data: [UInt8](repeating: 1, count: 40))]
        let good = zip.bytes
        let locator = good.count - 22 - 20, record = locator - 56
        #expect(Array(good[locator..<(locator + 4)]) == [0x50, 0x4B, 0x06, 0x07])
        var moved = good
        moved[locator + 8] &-= 1
        let e1 = zipRefusal(moved)
        #expect(e1?.code == .malformed, "\(String(describing: e1))")
        #expect(e1?.description.contains("zip64 end record signature missing") == true, "\(String(describing: e1))")
        var size = good
        size[record + 4] = 45
        let e2 = zipRefusal(size)
        #expect(e2?.code == .malformed, "\(String(describing: e2))")
        #expect(
            e2?.description.contains("zip64 end record size 45 is inconsistent") == true, "\(String(describing: e2))")
    }

    @Test("#44: a local header whose sizes disagree with the central directory is refused")
    func localSizes() throws {
        var (bytes, _, _) = twoMembers()
        put32(&bytes, 18, 39)  // a's local compressed size
        put32(&bytes, 22, 39)
        let e = zipRefusal(bytes)
        #expect(e?.code == .malformed, "\(String(describing: e))")
        #expect(e?.format == "zip", "\(String(describing: e))")
    }

    @Test("#48: a decoy `./data.pkl` spelling is never read (exact-name lookups); an exact duplicate is refused")
    func normalisedDuplicate() throws {
        var zip = try CraftedZip.from(fixture: "nocrc.pth")
        let hostile = Array(try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("hostile_reduce_raw.pkl"))))
        zip.members.append(.init(name: "nocrc/./data.pkl", data: hostile))
        let loaded = try CheckpointReader.read(ByteStore.copying(zip.bytes), path: "decoy.pth")
        let original = try CheckpointReader.read(path: FixturePaths.tiny("nocrc.pth"))
        #expect(loaded.stateDict.names == original.stateDict.names)
        zip.members.append(zip.members[1])
        #expect(refusal(zip.bytes)?.description.contains("duplicate entry name") == true)
    }

    @Test("#49: empty and NUL-containing member names are refused")
    func badNames() throws {
        for name in ["", "a\u{0}.npy"] {
            var zip = CraftedZip()
            zip.members = [.init(name: name, data: [1, 2, 3, 4])]
            let e = zipRefusal(zip.bytes)
            #expect(e?.code == .malformed, "\(String(describing: e))")
            #expect(
                e?.description.contains("empty, NUL-containing or non-UTF-8 name") == true, "\(String(describing: e))")
        }
    }

    @Test("#53: multi-disk archives are refused")
    func multiDisk() throws {
        var (bytes, _, eocd) = twoMembers()
        put16(&bytes, eocd + 4, 1)
        let e = zipRefusal(bytes)
        #expect(e?.code == .unsupported, "\(String(describing: e))")
        #expect(e?.description.contains("multi-disk") == true, "\(String(describing: e))")
    }
}
