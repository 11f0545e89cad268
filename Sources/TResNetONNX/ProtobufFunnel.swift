// The one file that talks to C: libprotobuf-c unpacks a ModelProto from mapped bytes with the generated code of
// Sources/CONNXProto/onnx.proto, and everything the rest of the module needs is copied into Swift values
// (`ProtoModel`) before the C message is freed with its own free function.
import CONNXProto
import CProtobufC
import TResNetCore

/// Protobuf's own hard limit on one serialized message; larger models must keep their weights in external data.
let protobufSizeLimit = Int(Int32.max)

enum ProtobufFunnel {
    /// Unpacks `bytes` as an ONNX ModelProto. The message depth is bounded by the schema (see onnx.proto), so
    /// protobuf-c's recursion cannot go deeper than five levels; size is checked here before any decoding.
    static func unpackModel(_ bytes: UnsafeRawBufferPointer) throws -> ProtoModel {
        guard bytes.count <= protobufSizeLimit else {
            throw TResNetError(
                .limitExceeded, format: "onnx",
                "file is \(bytes.count) bytes, over protobuf's 2 GiB limit for one message; "
                    + "large models must store their weights as external data")
        }
        guard bytes.count > 0, let base = bytes.baseAddress else {
            throw TResNetError(.truncated, format: "onnx", at: .offset(0), "empty file")
        }
        let data = base.assumingMemoryBound(to: UInt8.self)
        guard let model = onnx__model_proto__unpack(nil, bytes.count, data) else {
            throw TResNetError(
                .malformed, format: "onnx",
                "not a valid ONNX protobuf: libprotobuf-c could not unpack the ModelProto "
                    + "(truncated, bad varint, bad wire type or a length beyond the end of the file)")
        }
        defer { onnx__model_proto__free_unpacked(model, nil) }
        return convert(model.pointee)
    }

    // MARK: C → Swift

    private static func string(_ p: UnsafeMutablePointer<CChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p)
    }

    private static func strings(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
        guard let p, n > 0 else { return [] }
        return (0..<n).map { string(p[$0]) }
    }

    private static func bytes(_ b: ProtobufCBinaryData) -> [UInt8] {
        guard let d = b.data, b.len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: d, count: b.len))
    }

    private static func array<T>(_ n: Int, _ p: UnsafeMutablePointer<T>?) -> [T] {
        guard let p, n > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    private static func convert(_ m: Onnx__ModelProto) -> ProtoModel {
        var opsets: [ProtoModel.Opset] = []
        if let list = m.opset_import {
            for i in 0..<m.n_opset_import {
                guard let o = list[i] else { continue }
                opsets.append(
                    .init(
                        domain: string(o.pointee.domain),
                        version: o.pointee.has_version != 0 ? o.pointee.version : nil))
            }
        }
        return ProtoModel(
            irVersion: m.has_ir_version != 0 ? m.ir_version : nil, opsets: opsets,
            producerName: string(m.producer_name), producerVersion: string(m.producer_version),
            graph: m.graph.map { convert($0.pointee) })
    }

    private static func convert(_ g: Onnx__GraphProto) -> ProtoGraph {
        var nodes: [ProtoNode] = []
        if let list = g.node {
            for i in 0..<g.n_node { if let n = list[i] { nodes.append(convert(n.pointee)) } }
        }
        var initializers: [ProtoTensor] = []
        if let list = g.initializer {
            for i in 0..<g.n_initializer { if let t = list[i] { initializers.append(convert(t.pointee)) } }
        }
        func names(_ n: Int, _ list: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__ValueInfoProto>?>?) -> [String] {
            guard let list, n > 0 else { return [] }
            return (0..<n).compactMap { list[$0].map { string($0.pointee.name) } }
        }
        return ProtoGraph(
            name: string(g.name), nodes: nodes, initializers: initializers,
            inputs: names(g.n_input, g.input), outputs: names(g.n_output, g.output))
    }

    private static func convert(_ n: Onnx__NodeProto) -> ProtoNode {
        var attributes: [ProtoAttribute] = []
        if let list = n.attribute {
            for i in 0..<n.n_attribute { if let a = list[i] { attributes.append(convert(a.pointee)) } }
        }
        return ProtoNode(
            name: string(n.name), opType: string(n.op_type), domain: string(n.domain),
            inputs: strings(n.n_input, n.input), outputs: strings(n.n_output, n.output),
            attributes: attributes)
    }

    private static func convert(_ a: Onnx__AttributeProto) -> ProtoAttribute {
        ProtoAttribute(
            name: string(a.name), type: a.has_type != 0 ? a.type : nil,
            f: a.has_f != 0 ? a.f : nil, i: a.has_i != 0 ? a.i : nil, s: a.has_s != 0 ? bytes(a.s) : nil,
            t: a.t.map { convert($0.pointee) }, floats: array(a.n_floats, a.floats), ints: array(a.n_ints, a.ints),
            refAttrName: string(a.ref_attr_name))
    }

    private static func convert(_ t: Onnx__TensorProto) -> ProtoTensor {
        var external: [(key: [UInt8], value: [UInt8])] = []
        if let list = t.external_data {
            for i in 0..<t.n_external_data {
                guard let e = list[i] else { continue }
                external.append((bytes(e.pointee.key), bytes(e.pointee.value)))
            }
        }
        var raw: ByteStore?
        if t.has_raw_data != 0 {
            let b = t.raw_data
            raw = ByteStore.copying(UnsafeRawBufferPointer(start: b.data, count: b.data == nil ? 0 : b.len))
        }
        return ProtoTensor(
            name: string(t.name), dims: array(t.n_dims, t.dims), dataType: t.has_data_type != 0 ? t.data_type : 0,
            raw: raw, floatData: array(t.n_float_data, t.float_data), int32Data: array(t.n_int32_data, t.int32_data),
            int64Data: array(t.n_int64_data, t.int64_data), doubleData: array(t.n_double_data, t.double_data),
            uint64Data: array(t.n_uint64_data, t.uint64_data), stringCount: t.n_string_data,
            external: external, dataLocation: t.has_data_location != 0 ? t.data_location : 0)
    }
}
