import Foundation
import TResNetCore
import TResNetModel

extension Float64Forward {
    /// The ML-Decoder head in float64 (docs/MULTILABEL.md), step for step as `MLDecoderKernel` runs it in f32:
    /// tokens = ReLU(embed(the last stage's H·W pixels)); per layer q = LN1(q + q), q = LN2(q + MHA(q, tokens,
    /// tokens)), q = LN3(q + FF(q)); then the group FC cut to the classes, plus the bias. Plain loops in Double.
    struct DecoderHead: Sendable {
        struct Norm: Sendable {
            var weight: [Double], bias: [Double]
            init(_ n: LayerNorm) throws {
                weight = try doubles(n.weight.required(n.path + ".weight"))
                bias = try doubles(n.bias.required(n.path + ".bias"))
            }
        }

        struct DecoderLayer: Sendable {
            var norm1: Norm, norm2: Norm, norm3: Norm
            var query: Dense, key: Dense, value: Dense, out: Dense, linear1: Dense, linear2: Dense
            var heads: Int

            init(_ l: MLDecoderLayer) throws {
                (norm1, norm2, norm3) = (try Norm(l.norm1), try Norm(l.norm2), try Norm(l.norm3))
                let a = l.multiheadAttn, e = a.embedDim
                let p = try a.projections().map {  // widened exactly
                    Dense(cin: e, cout: e, weight: try doubles($0.weight), bias: try doubles($0.bias))
                }
                (query, key, value) = (p[0], p[1], p[2])
                (out, linear1, linear2) = (try Dense(a.outProj), try Dense(l.linear1), try Dense(l.linear2))
                heads = a.heads
            }
        }

        var configuration: MLDecoderConfiguration
        var classes: Int
        var embed: Dense
        var queries: [Double]
        var layers: [DecoderLayer]
        var pooling: [Double], poolingBias: [Double]

        init(_ head: MLDecoderHead) throws {
            let d = head.decoder
            (configuration, classes) = (d.configuration, d.classes)
            embed = try Dense(d.embedStandart)
            queries = try doubles(d.queryEmbed.weight.required(d.queryEmbed.path + ".weight"))
            layers = try d.layers.map(DecoderLayer.init)
            pooling = try doubles(d.duplicatePooling.required(d.path + ".duplicate_pooling"))
            poolingBias = try doubles(d.duplicatePoolingBias.required(d.path + ".duplicate_pooling_bias"))
        }

        /// The logits [N · classes] of the last stage's NCHW map.
        func logits(_ x: Map) -> [Double] {
            let e = configuration.embedDim, g = configuration.groups, dup = configuration.duplicateFactor
            let t = x.h * x.w
            var out = [Double](repeating: 0, count: x.n * classes)
            for b in 0..<x.n {
                // the tokens: pixel p's channels, in H·W order
                var pixels = [Double](repeating: 0, count: t * x.c)
                for c in 0..<x.c {
                    for p in 0..<t { pixels[p * x.c + c] = x.v[(b * x.c + c) * t + p] }
                }
                let tokens = embed(pixels, rows: t).map { max($0, 0) }
                var q = queries
                for layer in layers { q = Self.run(layer, q, tokens: tokens, queries: g, count: t, width: e) }
                for k in 0..<classes {
                    let (group, j) = (k / dup, k % dup)
                    var s = poolingBias[k]
                    for i in 0..<e { s += q[group * e + i] * pooling[(group * e + i) * dup + j] }
                    out[b * classes + k] = s
                }
            }
            return out
        }

        /// One decoder layer on one image's queries [G, E] and tokens [T, E].
        static func run(_ l: DecoderLayer, _ q0: [Double], tokens: [Double], queries g: Int, count t: Int, width e: Int)
            -> [Double]
        {
            var q = q0.map { $0 + $0 }  // the first residual: dropout is the identity in eval
            layerNorm(&q, l.norm1, width: e)
            let qq = l.query(q, rows: g), k = l.key(tokens, rows: t), v = l.value(tokens, rows: t)
            let hd = e / l.heads, scale = 1 / Double(hd).squareRoot()
            var attended = [Double](repeating: 0, count: g * e)
            for h in 0..<l.heads {
                for i in 0..<g {
                    var scores = (0..<t).map { j in
                        (0..<hd).reduce(0.0) { $0 + qq[i * e + h * hd + $1] * k[j * e + h * hd + $1] } * scale
                    }
                    let top = scores.max() ?? 0
                    scores = scores.map { exp($0 - top) }
                    let sum = scores.reduce(0, +)
                    for j in 0..<t {
                        for c in 0..<hd { attended[i * e + h * hd + c] += scores[j] / sum * v[j * e + h * hd + c] }
                    }
                }
            }
            let a = l.out(attended, rows: g)
            for i in q.indices { q[i] += a[i] }
            layerNorm(&q, l.norm2, width: e)
            let f = l.linear2(l.linear1(q, rows: g).map { max($0, 0) }, rows: g)
            for i in q.indices { q[i] += f[i] }
            layerNorm(&q, l.norm3, width: e)
            return q
        }

        /// LayerNorm over each row of width `e` (ε of `LayerNorm`, biased variance).
        static func layerNorm(_ x: inout [Double], _ n: Norm, width e: Int) {
            for r in 0..<(x.count / e) {
                let row = x[(r * e)..<((r + 1) * e)]
                let mean = row.reduce(0, +) / Double(e)
                let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(e)
                let inv = 1 / (variance + LayerNorm.epsilon).squareRoot()
                for i in 0..<e { x[r * e + i] = (x[r * e + i] - mean) * inv * n.weight[i] + n.bias[i] }
            }
        }
    }
}
