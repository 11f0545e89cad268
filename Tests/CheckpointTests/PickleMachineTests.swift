import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

/// Builds small protocol-2 pickles the way torch.save writes them (docs/READERS.md).
enum PickleBytes {
    static func unicode(_ s: String) -> [UInt8] {
        let u = Array(s.utf8)
        return [0x58] + CraftedZip.le32(UInt32(u.count)) + u
    }
    static func global(_ module: String, _ name: String) -> [UInt8] { [0x63] + Array("\(module)\n\(name)\n".utf8) }
    static let emptyOrderedDict = global("collections", "OrderedDict") + [0x29, 0x52]
    /// `_rebuild_tensor_v2(storage('0', FloatStorage, numel 4), 0, (4,), (1,), False, OrderedDict())` arguments
    /// as a tuple (no call).
    static let tensorV2Args: [UInt8] =
        [0x28, 0x28] + unicode("storage") + global("torch", "FloatStorage") + unicode("0")
        + unicode("cpu") + [0x4B, 4, 0x74, 0x51, 0x4B, 0, 0x4B, 4, 0x85, 0x4B, 1, 0x85, 0x89] + emptyOrderedDict + [
            0x74
        ]
    static let tensorV2: [UInt8] = global("torch._utils", "_rebuild_tensor_v2") + tensorV2Args + [0x52]
    static func stream(_ body: [UInt8]) -> [UInt8] { [0x80, 0x02] + body + [0x2E] }
}

@Suite("Pickle machine")
struct PickleMachineTests {
    func parse(_ bytes: [UInt8]) throws -> PickleResult { try bytes.withUnsafeBytes { try PickleMachine.parse($0) } }

    @Test("opcode byte values follow pickletools")
    func opcodeValues() {
        #expect(PickleOpcode.binPersID.rawValue == UInt8(ascii: "Q"))
        #expect(PickleOpcode.stackGlobal.rawValue == 0x93)
        #expect(PickleOpcode.memoize.rawValue == 0x94)
        #expect(PickleOpcode.frame.rawValue == 0x95)
        #expect(PickleOpcode.inst.rawValue == UInt8(ascii: "i"))
        #expect(Set(PickleOpcode.allCases.map(\.rawValue)).count == PickleOpcode.allCases.count)
    }

    @Test("_rebuild_tensor_v2 yields a tensor reference with storage, offset, size and stride")
    func tensorV2() throws {
        let r = try parse(PickleBytes.stream(PickleBytes.tensorV2))
        let t = try #require(r.arena.tensor(r.root))
        #expect(t.dtype == .float32 && t.shape == [4] && t.strides == [1] && t.storageOffset == 0)
        #expect(
            t.storage.key == "0" && t.storage.numel == 4 && t.storage.byteCount == 16 && t.storage.location == "cpu")
    }

    @Test("_rebuild_parameter and _rebuild_from_type_v2 unwrap to the inner tensor")
    func wrappersUnwrap() throws {
        let parameter =
            PickleBytes.global("torch._utils", "_rebuild_parameter") + [0x28] + PickleBytes.tensorV2 + [0x88]
            + PickleBytes.emptyOrderedDict + [0x74, 0x52]
        #expect(
            try parse(PickleBytes.stream(parameter)).arena.tensor(try parse(PickleBytes.stream(parameter)).root) != nil)
        let fromType =
            PickleBytes.global("torch._tensor", "_rebuild_from_type_v2") + [0x28]
            + PickleBytes.global("torch._utils", "_rebuild_tensor_v2") + PickleBytes.global("torch", "Tensor")
            + PickleBytes.tensorV2Args + [0x7D, 0x74, 0x52]
        let r = try parse(PickleBytes.stream(fromType))
        #expect(r.arena.tensor(r.root)?.shape == [4])
    }

    @Test("BUILD on an OrderedDict sets an attribute; it is not merged into the items")
    func buildIsAttribute() throws {
        let path = FixturePaths.tiny("tiny_v1.pth")
        let object = try TorchZipContainer.read(try ZipArchive.open(try ByteStore.map(path: path), path: path))
        let root = try #require(object.arena.dict(object.root))
        #expect(root.ordered)
        #expect(root.attributes.count == 1)
        #expect(!root.keys.contains { object.arena.string($0) == "_metadata" })
        let state = try #require(object.arena.dict(root.attributes[0]))
        #expect(state.keys.compactMap { object.arena.string($0) } == ["_metadata"])
    }

    @Test("memo references are shared, not copied: appending through one reference shows in the other")
    func memoShared() throws {
        // EMPTY_LIST PUT0, EMPTY_LIST, GET0, APPEND... build [l, l] then append 1 to l via GET0.
        let p: [UInt8] = PickleBytes.stream([
            0x5D, 0x71, 0, 0x30, 0x28, 0x68, 0, 0x68, 0, 0x6C, 0x71, 1, 0x68, 0, 0x4B, 9,
            0x61, 0x30
        ])
        let r = try parse(p)
        guard case .list(let outer) = r.arena[r.root] else { Issue.record("not a list"); return }
        let items = r.arena.lists[outer]
        #expect(items.count == 2 && items[0] == items[1])
        guard case .list(let inner) = r.arena[items[0]] else { Issue.record("not a list"); return }
        #expect(r.arena.lists[inner].count == 1)
    }

    @Test("inert builtins from torch's weights_only allowlist: set, bytearray, torch.device")
    func inertBuiltins() throws {
        let set = try parse(
            PickleBytes.stream(PickleBytes.global("builtins", "set") + [0x5D, 0x4B, 1, 0x61, 0x4B, 2, 0x61, 0x85, 0x52])
        )
        guard case .set(let l) = set.arena[set.root] else { Issue.record("not a set"); return }
        #expect(set.arena.lists[l].count == 2)
        let device = try parse(
            PickleBytes.stream(
                PickleBytes.global("torch", "device") + PickleBytes.unicode("cuda") + [0x4B, 0, 0x86, 0x52]))
        #expect(device.arena.string(device.root) == "cuda:0")
    }

    @Test("disallowed callables are named: NEWOBJ on a class, REDUCE on an unknown rebuild, BUILD on a global")
    func disallowed() throws {
        let cases: [([UInt8], String)] = [
            (PickleBytes.global("__main__", "Tiny") + [0x29, 0x81], "'__main__.Tiny'"),
            (PickleBytes.global("torch._utils", "_rebuild_qtensor") + [0x29, 0x52], "'torch._utils._rebuild_qtensor'"),
            (PickleBytes.global("builtins", "eval") + [0x7D, 0x62], "'builtins.eval'"),
            (PickleBytes.global("torch", "load") + PickleBytes.unicode("x") + [0x85, 0x52], "'torch.load'")
        ]
        for (body, name) in cases {
            // --strict-pickle: every one refused, as before opaque objects existed
            let strict = #expect(throws: TResNetError.self) {
                try PickleBytes.stream(body).withUnsafeBytes { try PickleMachine.parse($0, strict: true) }
            }
            #expect(strict?.code == .disallowedGlobal, "\(name)")
            #expect(strict?.description.contains(name) == true, "\(strict?.description ?? "")")
            // default: an unknown class becomes an opaque object; primitives and unknown rebuilds stay refused
            if name == "'__main__.Tiny'" {
                let r = try parse(PickleBytes.stream(body))
                #expect(r.arena.object(r.root)?.qualifiedName == "__main__.Tiny")
                continue
            }
            let e = #expect(throws: TResNetError.self) { try parse(PickleBytes.stream(body)) }
            #expect(e?.code == .disallowedGlobal, "\(name)")
            #expect(e?.description.contains(name) == true, "\(e?.description ?? "")")
        }
    }

    @Test(
        "refused opcodes name themselves",
        arguments: [
            (UInt8(0x6F), "OBJ"), (0x82, "EXT1"), (0x97, "NEXT_BUFFER"),
            (0x98, "READONLY_BUFFER"), (0x50, "PERSID")
        ])
    func refusedOpcodes(_ byte: UInt8, _ name: String) throws {
        let e = #expect(throws: TResNetError.self) { try parse([0x80, 0x02, 0x28, byte, 0x2E]) }
        #expect(e?.code == .unsupported)
        #expect(e?.description.contains(name) == true)
        if case .offset(let o)? = e?.location { #expect(o == 3) } else { Issue.record("no offset") }
    }

    @Test("a persistent id that is not a storage 5-tuple is refused")
    func badPersistentID() throws {
        let e = #expect(throws: TResNetError.self) {
            try parse(PickleBytes.stream(PickleBytes.unicode("x") + [0x85, 0x51]))
        }
        #expect(e?.code == .malformed)
        let unknownClass =
            [0x28] + PickleBytes.unicode("storage") + PickleBytes.global("torch", "QInt8Storage")
            + PickleBytes.unicode("0") + PickleBytes.unicode("cpu") + [0x4B, 4, 0x74, 0x51]
        #expect(
            (#expect(throws: TResNetError.self) { try parse(PickleBytes.stream(unknownClass)) })?.code == .unsupported)
    }

    @Test("node, memo and depth limits are enforced")
    func limits() throws {
        var limits = PickleLimits()
        limits.maxNodes = 100
        var p: [UInt8] = [0x80, 0x02, 0x5D]
        for _ in 0..<200 { p += [0x4B, 1, 0x61] }
        p += [0x2E]
        let e = #expect(throws: TResNetError.self) {
            try p.withUnsafeBytes { try PickleMachine.parse($0, limits: limits) }
        }
        #expect(e?.code == .limitExceeded)
        let deep = [0x80, 0x02] + [UInt8](repeating: 0x28, count: 300) + [0x2E]
        #expect((#expect(throws: TResNetError.self) { try parse(deep) })?.code == .limitExceeded)
        var tuples: [UInt8] = [0x80, 0x02, 0x29]
        for _ in 0..<300 { tuples.append(0x85) }
        tuples.append(0x2E)
        #expect((#expect(throws: TResNetError.self) { try parse(tuples) })?.code == .limitExceeded)
    }
}
