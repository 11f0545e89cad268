import Foundation
import TResNetModel

/// The kernel of the tree's `MLDecoderHead` (docs/MULTILABEL.md): tokens = ReLU(embed(last stage's H·W pixels));
/// per decoder layer q = LN1(q + q), q = LN2(q + MHA(q, tokens, tokens)), q = LN3(q + FF(q)); then the group FC,
/// cut to the class count, plus the bias. Linear maps are OpenBLAS GEMMs; layer norms and softmax are plain
/// loops with Double sums.
struct MLDecoderKernel: Sendable {
    let path: String
    let classes: Int
    let configuration: MLDecoderConfiguration
    /// `embed_standart`: [E, F], [E]
    let embed: Dense
    /// `query_embed.weight`: [G, E]
    let queries: [Float]
    let layers: [DecoderLayer]
    /// `duplicate_pooling`: [G, E, D]; `duplicate_pooling_bias`: [classes]
    let pooling: [Float], poolingBias: [Float]

    struct Norm: Sendable {
        let weight: [Float], bias: [Float]
        init(_ n: LayerNorm) throws {
            weight = try n.weight.required(n.path + ".weight").floats()
            bias = try n.bias.required(n.path + ".bias").floats()
        }
    }

    struct Dense: Sendable {
        let inFeatures: Int, outFeatures: Int
        /// [out, in]
        let weight: [Float], bias: [Float]
        init(_ l: Linear) throws {
            (inFeatures, outFeatures) = (l.inFeatures, l.outFeatures)
            weight = try l.weight.required(l.path + ".weight").floats()
            bias = try l.bias.required(l.path + ".bias").floats()
        }
        init(inFeatures: Int, outFeatures: Int, weight: [Float], bias: [Float]) {
            (self.inFeatures, self.outFeatures, self.weight, self.bias) = (inFeatures, outFeatures, weight, bias)
        }

        /// rows × in → rows × out.
        func callAsFunction(_ x: [Float], rows: Int, relu: Bool = false) -> [Float] {
            var y = [Float](repeating: 0, count: rows * outFeatures)
            x.withUnsafeBufferPointer { a in
                weight.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer { c in
                        blasSgemm(
                            m: rows, n: outFeatures, k: inFeatures, a: a.baseAddress!, lda: inFeatures,
                            b: b.baseAddress!, ldb: inFeatures, transposedB: true, c: c.baseAddress!, ldc: outFeatures)
                    }
                }
            }
            for r in 0..<rows {
                for o in 0..<outFeatures {
                    let v = y[r * outFeatures + o] + bias[o]
                    y[r * outFeatures + o] = relu ? max(v, 0) : v
                }
            }
            return y
        }
    }

    struct DecoderLayer: Sendable {
        let norm1: Norm, norm2: Norm, norm3: Norm
        let query: Dense, key: Dense, value: Dense, out: Dense
        let linear1: Dense, linear2: Dense
        let heads: Int

        init(_ l: MLDecoderLayer) throws {
            (norm1, norm2, norm3) = (try Norm(l.norm1), try Norm(l.norm2), try Norm(l.norm3))
            let a = l.multiheadAttn, e = a.embedDim
            let p = try a.projections().map {
                Dense(inFeatures: e, outFeatures: e, weight: try $0.weight.floats(), bias: try $0.bias.floats())
            }
            (query, key, value) = (p[0], p[1], p[2])
            (out, linear1, linear2) = (try Dense(a.outProj), try Dense(l.linear1), try Dense(l.linear2))
            heads = a.heads
        }
    }

    init(_ head: MLDecoderHead) throws {
        let d = head.decoder
        path = head.path
        classes = d.classes
        configuration = d.configuration
        embed = try Dense(d.embedStandart)
        queries = try d.queryEmbed.weight.required(d.queryEmbed.path + ".weight").floats()
        layers = try d.layers.map(DecoderLayer.init)
        pooling = try d.duplicatePooling.required(d.path + ".duplicate_pooling").floats()
        poolingBias = try d.duplicatePoolingBias.required(d.path + ".duplicate_pooling_bias").floats()
    }

    /// The logits [N · classes] of the last stage's NHWC map (its pixels are the tokens, in H·W order).
    func callAsFunction(_ x: FeatureMap) -> [Float] {
        let e = configuration.embedDim, g = configuration.groups, dup = configuration.duplicateFactor
        let t = x.h * x.w
        let tokens = embed(x.data, rows: x.n * t, relu: true)
        var logits = [Float](repeating: 0, count: x.n * classes)
        for b in 0..<x.n {
            let memory = Array(tokens[(b * t * e)..<((b + 1) * t * e)])
            var q = queries
            for layer in layers { q = Self.run(layer, q, memory: memory, queries: g, tokens: t, width: e) }
            var grouped = [Float](repeating: 0, count: g * dup)
            q.withUnsafeBufferPointer { qp in
                pooling.withUnsafeBufferPointer { wp in
                    grouped.withUnsafeMutableBufferPointer { op in
                        for i in 0..<g {
                            blasSgemm(
                                m: 1, n: dup, k: e, a: qp.baseAddress! + i * e, lda: e,
                                b: wp.baseAddress! + i * e * dup, ldb: dup, c: op.baseAddress! + i * dup, ldc: dup)
                        }
                    }
                }
            }
            for k in 0..<classes { logits[b * classes + k] = grouped[k] + poolingBias[k] }
        }
        return logits
    }

    /// One decoder layer on one image's queries [G, E] and tokens [T, E].
    static func run(_ l: DecoderLayer, _ q0: [Float], memory: [Float], queries g: Int, tokens t: Int, width e: Int)
        -> [Float]
    {
        var q = q0.map { $0 + $0 }  // the first residual: dropout is the identity in eval
        layerNorm(&q, l.norm1, width: e)
        let qq = l.query(q, rows: g), k = l.key(memory, rows: t), v = l.value(memory, rows: t)
        let hd = e / l.heads
        let scale = Float(1 / Double(hd).squareRoot())
        var attended = [Float](repeating: 0, count: g * e)
        var scores = [Float](repeating: 0, count: g * t)
        qq.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    for h in 0..<l.heads {
                        scores.withUnsafeMutableBufferPointer { sp in
                            blasSgemm(
                                m: g, n: t, k: hd, a: qp.baseAddress! + h * hd, lda: e, b: kp.baseAddress! + h * hd,
                                ldb: e, transposedB: true, c: sp.baseAddress!, ldc: t)
                        }
                        for i in 0..<g {  // softmax over the tokens
                            var top = -Float.infinity
                            for j in 0..<t { scores[i * t + j] *= scale; top = max(top, scores[i * t + j]) }
                            var sum = 0.0
                            for j in 0..<t {
                                let x = expf(scores[i * t + j] - top)
                                scores[i * t + j] = x
                                sum += Double(x)
                            }
                            let inv = Float(1 / sum)
                            for j in 0..<t { scores[i * t + j] *= inv }
                        }
                        scores.withUnsafeBufferPointer { sp in
                            attended.withUnsafeMutableBufferPointer { ap in
                                blasSgemm(
                                    m: g, n: hd, k: t, a: sp.baseAddress!, lda: t, b: vp.baseAddress! + h * hd, ldb: e,
                                    c: ap.baseAddress! + h * hd, ldc: e)
                            }
                        }
                    }
                }
            }
        }
        let a = l.out(attended, rows: g)
        for i in q.indices { q[i] += a[i] }
        layerNorm(&q, l.norm2, width: e)
        let f = l.linear2(l.linear1(q, rows: g, relu: true), rows: g)
        for i in q.indices { q[i] += f[i] }
        layerNorm(&q, l.norm3, width: e)
        return q
    }

    /// LayerNorm over each row of width `e` (ε 1e-5, biased variance), sums in Double.
    static func layerNorm(_ x: inout [Float], _ n: Norm, width e: Int) {
        for r in 0..<(x.count / e) {
            var mean = 0.0
            for i in 0..<e { mean += Double(x[r * e + i]) }
            mean /= Double(e)
            var variance = 0.0
            for i in 0..<e { let d = Double(x[r * e + i]) - mean; variance += d * d }
            variance /= Double(e)
            let inv = 1 / (variance + LayerNorm.epsilon).squareRoot()
            for i in 0..<e {
                x[r * e + i] = Float((Double(x[r * e + i]) - mean) * inv) * n.weight[i] + n.bias[i]
            }
        }
    }
}
