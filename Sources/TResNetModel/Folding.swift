import TResNetCore

/// Eval-mode BatchNorm folded into the conv before it, the one place this is computed (the runtime, the ONNX
/// writer and the ONNX reader all call it): W' = W·s, b' = β − μ·s + b·s with s = γ/√(σ²+ε), in Double and
/// rounded to f32 once.
public enum BatchNormFolding {
    /// - Parameters:
    ///   - weight: OIHW conv weights (`outChannels` rows).
    ///   - convBias: the conv's own bias, if any.
    ///   - bn: γ, β, μ, σ² (each `outChannels` long); nil when there is no BatchNorm (then W and b pass through).
    public static func fold(
        weight: [Float], outChannels: Int, convBias: [Float]?,
        bn: (gamma: [Float], beta: [Float], mean: [Float], variance: [Float])?,
        epsilon: Double = BatchNorm2d.epsilon
    ) -> (weight: [Float], bias: [Float]) {
        guard let bn else { return (weight, convBias ?? [Float](repeating: 0, count: outChannels)) }
        let per = weight.count / max(outChannels, 1)
        var w = weight
        var b = [Float](repeating: 0, count: outChannels)
        for o in 0..<outChannels {
            let s = Double(bn.gamma[o]) / (Double(bn.variance[o]) + epsilon).squareRoot()
            for j in 0..<per { w[o * per + j] = Float(Double(weight[o * per + j]) * s) }
            b[o] = Float(Double(bn.beta[o]) - Double(bn.mean[o]) * s + (convBias.map { Double($0[o]) * s } ?? 0))
        }
        return (w, b)
    }
}

extension ConvNormAct {
    /// The bound conv with its BatchNorm folded in: OIHW f32 weights and the bias. Throws when a slot is empty
    /// (the tree was not bound).
    public func folded() throws -> (weight: [Float], bias: [Float]) {
        let weight = try conv.weight.required(conv.path + ".weight").floats()
        let convBias = try conv.bias.map { try $0.floats() }
        let norm = try bn.map { bn in
            (
                gamma: try bn.weight.required(bn.path + ".weight").floats(),
                beta: try bn.bias.required(bn.path + ".bias").floats(),
                mean: try bn.runningMean.required(bn.path + ".running_mean").floats(),
                variance: try bn.runningVar.required(bn.path + ".running_var").floats()
            )
        }
        return BatchNormFolding.fold(weight: weight, outChannels: outChannels, convBias: convBias, bn: norm)
    }
}

extension Optional where Wrapped == Tensor {
    /// The bound tensor, or a `.binding` error naming `path` for an empty slot.
    public func required(_ path: String) throws -> Tensor {
        guard let self else {
            throw TResNetError(.binding, at: .tensor(path), "missing tensor (the tree is not bound)")
        }
        return self
    }
}
