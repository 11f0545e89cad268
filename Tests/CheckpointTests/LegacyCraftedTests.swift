import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

@Suite("Crafted legacy streams")
struct LegacyCraftedTests {
    /// dtypes_legacy.pth and the offset of its raw storage section (after the five pickles).
    func fixture() throws -> (bytes: [UInt8], rawStart: Int) {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("dtypes_legacy.pth"))))
        let rawStart = try bytes.withUnsafeBytes { raw -> Int in
            var end = 0
            for _ in 0..<5 { end = try PickleMachine.parse(raw, from: end, style: .legacy).end }
            return end
        }
        return (bytes, rawStart)
    }

    func read(_ bytes: [UInt8]) -> TResNetError? {
        #expect(throws: TResNetError.self) { try CheckpointReader.read(ByteStore.copying(bytes), path: "legacy.pt") }
    }

    @Test("a storage count far beyond the file is refused before allocating")
    func hugeCount() throws {
        var (bytes, rawStart) = try fixture()
        for i in 0..<8 { bytes[rawStart + i] = i == 6 ? 0x7F : 0xFF }  // ~2^55 elements
        let e = read(bytes)
        #expect(e?.code == .malformed)
        if case .offset(let o)? = e?.location { #expect(o == rawStart) } else { Issue.record("no offset") }
    }

    @Test("bytes after the last storage are refused")
    func trailing() throws {
        let (bytes, _) = try fixture()
        #expect(read(bytes + [0])?.code == .malformed)
    }

    @Test("a wrong magic number or protocol version is not a legacy checkpoint")
    func magicAndProtocol() throws {
        var (bytes, _) = try fixture()
        var wrongProtocol = bytes
        // pickle 2 is `80 02 4D E9 03 2E` at offset 15: make it 1002
        #expect(Array(wrongProtocol[15..<21]) == [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E])
        wrongProtocol[18] = 0xEA
        #expect(read(wrongProtocol)?.code == .unsupported)
        bytes[5] ^= 0xFF  // break the magic: no longer sniffed as legacy, parsed as a bare pickle
        #expect(read(bytes)?.code == .unsupported)
    }

    @Test("big-endian sys_info is refused")
    func bigEndian() throws {
        var (bytes, _) = try fixture()
        let key = Array("little_endian".utf8)
        let at = try #require((0..<(bytes.count - key.count)).first { Array(bytes[$0..<($0 + key.count)]) == key })
        let flag = try #require((at + key.count..<(at + key.count + 4)).first { bytes[$0] == 0x88 })  // NEWTRUE
        bytes[flag] = 0x89  // NEWFALSE
        let e = read(bytes)
        #expect(e?.code == .unsupported)
        #expect(e?.description.contains("big-endian") == true)
    }

    @Test("a torch ≤ 0.1 tar archive is refused by name")
    func tar() throws {
        var bytes = [UInt8](repeating: 0, count: 1024)
        bytes.replaceSubrange(0..<8, with: Array("sys_info".utf8))
        bytes.replaceSubrange(257..<262, with: Array("ustar".utf8))
        let e = read(bytes)
        #expect(e?.code == .unsupported)
        #expect(e?.description.contains("tar") == true)
    }
}
