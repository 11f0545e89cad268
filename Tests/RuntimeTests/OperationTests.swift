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
        ops = Dictionary(
            uniqueKeysWithValues: try NpzArchive.read(path: FixturePaths.tiny("ops.npz")).map { ($0.name, $0.tensor) })
    }

    /// NCHW tensor → NHWC feature map.
    func featureMap(_ t: Tensor) throws -> FeatureMap {
        let (n, c, h, w) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
        let v = try t.floats()
        var out = FeatureMap(n: n, h: h, w: w, c: c)
        for b in 0..<n {
            for ch in 0..<c {
                for y in 0..<h {
                    for x in 0..<w {
                        out.data[((b * h + y) * w + x) * c + ch] = v[((b * c + ch) * h + y) * w + x]
                    }
                }
            }
        }
        return out
    }

    func expectClose(_ actual: Tensor, _ name: String, absolute: Double = 1e-6) throws {
        let expected = try #require(ops[name])
        let cmp = try TapComparison(
            name: name, actual: actual, expected: expected,
            tolerance: Tolerance(absolute: absolute, relative: 1e-6))
        #expect(cmp.passed, "\(name): max abs \(cmp.maxAbsoluteError) at \(cmp.worstIndex)")
    }

    @Test func spaceToDepthMatchesTimmExactly() throws {
        let x = try #require(ops["s2d.input"])
        let values = try x.floats()
        let y = values.withUnsafeBufferPointer {
            spaceToDepth($0, n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3])
        }
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
    @Test(
        arguments: ["conv3_leaky", "conv1_relu_residual", "conv3_identity", "conv3_relu_residual"],
        ParityTests.backends)
    func convolutionMatchesTorch(_ name: String, backend: ConvolutionBackend) throws {
        let weight = try #require(ops["\(name).conv.weight"])
        func floats(_ key: String) throws -> [Float] { try #require(ops["\(name).\(key)"]).floats() }
        let folded = BatchNormFolding.fold(
            weight: try weight.floats(), outChannels: weight.shape[0], convBias: nil,
            bn: (
                gamma: try floats("bn.weight"), beta: try floats("bn.bias"), mean: try floats("bn.running_mean"),
                variance: try floats("bn.running_var")
            ))
        let conv = Convolution(weight: folded.weight, shape: weight.shape, bias: folded.bias, kernels: backend)
        let activation: Activation =
            name.contains("leaky") ? .leakyReLU(slope: 0.001) : name.contains("relu") ? .relu : .identity
        let residual = try ops["\(name).residual"].map { try featureMap($0) }
        let y = conv(try featureMap(try #require(ops["\(name).input"])), activation: activation, residual: residual)
        try expectClose(y.nchw(), "\(name).output", absolute: 1e-5)
    }

    /// The same PyTorch cases through our direct and Winograd kernels on every ISA this CPU runs (avx512, avx2,
    /// portable here), not just the default one.
    @Test(
        arguments: ["conv3_leaky", "conv1_relu_residual", "conv3_identity", "conv3_relu_residual"],
        KernelISA.supported)
    func convolutionMatchesTorchOnEveryISA(_ name: String, isa: KernelISA) throws {
        for backend in [ConvolutionBackend.direct, .winograd] {
            try KernelISA.with(isa) { try convolutionMatchesTorch(name, backend: backend) }
        }
    }

    /// Every kernel (direct 1×1 and 3×3, Winograd 3×3) at every ISA against a naive convolution summed in Double,
    /// on shapes the PyTorch cases do not reach: channel counts that are no multiple of any vector width (3, 17,
    /// 37 in; 5, 19, 70 out), 1×1 and 7×7 maps, batch 1 and 3. The bound is relative to the sum of absolute
    /// products (1e-6 direct, 1e-5 Winograd, whose transforms add several such sums before rounding).
    @Test(arguments: KernelISA.supported)
    func everyKernelMatchesANaiveConvolution(_ isa: KernelISA) throws {
        try naiveConvolutionCases(isa: isa, precision: .f32)
    }

    /// The bf16 kernels (AVX512-BF16) on the same shapes; inputs and weights rounded to bf16 (2⁻⁹ relative each),
    /// so the bound is 1/128 of the sum of absolute products direct and 1/64 for Winograd (whose transformed
    /// inputs and weights are rounded). Runs where the CPU has AVX512-BF16 (this machine does).
    @Test(.enabled(if: Precision.bf16Available))
    func bf16KernelsMatchANaiveConvolution() throws {
        try naiveConvolutionCases(isa: .avx512, precision: .bf16)
    }

    func naiveConvolutionCases(isa: KernelISA, precision: Precision) throws {
        var rng = SplitMix64(seed: 18)
        func uniform() -> Float { Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1 }
        for (n, side, cin, cout, k) in [
            (1, 1, 3, 5, 1), (3, 7, 17, 19, 3), (1, 7, 37, 70, 1), (3, 1, 37, 19, 3),
            (1, 7, 3, 70, 3), (3, 7, 17, 5, 1)
        ] {
            let weight = (0..<(cout * cin * k * k)).map { _ in uniform() * 0.5 }  // OIHW
            let bias = (0..<cout).map { _ in uniform() }
            let x = FeatureMap(
                n: n, h: side, w: side, c: cin, data: (0..<(n * side * side * cin)).map { _ in uniform() })
            let residual = FeatureMap(
                n: n, h: side, w: side, c: cout,
                data: (0..<(n * side * side * cout)).map { _ in uniform() })
            var expected = [Double](repeating: 0, count: n * side * side * cout), scale = expected
            for b in 0..<n {
                for y in 0..<side {
                    for xx in 0..<side {
                        for o in 0..<cout {
                            let m = (b * side + y) * side + xx
                            var sum = Double(bias[o]) + Double(residual.data[m * cout + o])
                            var size = abs(Double(bias[o])) + abs(Double(residual.data[m * cout + o]))
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let sy = y + ky - k / 2, sx = xx + kx - k / 2
                                    guard sy >= 0, sy < side, sx >= 0, sx < side else { continue }
                                    for c in 0..<cin {
                                        let p =
                                            Double(weight[((o * cin + c) * k + ky) * k + kx])
                                            * Double(x.data[((b * side + sy) * side + sx) * cin + c])
                                        sum += p
                                        size += abs(p)
                                    }
                                }
                            }
                            expected[m * cout + o] = sum < 0 ? sum * 0.001 : sum
                            scale[m * cout + o] = size
                        }
                    }
                }
            }
            for backend in k == 3 ? [ConvolutionBackend.direct, .winograd] : [.direct] {
                let conv = Convolution(
                    weight: weight, shape: [cout, cin, k, k], bias: bias, kernels: backend,
                    precision: precision)
                #expect(conv.bf16 == (precision == .bf16) && conv.weights.isEmpty, "packed, with no f32 copy kept")
                let y = KernelISA.with(isa) { conv(x, activation: .leakyReLU(slope: 0.001), residual: residual) }
                let bound =
                    precision == .bf16
                    ? (backend == .winograd ? 1.0 / 64 : 1.0 / 128)
                    : (backend == .winograd ? 1e-5 : 1e-6)
                let worst = zip(y.data.indices, y.data).map { abs(Double($1) - expected[$0]) / scale[$0] }.max() ?? .nan
                #expect(
                    worst <= bound,
                    "\(isa) \(precision) \(backend) n=\(n) \(side)×\(side) \(cin)→\(cout) k=\(k): \(worst)")
            }
        }
    }

    /// Winograd's blocked schedule (used when there are many 2×2 tiles: batch 8, or early layers) against the
    /// direct kernel, which the PyTorch cases above validate: a 222×222 map of 8 channels has 12,321 tiles, enough
    /// for blocks on 2 threads. (The PyTorch cases are too small to reach it; a fixture that large would not fit.)
    @Test func winogradBlockedScheduleMatchesTheDirectKernel() throws {
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
                x, activation: .leakyReLU(slope: 0.001), residual: residual
            ).data
        }
        let direct = run(.direct), winograd = run(.winograd)
        let worst = zip(direct, winograd).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5, "max |winograd − direct| = \(worst)")
    }
}
