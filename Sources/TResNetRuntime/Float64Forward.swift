import Foundation
import TResNetCore
import TResNetModel

/// A float64 activation: NCHW (or N×F for the pooled features and logits), values in `Double`.
public struct Float64Activation: Sendable {
    public var shape: [Int]
    public var values: [Double]
}

/// The TResNet forward pass in float64, the reference `tresnet-verify --oracle` measures float32 runs against:
/// the same semantics as `TResNetNetwork` (and timm), written as plain NCHW loops and nothing else — BatchNorm
/// applied as (x − mean)/√(var + ε)·γ + β in Double (never folded), sums in Double, weights widened exactly.
///
/// Built from the bound layer tree, like the runtime: each layer's tensors are read from its slots, so no name
/// is spelled here. Plain loops, a few seconds for tresnet_m at 224 in a release build: it exists to be
/// obviously right.
public struct Float64Forward: Sendable {
    public let configuration: TResNetConfiguration
    let taps: [String]
    let stem: Conv
    let stages: [[Block]]
    /// The linear head, or the ML-Decoder head (`decoder`, then `fc` is nil).
    let fc: Dense?
    let decoder: DecoderHead?

    /// A conv (stride 1, padding k/2, no groups), its BatchNorm (or the bias of a BN-folded source), activation
    /// and optional blur pool, in Double.
    struct Conv: Sendable {
        var cin: Int, cout: Int, k: Int
        var weight: [Double]
        /// Per output channel: y = conv·scale + shift (BatchNorm in Double, or scale 1 and the conv bias).
        var scale: [Double], shift: [Double]
        var slope: Double?  // leaky ReLU slope; nil = identity
        var antiAliased: Bool

        init(_ layer: ConvNormAct) throws {
            (cin, cout, k, antiAliased) = (layer.inChannels, layer.outChannels, layer.kernel, layer.antiAliased)
            weight = try doubles(layer.conv.weight.required(layer.conv.path + ".weight"))
            if let bn = layer.bn {
                let gamma = try doubles(bn.weight.required(bn.path + ".weight"))
                let beta = try doubles(bn.bias.required(bn.path + ".bias"))
                let mean = try doubles(bn.runningMean.required(bn.path + ".running_mean"))
                let variance = try doubles(bn.runningVar.required(bn.path + ".running_var"))
                let eps = BatchNorm2d.epsilon
                let scale = (0..<layer.outChannels).map { gamma[$0] / (variance[$0] + eps).squareRoot() }
                shift = (0..<layer.outChannels).map { beta[$0] - mean[$0] * scale[$0] }
                self.scale = scale
            } else {
                scale = [Double](repeating: 1, count: layer.outChannels)
                shift = try doubles(layer.conv.bias.required(layer.conv.path + ".bias"))
            }
            if case .leakyReLU(let s) = layer.activation { slope = decimal(s) }
        }
    }

    struct Dense: Sendable {
        var cin: Int, cout: Int
        var weight: [Double], bias: [Double]

        init(cin: Int, cout: Int, weight: [Double], bias: [Double]) {
            (self.cin, self.cout, self.weight, self.bias) = (cin, cout, weight, bias)
        }

        /// A 1×1 conv with bias (SE) as a dense layer.
        init(_ conv: Conv2d) throws {
            (cin, cout) = (conv.inChannels, conv.outChannels)
            weight = try doubles(conv.weight.required(conv.path + ".weight"))
            bias = try doubles(conv.bias.required(conv.path + ".bias"))
        }

        init(_ linear: Linear) throws {
            (cin, cout) = (linear.inFeatures, linear.outFeatures)
            weight = try doubles(linear.weight.required(linear.path + ".weight"))
            bias = try doubles(linear.bias.required(linear.path + ".bias"))
        }

        /// `rows × cin` → `rows × cout`: x·Wᵀ + b, each sum started from the bias and taken in input order.
        func callAsFunction(_ x: ArraySlice<Double>, rows: Int) -> [Double] {
            let x0 = x.startIndex
            var y = [Double](repeating: 0, count: rows * cout)
            for r in 0..<rows {
                for o in 0..<cout {
                    var s = bias[o]
                    for i in 0..<cin { s += weight[o * cin + i] * x[x0 + r * cin + i] }
                    y[r * cout + o] = s
                }
            }
            return y
        }

        func callAsFunction(_ x: [Double], rows: Int) -> [Double] { self(x[...], rows: rows) }
    }

    struct Block: Sendable {
        var projection: Conv?
        var pooledProjection: Bool
        var conv1: Conv, conv2: Conv, conv3: Conv?
        var se: (fc1: Dense, fc2: Dense)?
    }

    /// Reads a bound tree (`Binder.bind`, `BoundModel.tree`).
    public init(_ tree: TResNet) throws {
        try tree.configuration.validate()
        configuration = tree.configuration
        taps = tree.taps
        stem = try Conv(tree.body.conv1)
        stages = try tree.body.stages.map { blocks in
            try blocks.map { b in
                Block(
                    projection: try b.downsample.map { try Conv($0.conv) },
                    pooledProjection: b.downsample?.pooled ?? false, conv1: try Conv(b.conv1), conv2: try Conv(b.conv2),
                    conv3: try b.conv3.map(Conv.init), se: try b.se.map { (try Dense($0.fc1), try Dense($0.fc2)) })
            }
        }
        decoder = try tree.mlDecoder.map(DecoderHead.init)
        fc = decoder == nil ? try Dense(tree.head.fc) : nil
    }

    /// Binds the tensors `tensor` gives by canonical name (strictly), then reads the tree.
    public init(configuration: TResNetConfiguration, tensor: (String) throws -> Tensor?) throws {
        try self.init(try Binder.bind(configuration, lookup: tensor).tree)
    }

    /// Runs the network on `input` (N×C×H×W, any float dtype, widened exactly); returns every tap of
    /// `TResNetNetwork.tapNames` in float64.
    public func forward(_ input: Tensor) throws -> [String: Float64Activation] {
        let c = configuration
        guard input.rank == 4, input.shape[1] == c.inChannels, input.shape[2] % 32 == 0, input.shape[3] % 32 == 0,
            input.shape[2] >= 32, input.shape[3] >= 32, input.shape[0] >= 1
        else {
            throw TResNetError(
                .malformed, format: "input",
                "input must be N×\(c.inChannels)×H×W with H, W multiples of 32, got \(formatShape(input.shape))")
        }
        var taps: [String: Float64Activation] = [:]
        var x = Map(
            n: input.shape[0], c: input.shape[1], h: input.shape[2], w: input.shape[3],
            v: try doubles(input))
        // Tap points in forward order: s2d, stem, each stage, global pool, head.
        var points = self.taps.makeIterator()
        func tap(_ a: Float64Activation) { if let name = points.next() { taps[name] = a } }
        x = spaceToDepth(x)
        tap(x.activation)
        x = apply(stem, x)
        tap(x.activation)
        for blocks in stages {
            for block in blocks { x = run(block, x) }
            tap(x.activation)
        }
        if let decoder {  // no global pool: the decoder reads the last stage's pixels as tokens
            tap(Float64Activation(shape: [x.n, decoder.classes], values: decoder.logits(x)))
            return taps
        }
        guard let fc else { return taps }
        let pooled = globalMean(x)
        tap(Float64Activation(shape: [x.n, x.c], values: pooled))
        tap(Float64Activation(shape: [x.n, fc.cout], values: fc(pooled, rows: x.n)))
        return taps
    }

    // MARK: - the operations, NCHW

    struct Map {
        var n: Int, c: Int, h: Int, w: Int
        var v: [Double]
        init(n: Int, c: Int, h: Int, w: Int, v: [Double]? = nil) {
            self.n = n; self.c = c; self.h = h; self.w = w
            self.v = v ?? [Double](repeating: 0, count: n * c * h * w)
        }
        var activation: Float64Activation { Float64Activation(shape: [n, c, h, w], values: v) }
    }

    /// timm's SpaceToDepth(4): output channel (bh·4 + bw)·C + c holds x[c, 4i + bh, 4j + bw].
    func spaceToDepth(_ x: Map) -> Map {
        var y = Map(n: x.n, c: x.c * 16, h: x.h / 4, w: x.w / 4)
        for b in 0..<x.n {
            for bh in 0..<4 {
                for bw in 0..<4 {
                    for ch in 0..<x.c {
                        let oc = (bh * 4 + bw) * x.c + ch
                        for i in 0..<y.h {
                            for j in 0..<y.w {
                                y.v[((b * y.c + oc) * y.h + i) * y.w + j] =
                                    x.v[((b * x.c + ch) * x.h + 4 * i + bh) * x.w + 4 * j + bw]
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Conv (stride 1, zero padding k/2) → scale/shift → activation → blur pool when anti-aliased.
    func apply(_ conv: Conv, _ x: Map) -> Map {
        precondition(x.c == conv.cin)
        var y = Map(n: x.n, c: conv.cout, h: x.h, w: x.w)
        let (h, w, k, p) = (x.h, x.w, conv.k, conv.k / 2)
        x.v.withUnsafeBufferPointer { src in
            conv.weight.withUnsafeBufferPointer { wt in
                y.v.withUnsafeMutableBufferPointer { dst in
                    for b in 0..<x.n {
                        for o in 0..<conv.cout {
                            let out = dst.baseAddress! + (b * conv.cout + o) * h * w
                            for i in 0..<conv.cin {
                                let plane = src.baseAddress! + (b * conv.cin + i) * h * w
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        let wv = wt[((o * conv.cin + i) * k + ky) * k + kx]
                                        for r in max(0, p - ky)..<min(h, h + p - ky) {
                                            let rowIn = plane + (r + ky - p) * w - p + kx
                                            let rowOut = out + r * w
                                            for col in max(0, p - kx)..<min(w, w + p - kx) {
                                                rowOut[col] += wv * rowIn[col]
                                            }
                                        }
                                    }
                                }
                            }
                            for e in 0..<(h * w) {
                                var v = out[e] * conv.scale[o] + conv.shift[o]
                                if let slope = conv.slope, v < 0 { v *= slope }
                                out[e] = v
                            }
                        }
                    }
                }
            }
        }
        return conv.antiAliased ? blurPool(y) : y
    }

    /// Reflect-pad 1, [1,2,1]⊗[1,2,1]/16, stride 2, per channel.
    func blurPool(_ x: Map) -> Map {
        var y = Map(n: x.n, c: x.c, h: (x.h - 1) / 2 + 1, w: (x.w - 1) / 2 + 1)
        let tap = [1.0, 2.0, 1.0]
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i) }
        for plane in 0..<(x.n * x.c) {
            for i in 0..<y.h {
                for j in 0..<y.w {
                    var s = 0.0
                    for dy in 0..<3 {
                        for dx in 0..<3 {
                            s +=
                                tap[dy] * tap[dx]
                                * x.v[(plane * x.h + reflect(2 * i + dy - 1, x.h)) * x.w + reflect(2 * j + dx - 1, x.w)]
                        }
                    }
                    y.v[(plane * y.h + i) * y.w + j] = s / 16
                }
            }
        }
        return y
    }

    /// AvgPool2d(2, stride 2, ceil_mode, count_include_pad=False): the mean of the window's elements inside.
    func averagePool2x2(_ x: Map) -> Map {
        var y = Map(n: x.n, c: x.c, h: (x.h + 1) / 2, w: (x.w + 1) / 2)
        for plane in 0..<(x.n * x.c) {
            for i in 0..<y.h {
                for j in 0..<y.w {
                    var s = 0.0, count = 0.0
                    for r in (2 * i)..<min(2 * i + 2, x.h) {
                        for q in (2 * j)..<min(2 * j + 2, x.w) { s += x.v[(plane * x.h + r) * x.w + q]; count += 1 }
                    }
                    y.v[(plane * y.h + i) * y.w + j] = s / count
                }
            }
        }
        return y
    }

    func globalMean(_ x: Map) -> [Double] {
        (0..<(x.n * x.c)).map { plane in
            x.v[(plane * x.h * x.w)..<((plane + 1) * x.h * x.w)].reduce(0, +) / Double(x.h * x.w)
        }
    }

    /// Squeeze-and-excitation: mean → fc1 + bias → ReLU → fc2 + bias → sigmoid → channel scale.
    func squeezeExcite(_ se: (fc1: Dense, fc2: Dense), _ x: inout Map) {
        let means = globalMean(x)
        for b in 0..<x.n {
            let hidden = se.fc1(means[(b * x.c)..<((b + 1) * x.c)], rows: 1).map { max(0, $0) }
            let z = se.fc2(hidden, rows: 1)
            for ch in 0..<x.c {
                let gate = 1 / (1 + exp(-z[ch]))
                for e in 0..<(x.h * x.w) { x.v[(b * x.c + ch) * x.h * x.w + e] *= gate }
            }
        }
    }

    /// timm's BasicBlock / Bottleneck: branch, then ReLU(branch + shortcut).
    func run(_ block: Block, _ x: Map) -> Map {
        var shortcut = x
        if let projection = block.projection {
            shortcut = apply(projection, block.pooledProjection ? averagePool2x2(x) : x)
        }
        // BasicBlock: SE on the output; Bottleneck: SE on the mid channels, then conv3.
        var y = apply(block.conv2, apply(block.conv1, x))
        if let se = block.se { squeezeExcite(se, &y) }
        if let conv3 = block.conv3 { y = apply(conv3, y) }
        precondition(y.v.count == shortcut.v.count)
        for e in 0..<y.v.count { y.v[e] = max(0, y.v[e] + shortcut.v[e]) }
        return y
    }
}

/// A float constant as the decimal it was written as (0.001, not 0.001000000047…): PyTorch's float64 run uses
/// the Python literal, not its float32 rounding.
func decimal(_ f: Float) -> Double { Double(f.description) ?? Double(f) }

/// Every element widened to Double: float64 exactly, the narrower float types exactly.
func doubles(_ t: Tensor) throws -> [Double] {
    if t.dtype == .float64 { return (0..<t.elementCount).map { t.scalar(at: $0)! } }
    return try t.floats().map(Double.init)
}
