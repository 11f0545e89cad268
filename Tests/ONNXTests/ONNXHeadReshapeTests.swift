import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetRuntime
@testable import TResNetONNX

/// A flatten Reshape between the global pool and the head whose target is computed from the pooled value's shape
/// (`x.view(x.size(0), -1)` as an exporter writes it with a dynamic batch), spliced into the real micro export:
/// `[N, -1]` is read (and keeps parity); `[F, -1]` (gathering the wrong axis) is refused naming the Reshape.
struct ONNXHeadReshapeTests {
    func attribute(_ name: String, ints: [Int64] = [], i: Int64? = nil) -> ProtoAttribute {
        ProtoAttribute(
            name: name, type: i == nil ? 7 : 2, f: nil, i: i, s: nil, t: nil, floats: [], ints: ints,
            refAttrName: "")
    }

    func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [ProtoAttribute] = []) -> ProtoNode {
        ProtoNode(
            name: "/head/flatten/\(output)", opType: op, domain: "", inputs: inputs, outputs: [output],
            attributes: attributes)
    }

    func withFlatten(gatherAxis: Int64) throws -> ProtoModel {
        let path = FixturePaths.tiny("micro.ts20.dyn_b.onnx")
        let store = try ByteStore.map(path: path)
        var proto = try ProtobufFunnel.unpackModel(store.bytes)
        var graph = try #require(proto.graph)
        let gemmAt = try #require(graph.nodes.firstIndex { $0.opType == "Gemm" })
        let pooled = graph.nodes[gemmAt].inputs[0]
        #expect(graph.nodes.contains { $0.opType == "ReduceMean" && $0.outputs == [pooled] })
        let flatten: [ProtoNode] = [
            node("Shape", [pooled], "shape"),
            node("Constant", [], "axis", [attribute("value_ints", ints: [gatherAxis])]),
            node("Gather", ["shape", "axis"], "batch", [attribute("axis", i: 0)]),
            node("Constant", [], "rest", [attribute("value_ints", ints: [-1])]),
            node("Concat", ["batch", "rest"], "target", [attribute("axis", i: 0)]),
            node("Reshape", [pooled, "target"], "flat")
        ]
        graph.nodes[gemmAt].inputs[0] = "flat"
        graph.nodes.insert(contentsOf: flatten, at: gemmAt)
        proto.graph = graph
        return proto
    }

    @Test func aComputedBatchFlattenIsRead() throws {
        let model = try ONNXModel.read(proto: try withFlatten(gatherAxis: 0), modelPath: FixturePaths.tiny("m.onnx"))
        let network = try TResNetNetwork(configuration: model.configuration, tensor: { model.tensors[$0] })
        let report = try ParityReport.run(
            network, reference: try References.read(FixturePaths.tiny("micro.reference.npz")),
            tolerance: .float32)
        #expect(report.passed, "\(report.render())")
    }

    @Test func aFlattenOnTheWrongAxisIsRefused() throws {
        do {
            _ = try ONNXModel.read(proto: try withFlatten(gatherAxis: 1), modelPath: FixturePaths.tiny("m.onnx"))
            Issue.record("read")
        } catch let e as TResNetError {
            #expect(e.location?.description == "node '/head/flatten/flat'", "\(e)")
            #expect(e.message.contains("[F, -1]") && e.message.contains("[N, F]"), "\(e)")
        }
    }
}
