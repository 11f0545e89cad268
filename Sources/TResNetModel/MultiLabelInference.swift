import TResNetCore

/// Reads an ML-Decoder head's shape off its tensors (`head.decoder.*`): classes from `duplicate_pooling_bias`,
/// groups and width from `query_embed.weight`, D from `duplicate_pooling`, the feed-forward width from
/// `layers.0.linear1.weight`, the layer count from the indices under `layers.`. The head count is not in the
/// tensors: the published default (8) is taken and said so.
public enum MLDecoderInference {
    public static let prefix = "head.decoder."

    /// nil when the names hold no ML-Decoder head; throws `.binding` when they hold a malformed one.
    public static func infer(_ shapes: [String: [Int]], explanation why: inout [String])
        throws -> (classes: Int, configuration: MLDecoderConfiguration)?
    {
        guard shapes.keys.contains(where: { $0.hasPrefix(prefix) }) else { return nil }
        func need(_ key: String, rank: Int) throws -> [Int] {
            let name = prefix + key
            guard let s = shapes[name], s.count == rank, s.allSatisfy({ $0 >= 1 }) else {
                let have = shapes[name].map { " (it has shape \(formatShape($0)))" } ?? ""
                throw TResNetError(
                    .binding, at: .tensor(name),
                    "cannot infer the ML-Decoder head: no \(rank)-D '\(name)'\(have)")
            }
            return s
        }
        let bias = try need("duplicate_pooling_bias", rank: 1)
        let queries = try need("query_embed.weight", rank: 2)
        let pooling = try need("duplicate_pooling", rank: 3)
        let ff = try need("layers.0.linear1.weight", rank: 2)
        var layers = 0
        while shapes[prefix + "layers.\(layers).linear1.weight"] != nil, layers < 64 { layers += 1 }
        let c = MLDecoderConfiguration(
            groups: queries[0], embedDim: queries[1], feedForwardDim: ff[0],
            decoderLayers: layers, duplicateFactor: pooling[2])
        why.append(
            "head.decoder.* present → ML-Decoder head (global pool replaced by attention over the last stage's "
                + "tokens)")
        why.append(
            "head.decoder.duplicate_pooling_bias \(formatShape(bias)) → \(bias[0]) classes; query_embed.weight "
                + "\(formatShape(queries)) → \(c.groups) groups of width \(c.embedDim); duplicate_pooling "
                + "\(formatShape(pooling)) → \(c.duplicateFactor) logits per group; linear1 \(formatShape(ff)) → "
                + "feed-forward width \(c.feedForwardDim); \(layers) decoder layer\(layers == 1 ? "" : "s")")
        why.append("attention heads: \(c.heads) (the published default; the tensors do not show it)")
        do { try c.validate(classes: bias[0]) } catch let e as TResNetError {
            throw TResNetError(
                .binding, at: .tensor(prefix + "duplicate_pooling"), "the ML-Decoder tensors do not fit: \(e.message)")
        }
        return (bias[0], c)
    }
}
