import Foundation
import TResNetModel

/// The kernel of the tree's `SqueezeExcite` (timm `SEModule`): s = mean_HW(y); s = ReLU(W1·s + b1); g = sigmoid(W2·s + b2);
/// y · g. No BN inside; a true sigmoid gate.
struct SEGate: Sendable {
    /// The tree module this gate was compiled from.
    let path: String
    let channels: Int
    let reduced: Int
    /// [reduced, channels]
    let w1: [Float]
    let b1: [Float]
    /// [channels, reduced]
    let w2: [Float]
    let b2: [Float]

    /// Compiles a bound `SqueezeExcite` (its 1×1 conv weights are used as matrices).
    init(_ se: SqueezeExcite) throws {
        path = se.path
        channels = se.channels
        reduced = se.reduction
        w1 = try se.fc1.weight.required(se.fc1.path + ".weight").floats()
        b1 = try se.fc1.bias.required(se.fc1.path + ".bias").floats()
        w2 = try se.fc2.weight.required(se.fc2.path + ".weight").floats()
        b2 = try se.fc2.bias.required(se.fc2.path + ".bias").floats()
    }

    /// Scales `x` in place by the gate; when `residual` is given, also adds it and applies ReLU (the block end).
    func apply(_ x: inout FeatureMap, residual: FeatureMap? = nil) {
        let pooled = globalAveragePool(x)
        let hw = x.h * x.w
        var gates = [Float](repeating: 0, count: x.n * channels)
        for b in 0..<x.n {
            var hidden = [Float](repeating: 0, count: reduced)
            for r in 0..<reduced {
                var acc = b1[r]
                for ch in 0..<channels { acc += w1[r * channels + ch] * pooled[b * channels + ch] }
                hidden[r] = max(acc, 0)
            }
            for ch in 0..<channels {
                var acc = b2[ch]
                for r in 0..<reduced { acc += w2[ch * reduced + r] * hidden[r] }
                gates[b * channels + ch] = 1 / (1 + Float(exp(Double(-acc))))
            }
        }
        let c = channels
        gates.withUnsafeBufferPointer { gates in
            x.data.withUnsafeMutableBufferPointer { dst in
                if let residual {
                    residual.data.withUnsafeBufferPointer { res in
                        parallelFor(x.n * hw, grain: 16) { pixels in
                            for pixel in pixels {
                                let o = pixel * c, g = (pixel / hw) * c
                                for ch in 0..<c { dst[o + ch] = max(dst[o + ch] * gates[g + ch] + res[o + ch], 0) }
                            }
                        }
                    }
                } else {
                    parallelFor(x.n * hw, grain: 16) { pixels in
                        for pixel in pixels {
                            let o = pixel * c, g = (pixel / hw) * c
                            for ch in 0..<c { dst[o + ch] *= gates[g + ch] }
                        }
                    }
                }
            }
        }
    }
}
