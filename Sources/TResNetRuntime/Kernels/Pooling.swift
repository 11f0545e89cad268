import TResNetCore

/// TResNet's space-to-depth (block 4) from an NCHW image batch straight into NHWC:
/// out[n, y, x, (i·4 + j)·C + c] = in[n, c, 4y + i, 4x + j] — TensorFlow/ONNX `SpaceToDepth` order
/// (offset-major, channel-minor), not PyTorch's pixel_unshuffle (docs/TRESNET.md).
func spaceToDepth(_ input: UnsafeBufferPointer<Float>, n: Int, c: Int, h: Int, w: Int) -> FeatureMap {
    let ho = h / 4, wo = w / 4, co = 16 * c
    var out = FeatureMap(n: n, h: ho, w: wo, c: co)
    out.data.withUnsafeMutableBufferPointer { dst in
        for b in 0..<n {
            for y in 0..<ho {
                for x in 0..<wo {
                    let o = ((b * ho + y) * wo + x) * co
                    for i in 0..<4 {
                        for j in 0..<4 {
                            for ch in 0..<c {
                                dst[o + (i * 4 + j) * c + ch] = input[((b * c + ch) * h + 4 * y + i) * w + 4 * x + j]
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}

/// The anti-aliasing blur pool: reflect-pad 1, depthwise [1,2,1]ᵀ[1,2,1]/16, stride 2 (timm `BlurPool2d`).
/// Output side ceil(n/2).
func blurPool(_ x: FeatureMap) -> FeatureMap {
    let ho = (x.h + 1) / 2, wo = (x.w + 1) / 2, c = x.c
    var out = FeatureMap(n: x.n, h: ho, w: wo, c: c)
    let coeff: [Float] = [0.25, 0.5, 0.25]
    @inline(__always) func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i) }
    x.data.withUnsafeBufferPointer { src in
        out.data.withUnsafeMutableBufferPointer { dst in
            parallelFor(x.n * ho, grain: 4) { rows in
                for row in rows {
                    let (b, oy) = row.quotientAndRemainder(dividingBy: ho)
                    for ox in 0..<wo {
                        let o = ((b * ho + oy) * wo + ox) * c
                        for dy in 0..<3 {
                            let sy = reflect(2 * oy + dy - 1, x.h)
                            for dx in 0..<3 {
                                let sx = reflect(2 * ox + dx - 1, x.w)
                                let f = coeff[dy] * coeff[dx]
                                let s = ((b * x.h + sy) * x.w + sx) * c
                                for ch in 0..<c { dst[o + ch] += f * src[s + ch] }
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}

/// AvgPool2d(kernel 2, stride 2, ceil_mode=True, count_include_pad=False): a partial last window averages
/// only its in-bounds elements. Output side ceil(n/2).
func averagePool2x2(_ x: FeatureMap) -> FeatureMap {
    let ho = (x.h + 1) / 2, wo = (x.w + 1) / 2, c = x.c
    var out = FeatureMap(n: x.n, h: ho, w: wo, c: c)
    x.data.withUnsafeBufferPointer { src in
        out.data.withUnsafeMutableBufferPointer { dst in
            for b in 0..<x.n {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        let o = ((b * ho + oy) * wo + ox) * c
                        let y1 = min(2 * oy + 2, x.h), x1 = min(2 * ox + 2, x.w)
                        let count = Float((y1 - 2 * oy) * (x1 - 2 * ox))
                        for sy in (2 * oy)..<y1 {
                            for sx in (2 * ox)..<x1 {
                                let s = ((b * x.h + sy) * x.w + sx) * c
                                for ch in 0..<c { dst[o + ch] += src[s + ch] }
                            }
                        }
                        for ch in 0..<c { dst[o + ch] /= count }
                    }
                }
            }
        }
    }
    return out
}

/// Mean over H and W: [N, C] (timm's 'fast' global pool).
func globalAveragePool(_ x: FeatureMap) -> [Float] {
    var out = [Float](repeating: 0, count: x.n * x.c)
    let hw = x.h * x.w
    x.data.withUnsafeBufferPointer { src in
        for b in 0..<x.n {
            var acc = [Float](repeating: 0, count: x.c)
            for p in 0..<hw {
                let s = (b * hw + p) * x.c
                for ch in 0..<x.c { acc[ch] += src[s + ch] }
            }
            for ch in 0..<x.c { out[b * x.c + ch] = acc[ch] / Float(hw) }
        }
    }
    return out
}
