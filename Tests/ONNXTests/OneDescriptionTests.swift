import Foundation
import Testing
import TestSupport
@testable import TResNetONNX
import TResNetCheckpoint
import TResNetCore
import TResNetModel
import TResNetRuntime

/// The layer tree is the one description of TResNet: the runtime compiles it, the ONNX writer emits it and the
/// ONNX reader binds graphs into it. These guards fail when a second description creeps back in.
@Suite("One description of the architecture")
struct OneDescriptionTests {
    /// No module outside TResNetModel spells a block's canonical name: those come from the tree's walk.
    @Test func noBlockNameLiteralOutsideTheModel() throws {
        let sources = FixturePaths.root + "/Sources"
        let files = try #require(FileManager.default.enumerator(atPath: sources)?.allObjects as? [String])
        var offenders: [String] = []
        for file in files where file.hasSuffix(".swift") && !file.hasPrefix("TResNetModel/") {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains("\"body.layer") {
                offenders.append("Sources/\(file):\(n + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(offenders.isEmpty, "block names typed outside TResNetModel:\n\(offenders.joined(separator: "\n"))")
    }

    /// The runtime compiles exactly the tree's conv units, SE modules and head, by the tree's paths.
    @Test(arguments: TResNetConfiguration.variants.map(\.name) + ["tiny_v1.pth"])
    func runtimeCompilesTheTreesModules(_ name: String) throws {
        let configuration: TResNetConfiguration
        let bound: BoundModel
        if let variant = TResNetConfiguration.variant(name) {
            // Zero weights of the right shapes: the paths are what is compared.
            configuration = variant
            let specs = Dictionary(uniqueKeysWithValues: TResNet(configuration).storedTensors.map { ($0.path, $0) })
            bound = try Binder.bind(configuration) { path in
                specs[path].map {
                    Tensor(
                        shape: $0.shape, floats: [Float](repeating: $0.role == .buffer ? 1 : 0, count: $0.elementCount))
                }
            }
        } else {
            let checkpoint = try CheckpointReader.read(path: FixturePaths.tiny(name))
            configuration = try ArchitectureInference.infer(
                checkpoint.stateDict.entries.map { ($0.name, $0.tensor.shape) }
            ).configuration
            bound = try Binder.bind(checkpoint.stateDict, to: configuration)
        }
        let treeModules = bound.tree.modules.filter { ["ConvNormAct", "SEModule", "Linear"].contains($0.kind) }.map(
            \.path)
        let network = try TResNetNetwork(bound.tree, backend: .blas)
        #expect(network.modulePaths == treeModules)
        #expect(network.tapPaths == TResNet.tapPoints)
        #expect(Set(TResNet.tapPoints).isSubset(of: Set(bound.tree.modules.map(\.path))))
    }

    /// The ONNX writer names every weight it writes by the tree's paths: its initializers are exactly the
    /// tree's tensors with BatchNorm folded (plus the blur pools' fixed filters).
    @Test(arguments: ["tiny_v1.pth", "tiny_v2.pth"])
    func writerEmitsTheTreesTensors(_ name: String) throws {
        let checkpoint = try CheckpointReader.read(path: FixturePaths.tiny(name))
        let configuration = try ArchitectureInference.infer(
            checkpoint.stateDict.entries.map { ($0.name, $0.tensor.shape) }
        ).configuration
        let bound = try Binder.bind(checkpoint.stateDict, to: configuration)
        let bytes = try ONNXWriter.serialize(bound.tree)
        let model = try bytes.withUnsafeBytes { try ProtobufFunnel.unpackModel($0) }
        let written = try #require(model.graph).initializers.map(\.name)
            .filter { !$0.hasSuffix(".filt") && $0 != "blur.pads" }
        var folded = configuration
        folded.normalization = .folded
        #expect(written.sorted() == TResNet(folded).storedTensors.map(\.path).sorted())
        // And the reader binds the written graph back into the same tree.
        let back = try ONNXModel.read(ByteStore.copying(bytes), path: name + ".onnx")
        #expect(back.tensors.names.sorted() == written.sorted())
    }
}
