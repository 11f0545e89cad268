import TResNetCore

/// An architecture read off tensor names and shapes, with the reasons in plain words.
public struct InferredArchitecture: Sendable {
    public var configuration: TResNetConfiguration
    /// The zoo variant whose body equals the configuration, nil for a custom one.
    public var variantName: String?
    /// One sentence per decision, in order.
    public var explanation: [String]
    /// True when the configuration was forced (`--variant`) rather than inferred.
    public var forced: Bool

    public var displayName: String { variantName ?? "custom" }

    public init(configuration: TResNetConfiguration, variantName: String?, explanation: [String], forced: Bool) {
        self.configuration = configuration
        self.variantName = variantName
        self.explanation = explanation
        self.forced = forced
    }
}

/// Infers layout, blocks per stage, width, input channels and classes from canonical names + shapes alone,
/// so it runs on key lists without allocating tensors.
public enum ArchitectureInference {
    /// - Parameter tensors: canonical (current timm) names and shapes.
    /// - Throws: `.binding` naming the tensors the inference needed but did not find.
    public static func infer(_ tensors: [(name: String, shape: [Int])]) throws -> InferredArchitecture {
        var shapes: [String: [Int]] = [:]
        for t in tensors { shapes[t.name] = t.shape }
        var why: [String] = []

        let stemName = "body.conv1.conv.weight", foldedStem = "body.conv1.weight"
        guard let stem = shapes[stemName], stem.count == 4, stem[1] % 16 == 0, stem[1] > 0 else {
            var message = "cannot infer the architecture: no stem conv '\(stemName)' of shape [P, 16·C, 3, 3]"
            if let s = shapes[stemName] { message += " (it has shape \(formatShape(s)))" }
            if shapes[foldedStem] != nil { message += "; the names look BN-folded or unmapped" }
            let sample = tensors.prefix(3).map { "'\(displaySafe($0.name))'" }.joined(separator: ", ")
            if !tensors.isEmpty { message += "; the file's first names are \(sample)" }
            throw TResNetError(.binding, at: .tensor(stemName), message)
        }
        let planes = stem[0], inChannels = stem[1] / 16
        why.append(
            "stem conv \(stemName) \(formatShape(stem)) → width (planes) \(planes), \(inChannels) input channels")

        let v2 = shapes["body.layer1.0.conv3.conv.weight"] != nil
        why.append(
            v2
                ? "layer1 has bottleneck blocks (body.layer1.0.conv3 present) → v2 layout"
                : "layer1 has basic blocks (no body.layer1.0.conv3) → v1 layout")

        var layers: [Int] = []
        for s in 1...4 {
            let prefix = "body.layer\(s)."
            var maxIndex = -1
            for name in shapes.keys where name.hasPrefix(prefix) {
                let rest = name.dropFirst(prefix.count)
                if let dot = rest.firstIndex(of: "."), let i = Int(rest[..<dot]), i >= 0, i < 100_000 {
                    maxIndex = max(maxIndex, i)
                }
            }
            guard maxIndex >= 0 else {
                throw TResNetError(
                    .binding, at: .tensor("body.layer\(s).0"),
                    "cannot infer the architecture: no tensors under body.layer\(s)")
            }
            layers.append(maxIndex + 1)
        }
        why.append(
            "blocks per stage from the indices under body.layer1…4: \(layers.map(String.init).joined(separator: ", "))")

        let headName = "head.fc.weight"
        let numClasses: Int
        var mlDecoder: MLDecoderConfiguration?
        if let decoder = try MLDecoderInference.infer(shapes, explanation: &why) {
            (numClasses, mlDecoder) = (decoder.classes, decoder.configuration)
        } else {
            guard let head = shapes[headName], head.count == 2 else {
                throw TResNetError(
                    .binding, at: .tensor(headName),
                    "cannot infer the class count: no 2-D '\(headName)' "
                        + "(nor an ML-Decoder head under head.decoder.)")
            }
            why.append("\(headName) \(formatShape(head)) → \(head[0]) classes")
            numClasses = head[0]
        }

        let folded = shapes["body.conv1.conv.bias"] != nil && shapes["body.conv1.bn.weight"] == nil
        if folded { why.append("body.conv1.conv.bias present and no body.conv1.bn → BatchNorm folded into the convs") }
        let configuration = TResNetConfiguration(
            layout: v2 ? .v2 : .v1, layers: layers, planes: planes,
            numClasses: numClasses, inChannels: inChannels,
            normalization: folded ? .folded : .batchNorm, mlDecoder: mlDecoder)
        do { try configuration.validate() } catch let e as TResNetError {
            throw TResNetError(
                .binding, at: .tensor(stemName), "the tensors describe an unbuildable TResNet: \(e.message)")
        }
        let name = configuration.variantName
        if let name {
            why.append(
                "blocks per stage \(layers.map(String.init).joined(separator: ",")), width \(planes) and "
                    + "\(configuration.layout.rawValue) layout match \(name)")
        } else {
            let near =
                TResNetConfiguration.variants.first { $0.configuration.layout == configuration.layout }?.name ?? "-"
            why.append(
                "no zoo variant has \(configuration.layout.rawValue) layout, blocks \(layers) and width \(planes) "
                    + "(nearest layout: \(near)) → custom configuration")
        }
        return InferredArchitecture(configuration: configuration, variantName: name, explanation: why, forced: false)
    }
}
