import TResNetCore

/// The shape of an ML-Decoder head (docs/MULTILABEL.md): G learned queries attend to the H·W tokens of the last
/// stage, and a group-wise linear layer turns each query's embedding into D logits. Everything but the
/// attention head count follows from the tensors.
public struct MLDecoderConfiguration: Codable, Sendable, Hashable, CustomStringConvertible {
    /// G: queries (`query_embed.weight` rows); the published default is min(100, classes).
    public var groups: Int
    /// E: the decoder width (`embed_standart` output, 768 in the published models).
    public var embedDim: Int
    /// The feed-forward width of each decoder layer (`linear1` output, 2048 published).
    public var feedForwardDim: Int
    /// Attention heads (not visible in the tensors; 8 in the published code).
    public var heads: Int
    /// Decoder layers (`layers.#`; 1 published).
    public var decoderLayers: Int
    /// D: logits per group (`duplicate_pooling` [G, E, D]); G·D ≥ classes, the surplus logits are cut.
    public var duplicateFactor: Int

    public static let defaultHeads = 8

    public init(
        groups: Int, embedDim: Int, feedForwardDim: Int, heads: Int = defaultHeads, decoderLayers: Int = 1,
        duplicateFactor: Int
    ) {
        self.groups = groups
        self.embedDim = embedDim
        self.feedForwardDim = feedForwardDim
        self.heads = heads
        self.decoderLayers = decoderLayers
        self.duplicateFactor = duplicateFactor
    }

    public var description: String {
        "ML-Decoder (\(groups) groups × \(duplicateFactor), width \(embedDim), feed-forward \(feedForwardDim), "
            + "\(heads) heads, \(decoderLayers) layer\(decoderLayers == 1 ? "" : "s"))"
    }

    /// Checks the head is buildable for `classes` classes.
    public func validate(classes: Int) throws {
        let small = 1...(1 << 20)
        guard small.contains(groups), small.contains(embedDim), small.contains(feedForwardDim),
            (1...64).contains(decoderLayers),
            small.contains(duplicateFactor), heads >= 1, embedDim % heads == 0
        else {
            throw TResNetError(
                .malformed,
                "configuration: ML-Decoder head \(self) out of range (the width must be a "
                    + "multiple of the head count)")
        }
        // D is the least that covers the classes (G·D ≥ C > G·(D − 1)); the surplus logits are cut. With
        // D = int(C/G + 0.999) the surplus can span more than the last group (9605 classes, 200 groups: 195).
        guard groups * duplicateFactor >= classes, groups * (duplicateFactor - 1) < classes else {
            throw TResNetError(
                .malformed,
                "configuration: ML-Decoder head: \(groups) groups × \(duplicateFactor) "
                    + "logits do not fit \(classes) classes (G·D must cover them, G·(D − 1) must not)")
        }
    }
}

/// `nn.LayerNorm` over the last dimension (ε 1e-5, affine).
public struct LayerNorm: Layer {
    public var features: Int
    public static let epsilon: Double = 1e-5
    public var weight: Tensor?
    public var bias: Tensor?
    public var path = ""
    public var kind: String { "LayerNorm" }

    public init(features: Int) { self.features = features }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.tensor("weight", [features], &weight)
        try w.tensor("bias", [features], &bias)
    }
}

/// `nn.Embedding`: a learned table; ML-Decoder's queries are its rows.
public struct Embedding: Layer {
    public var count: Int
    public var features: Int
    public var weight: Tensor?
    public var path = ""
    public var kind: String { "Embedding" }

    public init(count: Int, features: Int) {
        self.count = count
        self.features = features
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.tensor("weight", [count, features], &weight)
    }
}

/// `nn.MultiheadAttention` (batch second, equal q/k/v widths): one packed input projection [3E, E] (rows: query,
/// key, value), then scaled dot-product attention per head, then `out_proj`.
public struct MultiheadAttention: Layer {
    public var embedDim: Int
    public var heads: Int
    public var inProjWeight: Tensor?
    public var inProjBias: Tensor?
    public var outProj: Linear
    public var path = ""
    public var kind: String { "MultiheadAttention" }

    public init(embedDim: Int, heads: Int) {
        self.embedDim = embedDim
        self.heads = heads
        outProj = Linear(inFeatures: embedDim, outFeatures: embedDim)
    }

    /// The bound query, key and value projections: the packed rows cut in three (weights [E, E], biases [E]),
    /// views of the stored tensors in their own dtype (the float64 oracle widens them exactly).
    public func projections() throws -> [(weight: Tensor, bias: Tensor)] {
        let w = try inProjWeight.required(path + ".in_proj_weight")
        let b = try inProjBias.required(path + ".in_proj_bias")
        let e = embedDim
        return (0..<3).map { i in
            (
                Tensor.gather(storage: w.data, dtype: w.dtype, shape: [e, e], strides: [e, 1], offset: i * e * e),
                Tensor.gather(storage: b.data, dtype: b.dtype, shape: [e], strides: [1], offset: i * e)
            )
        }
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.tensor("in_proj_weight", [3 * embedDim, embedDim], &inProjWeight)
        try w.tensor("in_proj_bias", [3 * embedDim], &inProjBias)
        try w.child("out_proj", &outProj)
    }
}

/// ML-Decoder's decoder layer (no self-attention): in eval, q = LN1(q + q); q = LN2(q + MHA(q, tokens, tokens));
/// q = LN3(q + linear2(ReLU(linear1(q)))). State-dict order: norm1, multihead_attn, linear1, linear2, norm2, norm3.
public struct MLDecoderLayer: Layer {
    public var norm1: LayerNorm
    public var multiheadAttn: MultiheadAttention
    public var linear1: Linear
    public var linear2: Linear
    public var norm2: LayerNorm
    public var norm3: LayerNorm
    public var path = ""
    public var kind: String { "TransformerDecoderLayerOptimal" }

    public init(embedDim: Int, feedForwardDim: Int, heads: Int) {
        norm1 = LayerNorm(features: embedDim)
        multiheadAttn = MultiheadAttention(embedDim: embedDim, heads: heads)
        linear1 = Linear(inFeatures: embedDim, outFeatures: feedForwardDim)
        linear2 = Linear(inFeatures: feedForwardDim, outFeatures: embedDim)
        norm2 = LayerNorm(features: embedDim)
        norm3 = LayerNorm(features: embedDim)
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.child("norm1", &norm1)
        try w.child("multihead_attn", &multiheadAttn)
        try w.child("linear1", &linear1)
        try w.child("linear2", &linear2)
        try w.child("norm2", &norm2)
        try w.child("norm3", &norm3)
    }
}

/// `head.decoder`: the group FC's own tensors first (where the state dict lists them), then the layers, the
/// token embedding and the queries.
public struct MLDecoder: Layer {
    public var classes: Int
    public var configuration: MLDecoderConfiguration
    /// [G, E, D]: logits[g·D + j] = Σ_e query[g, e] · duplicate_pooling[g, e, j].
    public var duplicatePooling: Tensor?
    /// [classes]
    public var duplicatePoolingBias: Tensor?
    public var layers: [MLDecoderLayer]
    /// F → E, followed by ReLU, applied to every token.
    public var embedStandart: Linear
    public var queryEmbed: Embedding
    public var path = ""
    public var kind: String { "TransformerDecoder" }

    public init(classes: Int, features: Int, _ c: MLDecoderConfiguration) {
        self.classes = classes
        configuration = c
        layers = (0..<c.decoderLayers).map { _ in
            MLDecoderLayer(embedDim: c.embedDim, feedForwardDim: c.feedForwardDim, heads: c.heads)
        }
        embedStandart = Linear(inFeatures: features, outFeatures: c.embedDim)
        queryEmbed = Embedding(count: c.groups, features: c.embedDim)
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        let c = configuration
        try w.tensor("duplicate_pooling", [c.groups, c.embedDim, c.duplicateFactor], &duplicatePooling)
        try w.tensor("duplicate_pooling_bias", [classes], &duplicatePoolingBias)
        try w.sequence("layers", &layers)
        try w.child("embed_standart", &embedStandart)
        try w.child("query_embed", &queryEmbed)
    }
}

/// `head` of an ML-Decoder TResNet: the global pool is gone (identity); the decoder reads the last stage's tokens.
/// Its output (the logits) is the tap `head`.
public struct MLDecoderHead: Layer {
    public var decoder: MLDecoder
    public var path = ""
    public var kind: String { "MLDecoder" }

    public init(classes: Int, features: Int, _ c: MLDecoderConfiguration) {
        decoder = MLDecoder(classes: classes, features: features, c)
    }

    public mutating func walk(_ w: inout ParameterWalker) throws {
        try w.child("decoder", &decoder)
    }
}
