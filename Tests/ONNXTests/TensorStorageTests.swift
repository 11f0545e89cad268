import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetONNX

/// Every storage form of a TensorProto, encoded on the wire and unpacked through libprotobuf-c, then decoded:
/// raw_data, typed fields (packed and unpacked), f16/bf16 bit patterns in int32_data, external data — and the
/// refusals (A.5 #71, #72, #75).
struct TensorStorageTests {
    typealias Build = (inout ProtobufEncoder) -> Void

    /// A ModelProto whose graph holds one initializer built by `tensor`, unpacked and decoded.
    func decode(_ tensor: Build, folder: String? = nil) throws -> Tensor {
        var m = ProtobufEncoder()
        m.message(7) { g in g.message(5, tensor) }
        let proto = try m.bytes.withUnsafeBytes { try ProtobufFunnel.unpackModel($0) }
        let t = try #require(proto.graph?.initializers.first)
        let dir = folder ?? FixturePaths.temporaryDirectory("onnx-storage")
        return try TensorDecoder(external: ExternalDataFiles(modelPath: dir + "/model.onnx")).decode(t)
    }

    func header(_ e: inout ProtobufEncoder, dims: [Int], type: Int) {
        for d in dims { e.int(1, d) }
        e.int(2, type)
        e.string(8, "w")
    }

    let values: [Float] = (0..<6).map { Float($0) * 0.75 - 1.5 }

    @Test func floatDataUnpackedAndPacked() throws {
        let unpacked = try decode { e in
            header(&e, dims: [2, 3], type: 1)
            for v in values { e.float(4, v) }
        }
        #expect(unpacked.shape == [2, 3] && unpacked.dtype == .float32)
        #expect(try unpacked.floats() == values)
        let packed = try decode { e in
            header(&e, dims: [2, 3], type: 1)
            values.withUnsafeBytes { e.bytes(4, $0) }
        }
        #expect(try packed.floats() == values)
    }

    @Test func rawData() throws {
        let t = try decode { e in
            header(&e, dims: [3, 2], type: 1)
            values.withUnsafeBytes { e.bytes(9, $0) }
        }
        #expect(t.shape == [3, 2])
        #expect(try t.floats() == values)
    }

    @Test(arguments: [10, 16])
    func halfPrecisionBitPatternsInInt32Data(_ type: Int) throws {
        let bits = values.map { type == 10 ? $0.halfBits : $0.bfloat16Bits }
        let t = try decode { e in
            header(&e, dims: [6], type: type)
            for b in bits { e.int(5, Int(b)) }
        }
        #expect(t.dtype == (type == 10 ? .float16 : .bfloat16))
        #expect(try t.floats() == bits.map { type == 10 ? Float(half: $0) : Float(bfloat16: $0) })
    }

    @Test func integerAndDoubleFields() throws {
        let i64 = try decode { e in
            header(&e, dims: [3], type: 7)
            for v: Int64 in [-5, 0, 1 << 40] { e.int(7, v) }
        }
        #expect(i64.dtype == .int64 && (0..<3).map { i64.scalar(at: $0) } == [-5, 0, Double(1 << 40)])
        let f64 = try decode { e in
            header(&e, dims: [2], type: 11)
            [0.25, -3.5].withUnsafeBytes { e.bytes(10, $0) }  // packed doubles
        }
        #expect(f64.dtype == .float64 && (0..<2).map { f64.scalar(at: $0) } == [0.25, -3.5])
        let i8 = try decode { e in
            header(&e, dims: [2], type: 3)
            e.int(5, -100); e.int(5, 100)
        }
        #expect((0..<2).map { i8.scalar(at: $0) } == [-100, 100])
    }

    @Test func refusesCountMismatches() throws {
        let raw = try #require(throws: TResNetError.self) {
            _ = try decode { e in
                header(&e, dims: [1_000_000], type: 1)
                [Float(1)].withUnsafeBytes { e.bytes(9, $0) }  // FLOAT[1000000] with 4 bytes
            }
        }
        #expect(raw.code == .malformed && raw.description.contains("raw_data holds 4 bytes"))
        let typed = try #require(throws: TResNetError.self) {
            _ = try decode { e in
                header(&e, dims: [4], type: 1)
                e.float(4, 1)
            }
        }
        #expect(typed.code == .malformed && typed.description.contains("float_data holds 1 values"))
        let range = try #require(throws: TResNetError.self) {
            _ = try decode { e in
                header(&e, dims: [1], type: 3)
                e.int(5, 300)
            }
        }
        #expect(range.code == .malformed)
    }

    @Test func refusesBadDimensions() throws {
        let negative = try #require(throws: TResNetError.self) {
            _ = try decode { e in header(&e, dims: [-1], type: 1) }
        }
        #expect(negative.code == .malformed)
        let overflow = try #require(throws: TResNetError.self) {
            _ = try decode { e in header(&e, dims: [1 << 30, 1 << 30, 1 << 30], type: 1) }
        }
        #expect(overflow.code == .sizeOverflow)
    }

    @Test(arguments: [0, 8, 14, 99])
    func refusesUnsupportedDataTypes(_ type: Int) throws {
        let error = try #require(throws: TResNetError.self) {
            _ = try decode { e in header(&e, dims: [1], type: type) }
        }
        #expect(error.code == .unsupported)
        #expect(error.location.map { "\($0)" } == "tensor 'w'")
    }

    // MARK: External data

    func external(_ entries: [(String, String)]) -> Build {
        { e in
            header(&e, dims: [6], type: 1)
            for (k, v) in entries {
                e.message(13) { s in
                    s.string(1, k); s.string(2, v)
                }
            }
            e.int(14, 1)
        }
    }

    func folderWithData() throws -> String {
        let dir = FixturePaths.temporaryDirectory("onnx-external")
        let bytes = [UInt8](repeating: 7, count: 8) + values.withUnsafeBytes { Array($0) }
        #expect(FileManager.default.createFile(atPath: dir + "/w.bin", contents: Data(bytes)))
        return dir
    }

    @Test func externalDataWithOffset() throws {
        let dir = try folderWithData()
        let t = try decode(
            external([("location", "w.bin"), ("offset", "8"), ("length", "24"), ("checksum", "x")]),
            folder: dir)
        #expect(try t.floats() == values)
        let derived = try decode(external([("location", "w.bin"), ("offset", "8")]), folder: dir)  // length derived
        #expect(try derived.floats() == values)
    }

    @Test(arguments: [
        ([("location", "w.bin"), ("offset", "8a")], TResNetError.Code.malformed),
        ([("location", "w.bin"), ("offset", "-8")], .malformed),
        ([("location", "w.bin"), ("offset", "")], .malformed),
        ([("location", "w.bin"), ("offset", "8"), ("length", "20")], .malformed),
        ([("location", "w.bin"), ("offset", "16")], .truncated),
        ([("location", "w.bin"), ("offset", "99999999999999999999")], .malformed),
        ([("offset", "8")], .malformed),
        ([("location", "w.bin"), ("location", "w.bin")], .malformed),
        ([("location", "missing.bin")], .io),
        ([("location", "./w.bin")], .pathEscape),
        ([("location", "a//w.bin")], .pathEscape)
    ])
    func refusesBadExternalEntries(_ entries: [(String, String)], _ code: TResNetError.Code) throws {
        let dir = try folderWithData()
        let error = try #require(throws: TResNetError.self) { _ = try decode(external(entries), folder: dir) }
        #expect(error.code == code, "\(entries): \(error)")
    }

    /// docs/ROBUSTNESS.md A.5 #78: two tensors reading overlapping bytes of one external file are refused, naming both;
    /// adjacent ranges are fine.
    @Test func refusesOverlappingExternalRanges() throws {
        let dir = FixturePaths.temporaryDirectory("onnx-overlap")
        #expect(FileManager.default.createFile(atPath: dir + "/w.bin", contents: Data(count: 64)))
        let decoder = TensorDecoder(external: try ExternalDataFiles(modelPath: dir + "/model.onnx"))
        func tensor(_ name: String, offset: Int) throws -> ProtoTensor {
            var m = ProtobufEncoder()
            m.message(7) { g in
                g.message(5) { e in
                    e.int(1, 6)
                    e.int(2, 1)
                    e.string(8, name)
                    for (k, v) in [("location", "w.bin"), ("offset", "\(offset)")] {
                        e.message(13) { s in
                            s.string(1, k); s.string(2, v)
                        }
                    }
                    e.int(14, 1)
                }
            }
            let proto = try m.bytes.withUnsafeBytes { try ProtobufFunnel.unpackModel($0) }
            return try #require(proto.graph?.initializers.first)
        }
        _ = try decoder.decode(try tensor("a", offset: 0))  // [0, 24)
        _ = try decoder.decode(try tensor("b", offset: 24))  // [24, 48): adjacent, accepted
        let error = try #require(throws: TResNetError.self) { _ = try decoder.decode(try tensor("c", offset: 40)) }
        #expect(error.code == .malformed)
        #expect(error.location.map { "\($0)" } == "tensor 'c'")
        #expect(error.message.contains("[40, 64) of 'w.bin' overlaps tensor 'b' at [24, 48)"), "\(error)")
    }
}
