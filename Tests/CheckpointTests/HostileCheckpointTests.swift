import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

@Suite("Hostile inputs are refused", .serialized)
struct HostileCheckpointTests {
    static let marker = "/tmp/tresnet-kit-pwned"

    @Test(
        "hostile pickles are refused naming the global, and nothing runs",
        arguments: [
            ("hostile_reduce.pth", "posix.system", TResNetError.Code.disallowedGlobal),
            ("hostile_stack_global.pth", "builtins.exec", .disallowedGlobal),
            ("hostile_inst.pth", "os.system", .unsupported),
            ("hostile_reduce_raw.pkl", "posix.system", .disallowedGlobal)
        ])
    func hostile(_ file: String, _ global: String, _ code: TResNetError.Code) throws {
        let manifest = try FixtureManifest.load()
        #expect(manifest.files[file]?.hostile == true)
        #expect(manifest.files[file]?.marker == Self.marker)
        try? FileManager.default.removeItem(atPath: Self.marker)
        let path = FixturePaths.tiny(file)
        let error = #expect(throws: TResNetError.self) { try CheckpointReader.read(path: path) }
        #expect(error?.code == code)
        #expect(error?.description.contains("'\(global)'") == true, "\(error?.description ?? "")")
        #expect(error?.format == "pickle")
        if case .offset(let o)? = error?.location {
            #expect(o > 0)
        } else {
            Issue.record("no offset in \(String(describing: error))")
        }
        #expect(error?.file == path)
        #expect(!FileManager.default.fileExists(atPath: Self.marker))
    }

    @Test("a billion-laughs memo DAG parses into few nodes and is refused when walked")
    func billionLaughs() throws {
        var p: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x30]  // PROTO 2, EMPTY_LIST, BINPUT 0, POP
        for level in 1...60 {
            // MARK GET GET LIST PUT POP
            p += [0x28, 0x68, UInt8(level - 1), 0x68, UInt8(level - 1), 0x6C, 0x71, UInt8(level), 0x30]
        }
        p += [0x68, 60, 0x2E]
        let start = Date()
        let result = try p.withUnsafeBytes { try PickleMachine.parse($0) }
        #expect(result.arena.nodes.count <= 61)
        #expect(result.arena.lists.count == 61)
        let error = #expect(throws: TResNetError.self) {
            try result.arena.flattenTensors(from: result.root, budget: 100_000)
        }
        #expect(error?.code == .limitExceeded)
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test("a legacy stream whose object is a memo bomb is refused quickly")
    func billionLaughsInLegacyStream() throws {
        var bomb: [UInt8] = [0x80, 0x02, 0x7D, 0x58, 0x05, 0, 0, 0] + Array("model".utf8) + [0x5D, 0x71, 0x00, 0x30]
        for level in 1...60 {
            bomb += [0x28, 0x68, UInt8(level - 1), 0x68, UInt8(level - 1), 0x6C, 0x71, UInt8(level), 0x30]
        }
        bomb += [0x68, 60, 0x73, 0x2E]  // GET 60, SETITEM, STOP  // SETITEM STOP
        let legacy = try Array(Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("dtypes_legacy.pth"))))
        // magic + 1001 + sys_info from a real legacy file, then the bomb and an empty key list
        let header = try legacy.withUnsafeBytes { raw -> [UInt8] in
            var end = 0
            for _ in 0..<3 { end = try PickleMachine.parse(raw, from: end, style: .legacy).end }
            return Array(legacy[0..<end])
        }
        let file = header + bomb + [0x80, 0x02, 0x5D, 0x2E]
        let start = Date()
        let error = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(ByteStore.copying(file), path: "bomb.pt")
        }
        #expect(error?.code == .noStateDict)
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test("a string length beyond the input is refused before allocating")
    func stringBeyondInput() throws {
        let p: [UInt8] = [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x00] + Array("abc".utf8)
        let error = #expect(throws: TResNetError.self) { try p.withUnsafeBytes { try PickleMachine.parse($0) } }
        #expect(error?.code == .truncated)
        if case .offset(let o)? = error?.location { #expect(o == 7) } else { Issue.record("no offset") }
    }

    @Test("type-checked stack operations, MARK balance, one result at STOP")
    func stackDiscipline() throws {
        let cases: [[UInt8]] = [
            [0x80, 0x02, 0x5D, 0x4B, 1, 0x4B, 2, 0x73, 0x2E],  // SETITEM on a list
            [0x80, 0x02, 0x7D, 0x4B, 1, 0x61, 0x2E],  // APPEND on a dict
            [0x80, 0x02, 0x28, 0x4B, 1, 0x2E],  // open MARK at STOP
            [0x80, 0x02, 0x4B, 1, 0x4B, 2, 0x2E],  // two results
            [0x80, 0x02, 0x74, 0x2E],  // TUPLE without MARK
            [0x80, 0x02, 0x68, 0x05, 0x2E],  // undefined memo entry
            [0x80, 0x02, 0x4B, 1],  // no STOP
            [0x80, 0x02, 0xFF, 0x2E],  // unknown opcode
            [0x80, 0x02, 0x8A, 0x09] + [UInt8](repeating: 1, count: 9) + [0x29, 0x86, 0x2E]  // big int, fine…
        ]
        for (i, p) in cases.enumerated() {
            if i == cases.count - 1 {
                let r = try p.withUnsafeBytes { try PickleMachine.parse($0) }
                guard case .tuple(let items) = r.arena[r.root], case .bigInt(let raw) = r.arena[items[0]] else {
                    Issue.record("LONG1 of 9 bytes should stay an opaque big int")
                    continue
                }
                #expect(raw.count == 9)
                continue
            }
            #expect(throws: TResNetError.self, "case \(i)") { try p.withUnsafeBytes { try PickleMachine.parse($0) } }
        }
    }

    @Test("a storage record shorter than the declared numel is refused")
    func shortRecord() throws {
        // nocrc.pth stores tensor 'a' (6 floats) in data/0; declare 7 elements in the pickle instead.
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("nocrc.pth"))))
        let cpu = Array("cpu".utf8)
        func isNumelSix(_ i: Int) -> Bool {
            let word: [UInt8] = Array(bytes[i..<(i + 3)])
            guard word == cpu, bytes[i + 3] == 0x71, bytes[i + 5] == 0x4B else { return false }
            return bytes[i + 6] == 6
        }
        let found: Int? = (0..<(bytes.count - 6)).first(where: isNumelSix)
        let at = try #require(found)
        bytes[at + 6] = 7
        let error = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(ByteStore.copying(bytes), path: "short.pth")
        }
        #expect(error?.code == .malformed)
        #expect(error?.description.contains("24 bytes") == true, "\(error?.description ?? "")")
    }

    @Test("the machine reports where STOP ended (the zip reader refuses bytes after it)")
    func stopEndOffset() throws {
        let p: [UInt8] = [0x80, 0x02, 0x4E, 0x2E, 0x00]
        let r = try p.withUnsafeBytes { try PickleMachine.parse($0) }
        #expect(r.end == 4)
    }

    @Test("sniffing: empty, unknown, truncated and recognised-elsewhere containers")
    func sniffing() throws {
        let empty = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(ByteStore.copying([UInt8]()), path: "e")
        }
        #expect(empty?.code == .unrecognizedContainer)
        let junk = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(ByteStore.copying(Array("hello world".utf8)), path: "j")
        }
        #expect(junk?.code == .unrecognizedContainer)
        let npy = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(ByteStore.copying([0x93] + Array("NUMPY".utf8) + [1, 0]), path: "x.npy")
        }
        #expect(npy?.code == .truncated, "an .npy cut after its magic is read as .npy and refused as truncated")
        let tw = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(
                ByteStore.copying([0x89, 0x54, 0x57, 0x46, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]), path: "x.tw")
        }
        #expect(tw?.code == .unsupported)
        #expect(tw?.description.contains(".tw file: recognised") == true, "\(String(describing: tw))")
        #expect(tw?.description.contains("ModelSource") == false, "a lower module does not name an upper one")
    }
}
