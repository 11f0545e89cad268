import TResNetModel

/// The epilogue of a fused convolution (the tree's `Activation`, applied in the store):
/// out[i] = act(out[i] + bias[i % channels] (+ residual[i])), over `rows × channels` values.
@inline(__always)
func epilogue(
    _ out: UnsafeMutablePointer<Float>, rows: Int, channels: Int, bias: UnsafePointer<Float>,
    residual: UnsafePointer<Float>?, activation: Activation
) {
    for r in 0..<rows {
        let row = out + r * channels
        let res = residual.map { $0 + r * channels }
        switch activation {
        case .identity:
            if let res {
                for c in 0..<channels { row[c] = row[c] + bias[c] + res[c] }
            } else {
                for c in 0..<channels { row[c] += bias[c] }
            }
        case .relu:
            if let res {
                for c in 0..<channels { row[c] = max(row[c] + bias[c] + res[c], 0) }
            } else {
                for c in 0..<channels { row[c] = max(row[c] + bias[c], 0) }
            }
        case .leakyReLU(let slope):
            if let res {
                for c in 0..<channels { let v = row[c] + bias[c] + res[c]; row[c] = v >= 0 ? v : v * slope }
            } else {
                for c in 0..<channels { let v = row[c] + bias[c]; row[c] = v >= 0 ? v : v * slope }
            }
        }
    }
}
