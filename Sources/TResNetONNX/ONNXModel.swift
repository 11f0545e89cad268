import TResNetCore
import TResNetModel

/// A TResNet read from an ONNX file: the configuration inferred from the graph, the weights under canonical
/// (timm) names, and whether the export had BatchNorm folded into the convs.
///
/// Weights are bound by graph structure (which op consumes them, in which slot), never by initializer names,
/// so TorchScript exports (`onnx::Conv_123`) and dynamo exports (original names, folded values, `.onnx.data`
/// side files) read the same way. For folded convs the tensors are `<prefix>.conv.weight` + `.conv.bias` and
/// there is no `.bn.*`; unfolded exports give `.bn.{weight,bias,running_mean,running_var}` as in a state_dict.
public struct ONNXModel: Sendable {
    /// What the file says about itself, for `tresnet-inspect`.
    public struct Summary: Sendable, Codable {
        public var irVersion: Int64?
        /// The `ai.onnx` opset.
        public var opset: Int64
        public var producerName: String
        public var producerVersion: String
        public var graphName: String
        public var nodeCount: Int
        public var initializerCount: Int
        /// External data files the weights were read from (relative to the model's folder).
        public var externalDataFiles: [String]
        /// Convs that kept a BatchNormalization node (the rest were folded by the exporter).
        public var batchNormNodes: Int
        /// Nodes per op type.
        public var opCounts: [String: Int]
    }

    public let configuration: TResNetConfiguration
    /// Canonical name → tensor, in forward order. Metadata: `format` = `onnx`, `onnx.folded` = `true`/`false`.
    public let tensors: StateDict
    /// True when at least one conv carries its BatchNorm folded in (by the exporter, or by this reader for a conv
    /// with its own bias or a BatchNorm with ε ≠ 1e-5): such convs have `.conv.bias` instead of `.bn.*`, and the
    /// model cannot be "unfolded" back into a state_dict.
    public let folded: Bool
    public let summary: Summary

    /// The `ai.onnx` opsets this reader accepts (the ops TResNet needs have had today's semantics since 11).
    public static let supportedOpsets: ClosedRange<Int64> = 11...24

    /// Reads `path`: maps the file, unpacks it with libprotobuf-c, resolves external data inside the model's folder,
    /// and maps the graph onto the TResNet layer tree. Errors name the file, and the first node that does not fit.
    public static func read(path: String) throws -> ONNXModel {
        try TResNetError.naming(path) { try read(try ByteStore.map(path: path), path: path) }
    }

    /// Reads a model already in memory (fuzzing, tests); `path` names it in errors and its folder is where
    /// external data is resolved.
    public static func read(_ store: ByteStore, path: String) throws -> ONNXModel {
        try TResNetError.naming(path) {
            guard store.count <= protobufSizeLimit else {
                throw TResNetError(
                    .limitExceeded, format: "onnx",
                    "file is \(store.count) bytes, over protobuf's 2 GiB limit for one message; "
                        + "large models must keep their weights in external data")
            }
            let proto = try ProtobufFunnel.unpackModel(store.bytes)
            return try read(proto: proto, modelPath: path)
        }
    }

    static func read(proto: ProtoModel, modelPath: String) throws -> ONNXModel {
        guard let graph = proto.graph else {
            throw TResNetError(.malformed, format: "onnx", at: .field("ModelProto.graph"), "the model has no graph")
        }
        guard let opset = proto.defaultOpset else {
            throw TResNetError(
                .malformed, format: "onnx", at: .field("ModelProto.opset_import"),
                "no ai.onnx opset is imported (truncated or not an ONNX model)")
        }
        guard supportedOpsets.contains(opset) else {
            throw TResNetError(
                .unsupported, format: "onnx", at: .field("ModelProto.opset_import"),
                "opset \(opset) is outside the supported \(supportedOpsets.lowerBound)–"
                    + "\(supportedOpsets.upperBound)")
        }
        let external = try ExternalDataFiles(modelPath: modelPath)
        let index = try GraphIndex(graph: graph, decoder: TensorDecoder(external: external))
        var walker = GraphWalker(index: index)
        let configuration: TResNetConfiguration
        do {
            configuration = try walker.walk()
        } catch var error as TResNetError where error.code == .unsupportedGraph {
            // Name every op the graph uses that a TResNet never needs, not only the first one met.
            let unknown = Set(graph.nodes.map(\.opType)).subtracting(knownOps).sorted()
            if !unknown.isEmpty {
                error.message +=
                    "; the graph also uses ops a TResNet does not: "
                    + unknown.prefix(20).map { displaySafe($0, limit: 40) }.joined(separator: ", ")
            }
            throw error
        }
        var tensors = walker.tensors
        tensors.metadata["format"] = "onnx"
        tensors.metadata["onnx.folded"] = walker.folded ? "true" : "false"
        tensors.metadata["onnx.opset"] = String(opset)
        if !proto.producerName.isEmpty {
            tensors.metadata["onnx.producer"] = proto.producerName + " " + proto.producerVersion
        }
        let summary = Summary(
            irVersion: proto.irVersion, opset: opset, producerName: proto.producerName,
            producerVersion: proto.producerVersion, graphName: graph.name,
            nodeCount: graph.nodes.count, initializerCount: graph.initializers.count,
            externalDataFiles: external.locations, batchNormNodes: walker.unfoldedConvs,
            opCounts: graph.nodes.reduce(into: [:]) { $0[$1.opType, default: 0] += 1 })
        return ONNXModel(configuration: configuration, tensors: tensors, folded: walker.folded, summary: summary)
    }

    /// Ops an exported TResNet consists of (data path), plus the shape arithmetic exporters emit beside it.
    static let knownOps: Set<String> = [
        "SpaceToDepth", "Reshape", "Transpose", "Conv", "BatchNormalization", "LeakyRelu", "Relu", "Add", "Mul",
        "Sigmoid", "AveragePool", "Pad", "GlobalAveragePool", "ReduceMean", "Gemm", "MatMul", "Flatten", "Squeeze",
        "Identity", "Constant", "Shape", "Gather", "Unsqueeze", "Concat", "Slice", "Cast", "CastLike",
        "ConstantOfShape", "Sub", "Div", "Expand", "Range", "Equal", "Where"
    ]
}
