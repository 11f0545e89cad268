import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

/// A minimal zip writer for crafting broken archives in tests: stored members, CRC 0 (which torch itself writes
/// with `set_crc32_options(False)`), no data descriptors.
struct CraftedZip {
    struct Member {
        var name: String
        var data: [UInt8]
        var method: UInt16 = 0
        var flags: UInt16 = 0
        var localName: String?
        /// In zip64 mode, the uncompressed size the zip64 extra declares (default: the data's size).
        var declaredSize: UInt64?
    }

    var members: [Member] = []
    /// Write sizes and offsets as 0xFFFFFFFF with a zip64 extra field, and a zip64 end record + locator.
    var zip64 = false
    /// Leave the zip64 extra out even though sentinels are written (a malformed archive).
    var omitZip64Extra = false

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for m in members {
            let offset = UInt32(out.count)
            let name = Array(m.name.utf8), local = Array((m.localName ?? m.name).utf8)
            let size = Self.le32(UInt32(m.data.count))
            // A declared size (zip64 only) goes into the local header's zip64 extra too, so both headers agree.
            let localExtra =
                zip64 && m.declaredSize != nil
                ? Self.le16(1) + Self.le16(16) + Self.le64(m.declaredSize ?? 0) + Self.le64(UInt64(m.data.count)) : []
            let localSizes = localExtra.isEmpty ? size + size : Self.le32(0xFFFF_FFFF) + Self.le32(0xFFFF_FFFF)
            out +=
                Self.le32(0x0403_4b50) + Self.le16(45) + Self.le16(m.flags) + Self.le16(m.method) + Self.le32(0)
                + Self.le32(0) + localSizes + Self.le16(UInt16(local.count)) + Self.le16(UInt16(localExtra.count))
                + local
                + localExtra + m.data
            let sentinel = Self.le32(0xFFFF_FFFF)
            let extra =
                zip64 && !omitZip64Extra
                ? Self.le16(1) + Self.le16(24) + Self.le64(m.declaredSize ?? UInt64(m.data.count))
                    + Self.le64(UInt64(m.data.count))
                    + Self.le64(UInt64(offset))
                : []
            central +=
                Self.le32(0x0201_4b50) + Self.le16(45) + Self.le16(45) + Self.le16(m.flags) + Self.le16(m.method)
                + Self.le32(0) + Self.le32(0) + (zip64 ? sentinel + sentinel : size + size)
                + Self.le16(UInt16(name.count)) + Self.le16(UInt16(extra.count)) + Self.le16(0)
                + Self.le16(0) + Self.le16(0) + Self.le32(0) + (zip64 ? sentinel : Self.le32(offset)) + name + extra
        }
        let cdOffset = UInt32(out.count)
        out += central
        let n = UInt16(members.count)
        if zip64 {
            let recordOffset = UInt64(out.count)
            out +=
                Self.le32(0x0606_4b50) + Self.le64(44) + Self.le16(45) + Self.le16(45) + Self.le32(0) + Self.le32(0)
                + Self.le64(UInt64(n)) + Self.le64(UInt64(n)) + Self.le64(UInt64(central.count))
                + Self.le64(UInt64(cdOffset))
            out += Self.le32(0x0706_4b50) + Self.le32(0) + Self.le64(recordOffset) + Self.le32(1)
            out +=
                Self.le32(0x0605_4b50) + Self.le16(0) + Self.le16(0) + Self.le16(0xFFFF) + Self.le16(0xFFFF)
                + Self.le32(0xFFFF_FFFF) + Self.le32(0xFFFF_FFFF) + Self.le16(0)
            return out
        }
        out +=
            Self.le32(0x0605_4b50) + Self.le16(0) + Self.le16(0) + Self.le16(n) + Self.le16(n)
            + Self.le32(UInt32(central.count)) + Self.le32(cdOffset) + Self.le16(0)
        return out
    }

    /// The members of a committed fixture, copied.
    static func from(fixture: String) throws -> CraftedZip {
        let path = FixturePaths.tiny(fixture)
        let archive = try ZipArchive.open(try ByteStore.map(path: path), path: path)
        var zip = CraftedZip()
        for e in archive.entries { zip.members.append(Member(name: e.name, data: try archive.data(e).toArray())) }
        return zip
    }

    mutating func edit(_ suffix: String, _ change: (inout [UInt8]) -> Void) {
        for i in members.indices where members[i].name.hasSuffix(suffix) { change(&members[i].data) }
    }

    func read() throws -> LoadedCheckpoint {
        try CheckpointReader.read(ByteStore.copying(bytes), path: "crafted.pth")
    }
}

@Suite("Crafted torch zip archives")
struct TorchZipCraftedTests {
    @Test("control: the crafted copy of nocrc.pth reads the same tensors")
    func control() throws {
        let copy = try CraftedZip.from(fixture: "nocrc.pth").read()
        let original = try CheckpointReader.read(path: FixturePaths.tiny("nocrc.pth"))
        #expect(copy.stateDict.names == original.stateDict.names)
        for n in original.stateDict.names {
            #expect(
                copy.stateDict[n].map { Array($0.data.bytes) } == original.stateDict[n].map { Array($0.data.bytes) })
        }
    }

    @Test("zip64: sentinel sizes and offsets resolved from the zip64 extra; a sentinel without one is refused")
    func zip64() throws {
        var zip = try CraftedZip.from(fixture: "nocrc.pth")
        zip.zip64 = true
        let original = try CheckpointReader.read(path: FixturePaths.tiny("nocrc.pth"))
        let copy = try zip.read()
        #expect(copy.stateDict.names == original.stateDict.names)
        #expect(
            copy.stateDict["a"].map { Array($0.data.bytes) } == original.stateDict["a"].map { Array($0.data.bytes) })
        zip.omitZip64Extra = true
        #expect(refusal(zip)?.description.contains("zip64") == true)
    }

    func refusal(_ zip: CraftedZip) -> TResNetError? {
        #expect(throws: TResNetError.self) { try zip.read() }
    }

    @Test("bytes after STOP in data.pkl")
    func trailingBytes() throws {
        var zip = try CraftedZip.from(fixture: "nocrc.pth")
        zip.edit("/data.pkl") { $0.append(0x2E) }
        let e = refusal(zip)
        #expect(e?.code == .malformed)
        #expect(e?.description.contains("after STOP") == true)
    }

    @Test("TorchScript archives are refused with a clear message")
    func torchScript() throws {
        var zip = try CraftedZip.from(fixture: "nocrc.pth")
        zip.members.append(.init(name: "nocrc/constants.pkl", data: [0x80, 0x02, 0x29, 0x2E]))
        let e = refusal(zip)
        #expect(e?.code == .unsupported)
        #expect(e?.description.contains("TorchScript") == true)
    }

    @Test("byteorder big is refused, garbage is malformed")
    func byteOrder() throws {
        var zip = try CraftedZip.from(fixture: "nocrc.pth")
        zip.edit("/byteorder") { $0 = Array("big".utf8) }
        #expect(refusal(zip)?.code == .unsupported)
        zip.edit("/byteorder") { $0 = Array("middle".utf8) }
        #expect(refusal(zip)?.code == .malformed)
    }

    @Test("duplicate names, encryption, unknown methods, local/central name mismatch, foreign folders")
    func zipLevel() throws {
        let base = try CraftedZip.from(fixture: "nocrc.pth")
        var dup = base
        dup.members.append(base.members[1])
        #expect(refusal(dup)?.description.contains("duplicate") == true)
        var encrypted = base
        encrypted.members[1].flags = 1
        #expect(refusal(encrypted)?.code == .unsupported)
        var bzip = base
        bzip.members[1].method = 12
        #expect(refusal(bzip)?.code == .unsupported)
        var mismatch = base
        mismatch.members[1].localName = "nocrc/data.pkX"
        #expect(refusal(mismatch)?.code == .malformed)
        var foreign = base
        foreign.members.append(.init(name: "other/data.pkl", data: [0x80, 0x02, 0x4E, 0x2E]))
        #expect(refusal(foreign)?.description.contains("outside") == true)
    }

    @Test("a view reaching past its storage is refused before any byte is read")
    func viewOutOfRange() throws {
        var zip = try CraftedZip.from(fixture: "nocrc.pth")
        // The first tensor's storage offset follows BINPERSID: `Q K 00`. Make it 5 (6-element storage, size 2×3).
        var patched = false
        zip.edit("/data.pkl") { p in
            for i in 0..<(p.count - 2) where p[i] == 0x51 && p[i + 1] == 0x4B && p[i + 2] == 0 && !patched {
                p[i + 2] = 5
                patched = true
            }
        }
        #expect(patched)
        let e = refusal(zip)
        #expect(e?.code == .malformed)
        if case .tensor(let name)? = e?.location {
            #expect(name == "a")
        } else {
            Issue.record("no tensor location: \(String(describing: e))")
        }
        #expect(e?.description.contains("reaches element 10 of a 6-element storage") == true, "\(e?.description ?? "")")
    }

    @Test("a missing storage record is refused naming the entry")
    func missingRecord() throws {
        var zip = try CraftedZip.from(fixture: "nocrc.pth")
        zip.members.removeAll { $0.name.hasSuffix("/data/1") }
        let e = refusal(zip)
        if case .entry(let name)? = e?.location {
            #expect(name == "nocrc/data/1")
        } else {
            Issue.record("\(String(describing: e))")
        }
    }

    @Test("a stride-0 view expanding a tiny storage into gigabytes is refused, not allocated")
    func expandBomb() throws {
        var zip = try CraftedZip.from(fixture: "dtypes.pth")
        var patched = false
        zip.edit("/data.pkl") { p in
            // 'expanded' is size (3, 2) stride (0, 1): `K 03 K 02 86 [q nn] K 00 K 01 86`
            for i in 0..<(p.count - 12) where !patched && Array(p[i..<(i + 5)]) == [0x4B, 3, 0x4B, 2, 0x86] {
                let rest = Array(p[(i + 5)..<(i + 12)])
                guard
                    rest.starts(with: [0x4B, 0, 0x4B, 1, 0x86])
                        || rest.dropFirst(2).starts(with: [0x4B, 0, 0x4B, 1, 0x86])
                else { continue }
                p.replaceSubrange(i..<(i + 2), with: [0x4A, 0xFF, 0xFF, 0xFF, 0x0F])  // 268,435,455 rows
                patched = true
            }
        }
        #expect(patched)
        let e = refusal(zip)
        #expect(e?.code == .limitExceeded)
        if case .tensor(let name)? = e?.location {
            #expect(name == "expanded")
        } else {
            Issue.record("\(String(describing: e))")
        }
    }
}
