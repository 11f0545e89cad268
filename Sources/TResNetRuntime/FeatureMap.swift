import TResNetCore

/// An activation batch in NHWC layout (channels innermost), the layout every kernel here works in: a 1×1
/// convolution is then one GEMM over N·H·W rows, and a 3×3 one a GEMM over rows gathered from 9 neighbours.
public struct FeatureMap: Sendable {
    public var n: Int
    public var h: Int
    public var w: Int
    public var c: Int
    public var data: [Float]

    public init(n: Int, h: Int, w: Int, c: Int, data: [Float]) {
        precondition(data.count == n * h * w * c)
        self.n = n
        self.h = h
        self.w = w
        self.c = c
        self.data = data
    }

    public init(n: Int, h: Int, w: Int, c: Int) {
        self.init(n: n, h: h, w: w, c: c, data: [Float](repeating: 0, count: n * h * w * c))
    }

    /// A map whose every value `fill` writes (no zero-filling first).
    init(n: Int, h: Int, w: Int, c: Int, fill: (UnsafeMutablePointer<Float>) -> Void) {
        let count = n * h * w * c
        self.init(
            n: n, h: h, w: w, c: c,
            data: [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { fill(buffer.baseAddress!) }
                initialized = count
            })
    }

    /// Rows of the GEMM view: N·H·W.
    public var pixels: Int { n * h * w }

    /// This map as an NCHW tensor (PyTorch's layout), for taps and outputs.
    public func nchw() -> Tensor {
        var out = [Float](repeating: 0, count: data.count)
        let hw = h * w
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for b in 0..<n {
                    for p in 0..<hw {
                        let s = (b * hw + p) * c
                        for ch in 0..<c { dst[(b * c + ch) * hw + p] = src[s + ch] }
                    }
                }
            }
        }
        return Tensor(shape: [n, c, h, w], floats: out)
    }
}
