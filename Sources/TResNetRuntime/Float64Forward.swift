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
/// The structure is the layer tree's: `TResNet(configuration)` gives the layers, and the tensors are taken in
/// the order and under the paths the tree's own walk declares them (`TResNet.listing`), so no name is spelled
/// here. Plain loops, a few seconds for tresnet_m at 224 in a release build: it exists to be obviously right.
public struct Float64Forward: Sendable {
    public let configuration: TResNetConfiguration
    let stem: Conv
    let stages: [[Block]]
    let fc: Dense

    /// A conv (stride 1, padding k/2, no groups), its BatchNorm (or the bias of a BN-folded source), activation
    /// and optional blur pool, in Double.
    struct Conv: Sendable {
        var cin: Int, cout: Int, k: Int
        var weight: [Double]
        /// Per output channel: y = conv·scale + shift (BatchNorm in Double, or scale 1 and the conv bias).
        var scale: [Double], shift: [Double]
        var slope: Double?  // leaky ReLU slope; nil = identity
        var antiAliased: Bool
    }

    struct Dense: Sendable {
        var cin: Int, cout: Int
        var weight: [Double], bias: [Double]
    }

    struct Block: Sendable {
        var kind: TResNetConfiguration.BlockKind
        var projection: Conv?
        var pooledProjection: Bool
        var conv1: Conv, conv2: Conv, conv3: Conv?
        var se: (fc1: Dense, fc2: Dense)?
    }

    /// - Parameter tensor: looks a tensor up by its canonical name (the names the tree's walk gives).
    public init(configuration: TResNetConfiguration, tensor: (String) throws -> Tensor?) throws {
        try configuration.validate()
        self.configuration = configuration
        let tree = TResNet(configuration)
        (stem, stages, fc) = try withoutActuallyEscaping(tensor) { lookup in
            var cursor = TensorCursor(listing: tree.listing, lookup: lookup)
            // Walk order (state-dict order): body.conv1; per block downsample, conv1, conv2, se, conv3; head.fc.
            let stem = try cursor.conv(tree.body.conv1)
            var stages: [[Block]] = []
            for blocks in tree.body.stages {
                var bound: [Block] = []
                for b in blocks {
                    let projection = try b.downsample.map { try cursor.conv($0.conv) }
                    let conv1 = try cursor.conv(b.conv1)
                    let conv2 = try cursor.conv(b.conv2)
                    let se = try b.se.map { try cursor.squeezeExcite($0) }
                    let conv3 = try b.conv3.map { try cursor.conv($0) }
                    bound.append(Block(kind: b.blockKind, projection: projection, pooledProjection: b.downsample?.pooled ?? false,
                                       conv1: conv1, conv2: conv2, conv3: conv3, se: se))
                }
                stages.append(bound)
            }
            let fc = try cursor.linear(tree.head.fc)
            try cursor.finish()
            return (stem, stages, fc)
        }
    }

    /// Runs the network on `input` (N×C×H×W, any float dtype, widened exactly); returns every tap of
    /// `TResNetNetwork.tapNames` in float64.
    public func forward(_ input: Tensor) throws -> [String: Float64Activation] {
        let c = configuration
        guard input.rank == 4, input.shape[1] == c.inChannels, input.shape[2] % 32 == 0, input.shape[3] % 32 == 0,
              input.shape[2] >= 32, input.shape[3] >= 32, input.shape[0] >= 1 else {
            throw TResNetError(.malformed, format: "input",
                               "input must be N×\(c.inChannels)×H×W with H, W multiples of 32, got \(formatShape(input.shape))")
        }
        var taps: [String: Float64Activation] = [:]
        var x = Map(n: input.shape[0], c: input.shape[1], h: input.shape[2], w: input.shape[3],
                    v: try doubles(input))
        x = spaceToDepth(x)
        taps["body.s2d"] = x.activation
        x = apply(stem, x)
        taps["body.conv1"] = x.activation
        for (s, blocks) in stages.enumerated() {
            for block in blocks { x = run(block, x) }
            taps[TResNetNetwork.tapNames[2 + s]] = x.activation
        }
        let pooled = globalMean(x)
        taps["head.global_pool"] = Float64Activation(shape: [x.n, x.c], values: pooled)
        var logits = [Double](repeating: 0, count: x.n * fc.cout)
        for b in 0..<x.n {
            for o in 0..<fc.cout {
                var s = fc.bias[o]
                for i in 0..<fc.cin { s += fc.weight[o * fc.cin + i] * pooled[b * fc.cin + i] }
                logits[b * fc.cout + o] = s
            }
        }
        taps["head.fc"] = Float64Activation(shape: [x.n, fc.cout], values: logits)
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
                                y.v[((b * y.c + oc) * y.h + i) * y.w + j] = x.v[((b * x.c + ch) * x.h + 4 * i + bh) * x.w + 4 * j + bw]
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
                                            for col in max(0, p - kx)..<min(w, w + p - kx) { rowOut[col] += wv * rowIn[col] }
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
                            s += tap[dy] * tap[dx] * x.v[(plane * x.h + reflect(2 * i + dy - 1, x.h)) * x.w + reflect(2 * j + dx - 1, x.w)]
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
            let hidden = (0..<se.fc1.cout).map { o in
                max(0, (0..<se.fc1.cin).reduce(se.fc1.bias[o]) { $0 + se.fc1.weight[o * se.fc1.cin + $1] * means[b * x.c + $1] })
            }
            for ch in 0..<x.c {
                let z = (0..<se.fc2.cin).reduce(se.fc2.bias[ch]) { $0 + se.fc2.weight[ch * se.fc2.cin + $1] * hidden[$1] }
                let gate = 1 / (1 + exp(-z))
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
        var y: Map
        switch block.kind {
        case .basic:
            y = apply(block.conv2, apply(block.conv1, x))
            if let se = block.se { squeezeExcite(se, &y) }
        case .bottleneck:
            y = apply(block.conv2, apply(block.conv1, x))
            if let se = block.se { squeezeExcite(se, &y) }
            y = apply(block.conv3!, y)
        }
        precondition(y.v.count == shortcut.v.count)
        for e in 0..<y.v.count { y.v[e] = max(0, y.v[e] + shortcut.v[e]) }
        return y
    }
}

/// Hands out the tree's tensors in walk order: each layer takes the next entries of `TResNet.listing`, which
/// must be the layer's own listing (same relative paths and shapes) under the path the walk gave it.
struct TensorCursor {
    let listing: [TensorSpec]
    let lookup: (String) throws -> Tensor?
    var next = 0

    init(listing: [TensorSpec], lookup: @escaping (String) throws -> Tensor?) {
        self.listing = listing.filter { $0.role != .optionalBuffer }
        self.lookup = lookup
    }

    /// The tensors of `layer`, in the order its walk declares them, widened to Double.
    mutating func take(_ layer: some Layer) throws -> [[Double]] {
        let own = layer.tensorListing.filter { $0.role != .optionalBuffer }
        var out: [[Double]] = []
        for spec in own {
            guard next < listing.count, listing[next].path.hasSuffix("." + spec.path), listing[next].shape == spec.shape else {
                throw TResNetError(.binding, "float64 forward: the layer tree's walk and its layers disagree at \(spec.path)")
            }
            let path = listing[next].path
            guard let t = try lookup(path) else { throw TResNetError(.binding, at: .tensor(path), "missing tensor") }
            guard t.shape == spec.shape else {
                throw TResNetError(.binding, at: .tensor(path),
                                   "shape \(formatShape(t.shape)) does not match the expected \(formatShape(spec.shape))")
            }
            out.append(try doubles(t))
            next += 1
        }
        return out
    }

    /// A ConvNormAct: conv weight, then BatchNorm γ, β, mean, var (BatchNorm2d's walk) or the conv bias (folded).
    mutating func conv(_ layer: ConvNormAct) throws -> Float64Forward.Conv {
        let t = try take(layer)
        let (scale, shift): ([Double], [Double])
        switch layer.normalization {
        case .batchNorm:
            let (gamma, beta, mean, variance) = (t[1], t[2], t[3], t[4])
            let eps = decimal(BatchNorm2d.epsilon)
            scale = (0..<layer.outChannels).map { gamma[$0] / (variance[$0] + eps).squareRoot() }
            shift = (0..<layer.outChannels).map { beta[$0] - mean[$0] * scale[$0] }
        case .folded:
            scale = [Double](repeating: 1, count: layer.outChannels)
            shift = t[1]
        }
        var slope: Double?
        if case .leakyReLU(let s) = layer.activation { slope = decimal(s) }
        return Float64Forward.Conv(cin: layer.inChannels, cout: layer.outChannels, k: layer.kernel, weight: t[0],
                                   scale: scale, shift: shift, slope: slope, antiAliased: layer.antiAliased)
    }

    /// The SE module's two 1×1 convs with bias (fc1: C → R, fc2: R → C, SqueezeExcite's walk), as dense layers.
    mutating func squeezeExcite(_ se: TResNetModel.SqueezeExcite) throws -> (fc1: Float64Forward.Dense, fc2: Float64Forward.Dense) {
        let t = try take(se)
        return (Float64Forward.Dense(cin: se.channels, cout: se.reduction, weight: t[0], bias: t[1]),
                Float64Forward.Dense(cin: se.reduction, cout: se.channels, weight: t[2], bias: t[3]))
    }

    mutating func linear(_ layer: Linear) throws -> Float64Forward.Dense {
        let t = try take(layer)
        return Float64Forward.Dense(cin: layer.inFeatures, cout: layer.outFeatures, weight: t[0], bias: t[1])
    }

    func finish() throws {
        guard next == listing.count else {
            throw TResNetError(.binding, "float64 forward: \(listing.count - next) tensors of the tree were not used")
        }
    }
}

/// A float constant of the tree (a slope, an epsilon) as the decimal it was written as (0.01, 1e-5), the
/// value PyTorch's float64 run uses.
func decimal(_ f: Float) -> Double { Double(f.description) ?? Double(f) }

/// Every element widened to Double: float64 exactly, the narrower float types exactly.
func doubles(_ t: Tensor) throws -> [Double] {
    if t.dtype == .float64 { return (0..<t.elementCount).map { t.scalar(at: $0)! } }
    return try t.floats().map(Double.init)
}
