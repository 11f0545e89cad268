import TResNetCore

/// The parts of an ONNX ModelProto this module reads, as Swift values (copied out of libprotobuf-c's message).
struct ProtoModel: Sendable {
    struct Opset: Sendable {
        var domain: String
        var version: Int64?
    }

    var irVersion: Int64?
    var opsets: [Opset]
    var producerName: String
    var producerVersion: String
    var graph: ProtoGraph?

    /// The `ai.onnx` opset version (domain "" or "ai.onnx").
    var defaultOpset: Int64? {
        opsets.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version
    }
}

struct ProtoGraph: Sendable {
    var name: String
    var nodes: [ProtoNode]
    var initializers: [ProtoTensor]
    var inputs: [String]
    var outputs: [String]
}

struct ProtoNode: Sendable {
    var name: String
    var opType: String
    var domain: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [ProtoAttribute]

    func attribute(_ name: String) -> ProtoAttribute? { attributes.first { $0.name == name } }

    /// A name to show in errors: the node's name, or its op type and first output when it has none.
    var displayName: String {
        if !name.isEmpty { return name }
        return "\(opType) -> \(outputs.first ?? "?")"
    }
}

struct ProtoAttribute: Sendable {
    var name: String
    var type: Int32?
    var f: Float?
    var i: Int64?
    var s: [UInt8]?
    var t: ProtoTensor?
    var floats: [Float]
    var ints: [Int64]
    var refAttrName: String
}

struct ProtoTensor: Sendable {
    var name: String
    var dims: [Int64]
    var dataType: Int32
    var raw: ByteStore?
    var floatData: [Float]
    var int32Data: [Int32]
    var int64Data: [Int64]
    var doubleData: [Double]
    var uint64Data: [UInt64]
    var stringCount: Int
    var external: [(key: [UInt8], value: [UInt8])]
    var dataLocation: Int32
}
