import Testing
import TestSupport
import TResNetCheckpoint
import TResNetCore
import TResNetModel
@testable import TResNetRuntime

/// The forward pass against activations PyTorch captured with forward hooks (Fixtures/generate.py).
@Suite("Forward-pass parity with PyTorch on the tiny fixtures")
struct ParityTests {
    /// Every backend: OpenBLAS, and our kernels (direct, Winograd) on the default ISA (portable C where the CPU
    /// has no vector ISA for them).
    static let backends: [ConvolutionBackend] = [.blas, .direct, .winograd]

    static func network(
        _ weights: String, backend: ConvolutionBackend = .automatic,
        precision: Precision = .f32
    ) throws -> TResNetNetwork {
        let manifest = try FixtureManifest.load()
        let arch = try #require(manifest.files[weights]?.arch)
        let configuration = TResNetConfiguration(
            layout: arch.layout == "v2" ? .v2 : .v1, layers: arch.layers,
            planes: arch.planes, numClasses: arch.num_classes)
        let checkpoint = try CheckpointReader.read(path: FixturePaths.tiny(weights))
        return try TResNetNetwork(configuration: configuration, backend: backend, precision: precision) {
            checkpoint.stateDict[$0]
        }
    }

    static func reference(_ name: String) throws -> [String: Tensor] {
        Dictionary(
            uniqueKeysWithValues: try NpzArchive.read(path: FixturePaths.tiny(name)).map { ($0.name, $0.tensor) })
    }

    @Test(
        "every tap passes",
        arguments: [
            ("tiny_v1.safetensors", "tiny_v1.reference.npz"),  // v1, two images per batch, 64×64
            ("tiny_v1.pth", "tiny_v1.reference_64x96.npz"),  // v1, non-square
            ("tiny_v2.pth", "tiny_v2.reference.npz"),  // v2 layout, two images
            ("tiny_v2.pth", "tiny_v2.reference_64x96.npz"),  // v2, non-square
            ("tiny_v1_views.pth", "tiny_v1.reference.npz"),  // channels_last / shared storages
            ("tiny_v1_legacy.pth", "tiny_v1.reference.npz"),
            ("tiny_v1_f16.pth", "tiny_v1_f16.reference.npz"),  // f16 weights widened on load
            ("tiny_v1_bf16.pth", "tiny_v1_bf16.reference.npz")
        ], backends)
    func everyTapPasses(files: (weights: String, referenceFile: String), backend: ConvolutionBackend) throws {
        let (weights, referenceFile) = files
        let reference = try Self.reference(referenceFile)
        let network = try Self.network(weights, backend: backend)
        #expect(network.backend == backend)
        let report = try ParityReport.run(network, reference: reference, tolerance: .float32)
        #expect(report.rows.map(\.name) == TResNetNetwork.tapNames, "every tap is compared, in forward order")
        #expect(report.passed, "\(weights) vs \(referenceFile):\n\(report.render())")
        let agreement = try #require(report.topK)
        #expect(agreement.top1Agree == agreement.images && agreement.top5Identical == agreement.images)
        #expect(
            report.rows.first { $0.name == "body.s2d" }?.maxAbsoluteError == 0, "space-to-depth is a pure permutation")
    }

    @Test(
        "every tap passes with our kernels on every ISA this CPU runs",
        arguments: [
            ("tiny_v1.safetensors", "tiny_v1.reference.npz"),
            ("tiny_v2.pth", "tiny_v2.reference_64x96.npz")
        ], KernelISA.supported)
    func everyTapPassesOnEveryISA(files: (weights: String, referenceFile: String), isa: KernelISA) throws {
        let reference = try Self.reference(files.referenceFile)
        for backend in [ConvolutionBackend.direct, .winograd] {
            let network = try Self.network(files.weights, backend: backend)
            let report = try KernelISA.with(isa) {
                try ParityReport.run(network, reference: reference, tolerance: .float32)
            }
            #expect(report.passed, "\(isa) \(backend) \(files.weights):\n\(report.render())")
            let agreement = try #require(report.topK)
            #expect(agreement.top1Agree == agreement.images && agreement.top5Identical == agreement.images)
        }
    }

    @Test(
        "bf16 (AVX512-BF16): every tap within Tolerance.bfloat16, top-1 equal to PyTorch's f32",
        .enabled(if: Precision.bf16Available),
        arguments: [
            ("tiny_v1.safetensors", "tiny_v1.reference.npz"),
            ("tiny_v2.pth", "tiny_v2.reference.npz"),
            ("tiny_v1.pth", "tiny_v1.reference_64x96.npz")
        ], [ConvolutionBackend.direct, .winograd])
    func bf16TapsPass(files: (weights: String, referenceFile: String), backend: ConvolutionBackend) throws {
        let network = try Self.network(files.weights, backend: backend, precision: .bf16)
        #expect(network.precision == .bf16)
        let report = try ParityReport.run(
            network, reference: try Self.reference(files.referenceFile),
            tolerance: .bfloat16)
        #expect(report.passed, "\(backend) \(files.weights):\n\(report.render())")
        let agreement = try #require(report.topK)
        #expect(agreement.top1Agree == agreement.images)
        // Not float32 parity: bf16 is measurably different (so the bf16 kernels did run).
        #expect(
            !(try ParityReport.run(
                network, reference: try Self.reference(files.referenceFile),
                tolerance: .float32
            ).passed))
    }

    @Test("bf16 is refused with the blas backend (and, without AVX512-BF16, everywhere)")
    func bf16Refusals() throws {
        #expect(throws: TResNetError.self) { try Self.network("tiny_v1.pth", backend: .blas, precision: .bf16) }
        if !Precision.bf16Available {
            #expect(throws: TResNetError.self) { try Self.network("tiny_v1.pth", backend: .winograd, precision: .bf16) }
        }
    }

    @Test("a reference with one tap perturbed by 1% fails at exactly that tap")
    func perturbedTapIsNamed() throws {
        var reference = try Self.reference("tiny_v1.reference.npz")
        let tap = "body.layer2"
        let original = try #require(reference[tap])
        reference[tap] = Tensor(shape: original.shape, floats: try original.floats().map { $0 * 1.01 })
        let report = try ParityReport.run(try Self.network("tiny_v1.pth"), reference: reference, tolerance: .float32)
        #expect(!report.passed)
        #expect(report.firstFailure == tap)
        #expect(report.rows.filter { !$0.passed }.map(\.name) == [tap], "only the perturbed tap fails")
    }

    @Test("inputs that are not a multiple of 32 are refused with a clear error")
    func badInputSide() throws {
        let network = try Self.network("tiny_v1.pth")
        let input = Tensor(shape: [1, 3, 48, 64], floats: [Float](repeating: 0.5, count: 3 * 48 * 64))
        #expect(throws: TResNetError.self) { try network.forward(input) }
    }
}
