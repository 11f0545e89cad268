import Testing
import TestSupport
import TResNetCheckpoint
import TResNetCore
import TResNetModel
@testable import TResNetRuntime

/// Each building block against the timm/torch module it mirrors (Fixtures/gen_ops.py → Fixtures/tiny/ops.npz).
@Suite("Operations against PyTorch")
struct OperationTests {
    let ops: [String: Tensor]

    init() throws {
        ops = Dictionary(uniqueKeysWithValues: try NpzArchive.read(path: FixturePaths.tiny("ops.npz")).map { ($0.name, $0.tensor) })
    }

    /// NCHW tensor → NHWC feature map.
    func featureMap(_ t: Tensor) throws -> FeatureMap {
        let (n, c, h, w) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
        let v = try t.floats()
        var out = FeatureMap(n: n, h: h, w: w, c: c)
        for b in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            out.data[((b * h + y) * w + x) * c + ch] = v[((b * c + ch) * h + y) * w + x]
        } } } }
        return out
    }

    func expectClose(_ actual: Tensor, _ name: String, absolute: Double = 1e-6) throws {
        let expected = try #require(ops[name])
        let cmp = try TapComparison(name: name, actual: actual, expected: expected,
                                    tolerance: Tolerance(absolute: absolute, relative: 1e-6))
        #expect(cmp.passed, "\(name): max abs \(cmp.maxAbsoluteError) at \(cmp.worstIndex)")
    }

    @Test func spaceToDepthMatchesTimmExactly() throws {
        let x = try #require(ops["s2d.input"])
        let values = try x.floats()
        let y = values.withUnsafeBufferPointer { spaceToDepth($0, n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3]) }
        try expectClose(y.nchw(), "s2d.output", absolute: 0)
    }

    @Test(arguments: ["blur_even", "blur_odd"])
    func blurPoolMatchesTimm(_ name: String) throws {
        try expectClose(blurPool(try featureMap(try #require(ops["\(name).input"]))).nchw(), "\(name).output")
    }

    @Test func ceilModeAveragePoolMatchesTorch() throws {
        try expectClose(averagePool2x2(try featureMap(try #require(ops["avgpool.input"]))).nchw(), "avgpool.output")
    }

    @Test func squeezeExciteMatchesTimm() throws {
        let w1 = try #require(ops["se.fc1.weight"]), w2 = try #require(ops["se.fc2.weight"])
        var layer = SqueezeExcite(channels: w1.shape[1], reduction: w1.shape[0])
        (layer.fc1.weight, layer.fc1.bias) = (w1, ops["se.fc1.bias"])
        (layer.fc2.weight, layer.fc2.bias) = (w2, ops["se.fc2.bias"])
        let se = try SEGate(layer)
        var x = try featureMap(try #require(ops["se.input"]))
        se.apply(&x)
        try expectClose(x.nchw(), "se.output")
    }

    /// Conv + eval BatchNorm (+ residual) + activation on odd shapes, through each backend: the direct kernels'
    /// channel tails (not multiples of 16/32), partial pixel tiles, padding rows, a batch of 2, and Winograd's
    /// partial 2×2 output tiles on odd sides (7×9, 5×4, 2×3).
    @Test(arguments: ["conv3_leaky", "conv1_relu_residual", "conv3_identity", "conv3_relu_residual"],
          ParityTests.backends)
    func convolutionMatchesTorch(_ name: String, backend: ConvolutionBackend) throws {
        let weight = try #require(ops["\(name).conv.weight"])
        func floats(_ key: String) throws -> [Float] { try #require(ops["\(name).\(key)"]).floats() }
        let folded = BatchNormFolding.fold(
            weight: try weight.floats(), outChannels: weight.shape[0], convBias: nil,
            bn: (gamma: try floats("bn.weight"), beta: try floats("bn.bias"), mean: try floats("bn.running_mean"),
                 variance: try floats("bn.running_var")))
        let conv = Convolution(weight: folded.weight, shape: weight.shape, bias: folded.bias, kernels: backend)
        let activation: Activation = name.contains("leaky") ? .leakyReLU(slope: 0.001) : name.contains("relu") ? .relu : .identity
        let residual = try ops["\(name).residual"].map { try featureMap($0) }
        let y = conv(try featureMap(try #require(ops["\(name).input"])), activation: activation, residual: residual)
        try expectClose(y.nchw(), "\(name).output", absolute: 1e-5)
    }

    /// Winograd's blocked schedule (used when there are many 2×2 tiles: batch 8, or early layers) against the
    /// direct kernel, which the PyTorch cases above validate: a 222×222 map of 8 channels has 12,321 tiles, enough
    /// for blocks on 2 threads. (The PyTorch cases are too small to reach it; a fixture that large would not fit.)
    @Test func winogradBlockedScheduleMatchesTheDirectKernel() throws {
        guard ConvolutionBackend.directAvailable else { return }
        let saved = TResNetNetwork.threads
        TResNetNetwork.threads = 2
        defer { TResNetNetwork.threads = saved }
        var rng = SplitMix64(seed: 99)
        func uniform() -> Float { Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1 }
        let (h, w, cin, cout) = (222, 222, 8, 8)
        let weight = (0..<(cout * cin * 9)).map { _ in uniform() * 0.3 }
        let bias = (0..<cout).map { _ in uniform() }
        let x = FeatureMap(n: 1, h: h, w: w, c: cin, data: (0..<(h * w * cin)).map { _ in uniform() })
        let residual = FeatureMap(n: 1, h: h, w: w, c: cout, data: (0..<(h * w * cout)).map { _ in uniform() })
        func run(_ kernels: ConvolutionBackend) -> [Float] {
            Convolution(weight: weight, shape: [cout, cin, 3, 3], bias: bias, kernels: kernels)(
                x, activation: .leakyReLU(slope: 0.001), residual: residual).data
        }
        let direct = run(.direct), winograd = run(.winograd)
        let worst = zip(direct, winograd).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5, "max |winograd − direct| = \(worst)")
    }
}
