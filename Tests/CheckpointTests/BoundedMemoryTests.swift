import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

/// Files under 1 KiB that declare a 4 TiB tensor, one per declared-size field kind, are refused in bounded memory
/// and time (docs/ROBUSTNESS.md A.0 #3, C.1 item 5; issue 7 item 3): peak RSS growth under 64 MiB, under 100 ms.
@Suite("Declared-size bombs: bounded memory and time", .serialized)
struct BoundedMemoryTests {
    static let fourTiB: UInt64 = 1 << 42
    static let memoryBound = 64 << 20
    static let timeBound = 0.1

    /// Reads `bytes` (< 1 KiB) and checks the refusal's code and message, and the bounds.
    func expectRefusedCheaply(
        _ bytes: [UInt8], _ code: TResNetError.Code, _ fragment: String,
        read: (ByteStore) throws -> Void = { _ = try CheckpointReader.read($0, path: "bomb") },
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(bytes.count < 1024, "the bomb is \(bytes.count) bytes", sourceLocation: sourceLocation)
        var error: TResNetError?
        let m = ResourceProbe.measure(attempts: 3, until: { $0.peakGrowthBytes < 64 << 20 && $0.seconds < 0.1 }) {
            do { try read(ByteStore.copying(bytes)) } catch let e as TResNetError { error = e } catch {}
        }
        #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(
            error?.description.contains(fragment) == true, "\(String(describing: error))",
            sourceLocation: sourceLocation)
        #expect(m.peakGrowthBytes < Self.memoryBound, "\(m)", sourceLocation: sourceLocation)
        #expect(m.seconds < Self.timeBound, "\(m)", sourceLocation: sourceLocation)
        print("bomb refused (\(bytes.count) bytes): \(m): \(error.map { "\($0)" } ?? "-")")
    }

    static func safetensors(_ header: String, data: Int) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.utf8.count) >> (8 * UInt64($0))) }
            + Array(header.utf8) + [UInt8](repeating: 0, count: data)
    }

    @Test("safetensors: a shape of 2^40 F32 elements over 4 bytes of data")
    func safetensorsShape() {
        let h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776],\"data_offsets\":[0,4]}}"
        expectRefusedCheaply(Self.safetensors(h, data: 4), .malformed, "tensor 'w'")
    }

    @Test("safetensors: data_offsets claiming 4 TiB that match the shape")
    func safetensorsOffsets() {
        let h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776],\"data_offsets\":[0,4398046511104]}}"
        expectRefusedCheaply(Self.safetensors(h, data: 4), .truncated, "tensor 'w'")
    }

    @Test("safetensors: a header length of 4 TiB")
    func safetensorsHeaderLength() {
        var bytes = Self.safetensors("{}", data: 0)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: Self.fourTiB >> (8 * UInt64(i))) }
        // Not a safetensors length any more (over the 100 MB header cap, it is not sniffed as safetensors).
        expectRefusedCheaply(bytes, .unrecognizedContainer, "unrecognised container")
    }

    @Test("zip: a deflated member declaring 4 TiB uncompressed (zip64) from 9 compressed bytes")
    func zipEntrySize() throws {
        var zip = CraftedZip()
        zip.zip64 = true
        // One final stored deflate block holding 4 bytes: a valid stream that inflates to far less than declared.
        zip.members = [
            .init(
                name: "a.npy", data: [0x01, 0x04, 0x00, 0xFB, 0xFF, 1, 2, 3, 4], method: 8,
                declaredSize: Self.fourTiB)
        ]
        expectRefusedCheaply(zip.bytes, .limitExceeded, "zip bomb") { store in
            let archive = try ZipArchive.open(store, path: "bomb.npz")
            for e in archive.entries { _ = try archive.data(e) }
        }
    }

    @Test("zip: a stored member declaring 4 TiB (zip64) over 4 bytes")
    func zipStoredEntrySize() throws {
        var zip = CraftedZip()
        zip.zip64 = true
        zip.members = [.init(name: "a.npy", data: [1, 2, 3, 4], declaredSize: Self.fourTiB)]
        expectRefusedCheaply(zip.bytes, .malformed, "a.npy") { store in
            let archive = try ZipArchive.open(store, path: "bomb.npz")
            for e in archive.entries { _ = try archive.data(e) }
        }
    }

    @Test("legacy: a storage element count of 2^40 over 4 bytes")
    func legacyStorageCount() throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: FixturePaths.path("hostile/small.legacy.pt"))))
        let rawStart = try bytes.withUnsafeBytes { raw -> Int in
            var end = 0
            for _ in 0..<5 { end = try PickleMachine.parse(raw, from: end, style: .legacy).end }
            return end
        }
        #expect(bytes[rawStart] == 1, "the fixture's one storage holds one element")
        for i in 0..<8 { bytes[rawStart + i] = UInt8(truncatingIfNeeded: (Self.fourTiB / 4) >> (8 * UInt64(i))) }
        expectRefusedCheaply(bytes, .malformed, "offset \(rawStart)")
    }

    @Test("npy: a shape of 2^40 float32 elements over 4 bytes")
    func npyShape() {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let bytes =
            [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
            + Array(header.utf8) + [0, 0, 0, 0]
        expectRefusedCheaply(bytes, .truncated, "needs 4398046511104 bytes of data, 4 remain")
    }

    @Test("pickle: a billion-laughs memo DAG (2^60 leaves) is refused under the reader's node budget")
    func billionLaughs() throws {
        var p: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x30]
        for level in 1...60 {
            p += [0x28, 0x68, UInt8(level - 1), 0x68, UInt8(level - 1), 0x6C, 0x71, UInt8(level), 0x30]
        }
        p += [0x68, 60, 0x2E]
        #expect(p.count < 1024)
        var error: TResNetError?
        let m = ResourceProbe.measure(attempts: 3, until: { $0.peakGrowthBytes < 64 << 20 && $0.seconds < 5 }) {
            do {
                let store = ByteStore.copying(p)
                let result = try withExtendedLifetime(store) { try PickleMachine.parse(store.bytes) }
                var budget = StateDictLocator.walkBudget
                _ = try result.arena.flattenTensors(from: result.root, remaining: &budget)
            } catch let e as TResNetError { error = e } catch {}
        }
        #expect(error?.code == .limitExceeded)
        #expect(error?.description.contains("shared-reference bomb") == true, "\(String(describing: error))")
        #expect(m.peakGrowthBytes < Self.memoryBound, "\(m)")
        // A million budgeted visits, not a declared size: bounded by the budget, not by 100 ms.
        #expect(m.seconds < 5, "\(m)")
        print("billion laughs refused (\(p.count) bytes): \(m)")
    }
}
