import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

/// Truncation at every header offset (and a sample of data offsets) and every header byte flipped, for each small
/// checkpoint fixture format (docs/ROBUSTNESS.md A.0 #1, #2, #11; issue 7 item 2). See `Sweep` for the oracle.
@Suite("Truncation and flip sweeps: checkpoints")
struct CheckpointSweepTests {
    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func checkpoint(_ store: ByteStore) throws -> StateDict {
        try CheckpointReader.read(store, path: "sweep").stateDict
    }

    func run(_ sweep: Sweep, dataSamples: Int = 64, expectDataLoads: Bool = true) throws {
        let original = try sweep.original()
        #expect(original.count > 0)
        let cuts = sweep.truncations(dataSamples: dataSamples)
        #expect(cuts.problems.isEmpty, "\(cuts.problems.prefix(5))")
        #expect(cuts.refused == cuts.cases, "\(cuts)")
        let flips = try sweep.flips(dataSamples: dataSamples)
        #expect(flips.problems.isEmpty, "\(flips.problems.prefix(5))")
        #expect(flips.refused > 0, "\(flips)")
        if expectDataLoads { #expect(flips.loaded > 0, "a flip inside tensor data loads: \(flips)") }
        print("sweep \(sweep.name): truncations \(cuts); flips \(flips)")
    }

    /// Torch zip: everything but the stored tensor records (`<top>/data/<key>`) is header.
    @Test(arguments: ["tiny/nocrc.pth", "tiny/proto4.pth", "tiny/rezipped_deflate.pth", "hostile/small.pth"])
    func torchZip(_ file: String) throws {
        let bytes = try Self.bytes(FixturePaths.path(file))
        let header = try Sweep.zipHeader(bytes) { entry, _ in entry.name.contains("/data/") ? 0 : .max }
        // rezipped_deflate.pth deflates its records, so every byte of it is structure.
        try run(
            Sweep(name: file, bytes: bytes, header: header, read: Self.checkpoint),
            expectDataLoads: !file.contains("deflate"))
    }

    /// Legacy: the five pickles and each storage's element count are header; the raw storages are data.
    @Test(arguments: ["tiny/dtypes_legacy.pth", "hostile/small.legacy.pt"])
    func legacy(_ file: String) throws {
        let bytes = try Self.bytes(FixturePaths.path(file))
        let rawStart = try bytes.withUnsafeBytes { raw -> Int in
            var end = 0
            for _ in 0..<5 { end = try PickleMachine.parse(raw, from: end, style: .legacy).end }
            return end
        }
        try run(Sweep(name: file, bytes: bytes, header: [0..<(rawStart + 8)], read: Self.checkpoint))
    }

    /// safetensors: the length prefix and the JSON header.
    @Test(arguments: ["hostile/small.safetensors", "hostile/nan_inf.safetensors"])
    func safetensors(_ file: String) throws {
        let bytes = try Self.bytes(FixturePaths.path(file))
        let n = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        try run(Sweep(name: file, bytes: bytes, header: [0..<(8 + n)], read: Self.checkpoint))
    }

    /// The tiny model's safetensors file (200 KB): its header cut and flipped at 128 spread offsets.
    @Test func safetensorsTinyModelSampled() throws {
        let bytes = try Self.bytes(FixturePaths.tiny("tiny_v1.safetensors"))
        let n = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        let header = stride(from: 0, to: 8 + n, by: max(1, (8 + n) / 128)).map { $0..<($0 + 1) }
        let sweep = Sweep(name: "tiny_v1.safetensors", bytes: bytes, header: header, read: Self.checkpoint)
        let cuts = sweep.truncations(dataSamples: 32)
        #expect(cuts.problems.isEmpty && cuts.refused == cuts.cases, "\(cuts) \(cuts.problems.prefix(3))")
        let flips = try sweep.flips(masks: [0xFF], dataSamples: 32)
        #expect(flips.problems.isEmpty, "\(flips.problems.prefix(3))")
        print("sweep tiny_v1.safetensors (sampled): truncations \(cuts); flips \(flips)")
    }

    /// npy: magic, version, header length and the header dict.
    @Test(arguments: ["f32_c.npy", "f32_v2.npy", "f32_v3.npy", "big_endian_i2_fortran.npy", "scalar_0d.npy", "bool.npy"]
    )
    func npy(_ file: String) throws {
        let bytes = try Self.bytes(FixturePaths.tiny("npy/" + file))
        let h = bytes.withUnsafeBytes { Sweep.npyHeaderLength($0) }
        try run(Sweep(name: file, bytes: bytes, header: [0..<h], read: Self.checkpoint))
    }

    /// npz: zip structure plus each member's .npy header.
    @Test(arguments: ["stored.npz", "compressed.npz"])
    func npz(_ file: String) throws {
        let bytes = try Self.bytes(FixturePaths.tiny("npy/" + file))
        let header = try Sweep.zipHeader(bytes) { _, slice in Sweep.npyHeaderLength(slice.bytes) }
        // numpy writes CRCs and deflated members check theirs, so a data flip in compressed.npz is refused.
        try run(
            Sweep(name: file, bytes: bytes, header: header, read: Self.checkpoint),
            expectDataLoads: !file.contains("compressed"))
    }
}
