import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetONNX

/// ONNX models under 1 KiB whose initializer declares 4 TiB (dims [2^20, 2^20] float) are refused in bounded memory and
/// time, for each storage form: raw_data, typed float_data, external data (docs/ROBUSTNESS.md A.5 #71, #75; C.1 item 5).
@Suite("ONNX declared-size bombs", .serialized)
struct ONNXBoundedMemoryTests {
    typealias Build = (inout ProtobufEncoder) -> Void

    func model(_ tensor: Build) -> [UInt8] {
        var m = ProtobufEncoder()
        m.message(7) { g in g.message(5, tensor) }
        return m.bytes
    }

    func header(_ e: inout ProtobufEncoder) {
        e.int(1, 1 << 20)  // dims [2^20, 2^20]: each dimension plausible, 2^40 elements
        e.int(1, 1 << 20)
        e.int(2, 1)  // FLOAT
        e.string(8, "w")
    }

    func expectRefused(
        _ bytes: [UInt8], _ code: TResNetError.Code, _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(bytes.count < 1024, sourceLocation: sourceLocation)
        let dir = FixturePaths.temporaryDirectory("onnx-bomb")
        #expect(FileManager.default.createFile(atPath: dir + "/w.bin", contents: Data([1, 2, 3, 4])))
        var error: TResNetError?
        let m = ResourceProbe.measure(attempts: 3, until: { $0.peakGrowthBytes < 64 << 20 && $0.seconds < 0.1 }) {
            do {
                let proto = try bytes.withUnsafeBytes { try ProtobufFunnel.unpackModel($0) }
                guard let t = proto.graph?.initializers.first else { return }
                _ = try TensorDecoder(external: ExternalDataFiles(modelPath: dir + "/model.onnx")).decode(t)
            } catch let e as TResNetError { error = e } catch {}
        }
        #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(
            error?.description.contains(fragment) == true, "\(String(describing: error))",
            sourceLocation: sourceLocation)
        #expect(m.peakGrowthBytes < 64 << 20, "\(m)", sourceLocation: sourceLocation)
        #expect(m.seconds < 0.1, "\(m)", sourceLocation: sourceLocation)
        print("onnx bomb refused (\(bytes.count) bytes): \(m): \(error.map { "\($0)" } ?? "-")")
    }

    @Test func rawData() throws {
        try expectRefused(
            model { e in
                header(&e); [UInt8](repeating: 0, count: 4).withUnsafeBytes { e.bytes(9, $0) }
            }, .malformed, "tensor 'w'")
    }

    @Test func typedFloatData() throws {
        try expectRefused(
            model { e in
                header(&e); [UInt8](repeating: 0, count: 4).withUnsafeBytes { e.bytes(4, $0) }
            }, .malformed, "tensor 'w'")
    }

    @Test func externalData() throws {
        let entry: (String, String) -> Build = { k, v in
            { kv in
                kv.string(1, k); kv.string(2, v)
            }
        }
        try expectRefused(
            model { e in
                header(&e)
                e.message(13, entry("location", "w.bin"))
                e.message(13, entry("length", "4398046511104"))
                e.int(14, 1)  // EXTERNAL
            }, .truncated, "tensor 'w'")
    }
}

/// docs/ROBUSTNESS.md A.0 #10 / A.5 #67, #69: the project's onnx.proto leaves out the subgraph fields (AttributeProto.g
/// and .graphs), so no message can nest itself; a file nesting 3,000 levels in those fields is read without
/// recursion (libprotobuf-c keeps unknown fields as opaque bytes) and refused for what it lacks.
struct ONNXNestingTests {
    @Test func deepSubgraphNestingIsOpaque() throws {
        var inner: [UInt8] = []
        func varint(_ v: Int) -> [UInt8] {
            var v = UInt64(v), out: [UInt8] = []
            while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            return out + [UInt8(v)]
        }
        for _ in 0..<3000 { inner = [0x32] + varint(inner.count) + inner }  // field 6 (AttributeProto.g), bytes
        var attribute: [UInt8] = [0x0A, 1, 0x78] + inner  // name "x", then the nest
        attribute = [0x2A] + varint(attribute.count) + attribute  // NodeProto.attribute (5)
        let node: [UInt8] = [0x0A] + varint(attribute.count) + attribute  // GraphProto.node (1)
        let model: [UInt8] = [0x3A] + varint(node.count) + node  // ModelProto.graph (7)
        let dir = FixturePaths.temporaryDirectory("onnx-nest")
        let error = try #require(throws: TResNetError.self) {
            _ = try ONNXModel.read(ByteStore.copying(model), path: dir + "/m.onnx")
        }
        #expect(error.code == .malformed, "\(error)")
        #expect(error.description.contains("opset"), "\(error)")
    }
}
