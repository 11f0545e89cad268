import Testing
import TestSupport
import TResNetCore
import TResNetModel
@testable import TResNetRuntime

/// The opt-in forward profile (tresnet-bench --profile) times operations without changing what is computed.
@Suite("Forward profile")
struct ProfilingTests {
    @Test(
        "a profiled forward gives bit-identical logits and accounts for every convolution",
        arguments: ParityTests.backends)
    func profiledForwardIsIdentical(backend: ConvolutionBackend) throws {
        let network = try ParityTests.network("tiny_v1.safetensors", backend: backend)
        let reference = try ParityTests.reference("tiny_v1.reference.npz")
        let input = try #require(reference["input"])
        let plain = try network.forward(input).logits.floats()
        let profile = ForwardProfile()
        let profiled = try network.forward(input, profile: profile).logits.floats()
        #expect(plain == profiled)
        // One GEMM per convolution: the stem, each block's convs and each projection shortcut.
        let convs =
            1
            + network.stages.joined().reduce(0) { total, block in
                total + 2 + (block.conv3 == nil ? 0 : 1) + (block.projection == nil ? 0 : 1)
            }
        let kinds =
            switch backend {
            case .blas: ["conv1x1 gemm", "conv3x3 gemm"]
            case .winograd: ["conv1x1 direct", "conv3x3 winograd"]
            default: ["conv1x1 direct", "conv3x3 direct"]
            }
        let gemmCalls = kinds.reduce(0) { $0 + (profile.calls[$1] ?? 0) }
        #expect(gemmCalls == convs)
        #expect(profile.gemms.values.reduce(0) { $0 + $1.calls } == convs)
        // Our kernels fuse the epilogue into the store.
        #expect(profile.calls["conv epilogue (bias, residual, activation)"] == (backend == .blas ? convs : nil))
        #expect(profile.calls["space-to-depth"] == 1 && profile.calls["head fc"] == 1)
        #expect(profile.seconds.values.allSatisfy { $0 >= 0 })
        profile.reset()
        #expect(profile.seconds.isEmpty && profile.gemms.isEmpty)
    }

    @Test("OpenBLAS alone: one timing per iteration")
    func kernelBenchmark() {
        let times = KernelBenchmark.sgemm(m: 8, n: 4, k: 16, iterations: 3)
        #expect(times.count == 3 && times.allSatisfy { $0 >= 0 })
    }
}
