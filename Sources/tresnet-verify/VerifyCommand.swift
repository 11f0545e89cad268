import Foundation
import _CLISupport

@main
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tresnet-verify",
        abstract: "Prove that weights compute what PyTorch computes, activation by activation.",
        discussion: """
            REF.npz holds `input` (N×3×H×W float32) and any of the taps body.s2d, body.conv1, body.layer1 … \
            body.layer4, head.global_pool, head.fc, as PyTorch forward hooks capture them. One row per tap in \
            forward order (shape, max abs/rel error, cosine, worst element, pass/fail), then top-1/top-5 agreement; \
            the first failing tap is named. An element passes when |ours − ref| ≤ atol + rtol·|ref| \
            (docs/PARITY.md). Exit 0: all pass; 3: a tap fails; 2: bad input; 1: usage or I/O.
            """)

    @Argument(help: "The weights: a .tw file or any source tresnet-convert reads (.pth, .safetensors, .onnx).")
    var weights: String

    @Option(help: "The reference activations (.npz).")
    var reference: String

    @Option(help: "Absolute tolerance (default 1e-4; 0.5 with --precision bf16, docs/PARITY.md).")
    var atol: Double?

    @Option(help: "Relative tolerance (default 1e-4; 0.05 with --precision bf16).")
    var rtol: Double?

    @Option(help: "Convolution kernels: automatic, winograd or direct (ours: AVX-512, AVX2, NEON or portable; cap with TRESNET_MAX_ISA), or blas (im2col + OpenBLAS sgemm).")
    var backend: ConvolutionBackend = .automatic

    @Option(help: "Also write the report as JSON to this path.")
    var json: String?

    @OptionGroup var model: ModelOptions

    func run() throws {
        try runMain("tresnet-verify") {
            let defaults = model.precision == .bf16 ? Tolerance.bfloat16 : Tolerance.float32
            let atol = self.atol ?? defaults.absolute, rtol = self.rtol ?? defaults.relative
            guard atol >= 0, rtol >= 0 else { throw TResNetError(.usage, "--atol and --rtol must be non-negative") }
            let loaded = try model.load(weights)
            let arrays = try TResNetError.naming(reference) { try CheckpointReader.read(path: reference) }
            guard arrays.container == .npz else {
                throw TResNetError(.malformed, "the reference must be an .npz archive, this is \(arrays.container.rawValue)",
                                   file: reference)
            }
            let ref = Dictionary(uniqueKeysWithValues: arrays.stateDict.entries.map { ($0.name, $0.tensor) })
            let network = try loaded.network(backend: backend)
            let report = try TResNetError.naming(reference) {
                try ParityReport.run(network, reference: ref, tolerance: Tolerance(absolute: atol, relative: rtol))
            }
            print("weights:   \(weights) — \(loaded.configuration); \(network.backend.rawValue) kernels, "
                  + "\(network.precision.rawValue)")
            print("reference: \(reference) — input \(formatShape(ref["input"]?.shape ?? []))")
            print(report.render())
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let data = try encoder.encode(VerifyJSON(weights: weights, reference: reference, passed: report.passed,
                                                         firstFailure: report.firstFailure, report: report))
                try writeFileAtomically(json, Array(data) + [0x0A])
            }
            if !report.passed {
                throw TResNetError(.parity, "parity failed: first failing tap is \(report.firstFailure ?? "?")")
            }
        }
    }
}

struct VerifyJSON: Encodable {
    var weights: String
    var reference: String
    var passed: Bool
    var firstFailure: String?
    var report: ParityReport
}
