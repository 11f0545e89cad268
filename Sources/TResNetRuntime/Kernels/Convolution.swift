import TResNetModel
import TResNetCore

/// The kernel of the tree's `ConvNormAct` (and of the head's `Linear` as a 1×1 conv): a stride-1 convolution
/// with "same" padding (k = 1 or 3) and a bias, BatchNorm already folded in.
/// Weights are kept as the GEMM right-hand side: [(ky, kx, cin), cout], so an NHWC input is the left-hand side
/// directly (1×1) or after gathering each pixel's 3×3 neighbourhood (3×3). With our backends they are
/// also packed once into the C kernels' panels, and the convolution runs there with its epilogue fused.
struct Convolution: Sendable {
    let kernel: Int
    let inChannels: Int
    let outChannels: Int
    /// [kernel·kernel·inChannels, outChannels] for the OpenBLAS path; empty when `packed` holds them (no second copy).
    let weights: [Float]
    let bias: [Float]
    /// `weights` packed for our kernels (nil: the OpenBLAS path).
    let packed: AlignedFloats?
    /// `packed` holds Winograd-transformed 3×3 weights (`tk_winograd_conv`), not plain panels (`tk_conv`).
    let winograd: Bool
    /// `packed` holds bf16 weights, run by the bf16 kernels (`Precision.bf16`).
    let bf16: Bool

    /// Lays out a conv whose BatchNorm is already folded in (`ConvNormAct.folded()`): OIHW `weight`, `bias`,
    /// packed for `kernels` at `precision`.
    init(weight: [Float], shape: [Int], bias: [Float], kernels: ConvolutionBackend = .blas, precision: Precision = .f32)
    {
        let (o, i, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        kernel = kh
        inChannels = i
        outChannels = o
        var w = [Float](repeating: 0, count: o * i * kh * kw)
        for oc in 0..<o {
            for ic in 0..<i {
                for y in 0..<kh {
                    for x in 0..<kw {
                        let src = ((oc * i + ic) * kh + y) * kw + x
                        let dst = ((y * kw + x) * i + ic) * o + oc
                        w[dst] = weight[src]
                    }
                }
            }
        }
        self.bias = bias
        // `kernels` is already resolved (never .automatic). Winograd applies to 3×3 kernels; 1×1 run direct.
        var packed: AlignedFloats?
        var winograd = false
        let bf16 = precision == .bf16  // checked against the backend and CPU by the caller (Precision.check)
        if kernels == .winograd, kh == 3, kw == 3,
            let p = w.withUnsafeBufferPointer({
                bf16
                    ? DirectKernels.packWinogradBF16($0.baseAddress!, inChannels: i, outChannels: o)
                    : DirectKernels.packWinograd($0.baseAddress!, inChannels: i, outChannels: o)
            })
        {
            packed = p
            winograd = true
        } else if kernels == .direct || kernels == .winograd, DirectKernels.covers(kernel: kh, inChannels: i) {
            packed = w.withUnsafeBufferPointer {
                bf16
                    ? DirectKernels.packBF16($0.baseAddress!, kernel: kh, inChannels: i, n: o)
                    : DirectKernels.pack($0.baseAddress!, k: kh * kw * i, n: o)
            }
        }
        self.bf16 = bf16 && packed != nil
        weights = packed == nil ? w : []
        self.packed = packed
        self.winograd = winograd
    }

    /// Applies the convolution, then bias, the optional residual add and `activation` in one pass.
    /// With a `profile`, im2col, the GEMM and the epilogue are timed separately.
    func callAsFunction(
        _ x: FeatureMap, activation: Activation, residual: FeatureMap? = nil,
        profile: ForwardProfile? = nil
    ) -> FeatureMap {
        precondition(x.c == inChannels)
        if let packed, let out = direct(x, packed: packed, activation: activation, residual: residual, profile: profile)
        {
            return out
        }
        // The kernels refuse only what `covers` excludes at init, or when Winograd's scratch cannot be allocated.
        precondition(!weights.isEmpty, "out of memory for the convolution's scratch")
        var out = FeatureMap(n: x.n, h: x.h, w: x.w, c: outChannels)
        let m = x.pixels
        let k = kernel * kernel * inChannels
        weights.withUnsafeBufferPointer { wp in
            out.data.withUnsafeMutableBufferPointer { op in
                if kernel == 1 {
                    x.data.withUnsafeBufferPointer { xp in
                        timedGEMM(profile, "conv1x1 gemm", m: m, n: outChannels, k: k) {
                            blasSgemm(
                                m: m, n: outChannels, k: k, a: xp.baseAddress!, lda: k, b: wp.baseAddress!,
                                ldb: outChannels, c: op.baseAddress!, ldc: outChannels)
                        }
                    }
                } else {
                    let cols = timed(profile, "conv3x3 im2col") { im2col3x3(x) }
                    cols.withUnsafeBufferPointer { cp in
                        timedGEMM(profile, "conv3x3 gemm", m: m, n: outChannels, k: k) {
                            blasSgemm(
                                m: m, n: outChannels, k: k, a: cp.baseAddress!, lda: k, b: wp.baseAddress!,
                                ldb: outChannels, c: op.baseAddress!, ldc: outChannels)
                        }
                    }
                }
                timed(profile, "conv epilogue (bias, residual, activation)") {
                    bias.withUnsafeBufferPointer { bp in
                        if let residual {
                            residual.data.withUnsafeBufferPointer { rp in
                                epilogue(
                                    op.baseAddress!, rows: m, channels: outChannels, bias: bp.baseAddress!,
                                    residual: rp.baseAddress!, activation: activation)
                            }
                        } else {
                            epilogue(
                                op.baseAddress!, rows: m, channels: outChannels, bias: bp.baseAddress!,
                                residual: nil, activation: activation)
                        }
                    }
                }
            }
        }
        return out
    }
}

extension Convolution {
    /// The direct kernels: no im2col, packed weights, epilogue fused. Nil when they do not cover this case.
    private func direct(
        _ x: FeatureMap, packed: AlignedFloats, activation: Activation, residual: FeatureMap?,
        profile: ForwardProfile?
    ) -> FeatureMap? {
        var ok = false
        let out = FeatureMap(n: x.n, h: x.h, w: x.w, c: outChannels) { op in
            x.data.withUnsafeBufferPointer { xp in
                bias.withUnsafeBufferPointer { bp in
                    timedGEMM(
                        profile, kernel == 1 ? "conv1x1 direct" : winograd ? "conv3x3 winograd" : "conv3x3 direct",
                        m: x.pixels,
                        n: outChannels, k: kernel * kernel * inChannels
                    ) {
                        func run(_ rp: UnsafePointer<Float>?) -> Bool {
                            DirectKernels.convolve(
                                input: xp.baseAddress!, n: x.n, h: x.h, w: x.w, c: x.c,
                                kernel: kernel, packed: packed, winograd: winograd, bf16: bf16,
                                outChannels: outChannels,
                                bias: bp.baseAddress!, residual: rp, output: op,
                                activation: activation)
                        }
                        if let residual {
                            ok = residual.data.withUnsafeBufferPointer { run($0.baseAddress!) }
                        } else {
                            ok = run(nil)
                        }
                    }
                }
            }
        }
        return ok ? out : nil
    }
}

/// Gathers each pixel's 3×3 neighbourhood (zero padding 1) into a row: [N·H·W, 9·C], order (ky, kx, c).
func im2col3x3(_ x: FeatureMap) -> [Float] {
    let c = x.c
    let row = 9 * c
    var cols = [Float](repeating: 0, count: x.pixels * row)
    x.data.withUnsafeBufferPointer { src in
        cols.withUnsafeMutableBufferPointer { dst in
            for b in 0..<x.n {
                for y in 0..<x.h {
                    for xx in 0..<x.w {
                        let base = ((b * x.h + y) * x.w + xx) * row
                        for ky in 0..<3 {
                            let sy = y + ky - 1
                            if sy < 0 || sy >= x.h { continue }
                            for kx in 0..<3 {
                                let sx = xx + kx - 1
                                if sx < 0 || sx >= x.w { continue }
                                let s = ((b * x.h + sy) * x.w + sx) * c
                                (dst.baseAddress! + base + (ky * 3 + kx) * c)
                                    .update(from: src.baseAddress! + s, count: c)
                            }
                        }
                    }
                }
            }
        }
    }
    return cols
}
