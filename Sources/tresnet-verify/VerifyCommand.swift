import Foundation
import _CLISupport
import TResNetCheckpoint
import TResNetCore
import TResNetRuntime

@main
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tresnet-verify",
        abstract: "Prove that weights compute what PyTorch computes, activation by activation.",
        discussion: """
            REF.npz holds `input` (N×3×H×W float32) and any of the taps body.s2d, body.conv1, body.layer1 … \
            body.layer4, head.global_pool, head.fc, as PyTorch forward hooks capture them. One row per tap in \
            forward order (shape, max abs error, error relative to the tap's scale against its float32 budget, \
            cosine, worst element, pass/fail), then top-1/top-5 agreement; the first failing tap is named. By \
            default a tap passes when every element has |ours − ref| ≤ budget·(rms(ref) + |ref|), the budget \
            growing with the products accumulated behind the tap (docs/PARITY.md); --atol/--rtol switch to \
            numpy's allclose rule. --oracle also runs our forward pass in float64 and reports ours↔float64 and \
            ref↔float64 per tap. Exit 0: all pass; 3: a tap fails; 2: bad input; 1: usage or I/O.
            """)

    @Argument(help: "The weights: a .tw file or any source tresnet-convert reads (.pth, .safetensors, .onnx).")
    var weights: String

    @Option(help: "The reference activations (.npz).")
    var reference: String

    @Option(help: "Absolute tolerance: judge elements by numpy's allclose rule instead of the float32 error model.")
    var atol: Double?

    @Option(help: "Relative tolerance of the allclose rule (with --atol; default 0 when only --atol is given).")
    var rtol: Double?

    @Flag(help: "Also run our forward pass in float64: three distances per tap; a tap also passes when ours is no further from float64 than the reference (×1.5).")
    var oracle = false

    @Option(help: "Convolution kernels: automatic, winograd or direct (ours: AVX-512, AVX2, NEON or portable; cap with TRESNET_MAX_ISA), or blas (im2col + OpenBLAS sgemm).")
    var backend: ConvolutionBackend = .automatic

    @Option(help: "Also write the report as JSON to this path.")
    var json: String?

    @OptionGroup var model: ModelOptions

    func run() throws {
        try runMain("tresnet-verify") {
            do {
                try verify()
            } catch let error as TResNetError where json != nil && error.code != .parity {
                // the JSON report path gets an error object instead of a report (nothing partial)
                try? writeJSON(VerifyErrorJSON(weights: weights, reference: reference,
                                               error: .init(code: error.code.name, exitCode: error.code.exitCode,
                                                            message: error.description)))
                throw error
            }
        }
    }

    func verify() throws {
        // bf16 products are judged elementwise at bf16's own rounding (docs/PARITY.md), f32 by the error model.
        var tolerance = model.precision == .bf16 ? Tolerance.bfloat16 : Tolerance.float32
        if atol != nil || rtol != nil {
            let a = atol ?? 0, r = rtol ?? 0
            guard a >= 0, r >= 0, a.isFinite, r.isFinite else {
                throw TResNetError(.usage, "--atol and --rtol must be finite and non-negative")
            }
            tolerance = Tolerance(absolute: a, relative: r)
        }
        let loaded = try model.load(weights)
        let arrays = try TResNetError.naming(reference) { try CheckpointReader.read(path: reference) }
        guard arrays.container == .npz else {
            throw TResNetError(.malformed, "the reference must be an .npz archive, this is \(arrays.container.rawValue)",
                               file: reference)
        }
        let ref = Dictionary(uniqueKeysWithValues: arrays.stateDict.entries.map { ($0.name, $0.tensor) })
        let network = try loaded.network(backend: backend)
        let float64 = oracle ? try TResNetError.naming(weights) {
            try Float64Forward(loaded.bound.tree)
        } : nil
        let report = try TResNetError.naming(reference) {
            try ParityReport.run(network, reference: ref, tolerance: tolerance, oracle: float64)
        }
        print("weights:   \(weights) — \(loaded.configuration); \(network.backend.rawValue) kernels"
              + (network.precision == .f32 ? "" : ", \(network.precision.rawValue)"))
        print("reference: \(reference) — input \(formatShape(ref["input"]?.shape ?? []))")
        print(report.render())
        if json != nil {
            try writeJSON(VerifyJSON(weights: weights, reference: reference, passed: report.passed,
                                     firstFailure: report.firstFailure, report: report))
        }
        if !report.passed {
            throw TResNetError(.parity, "parity failed: first failing tap is \(report.firstFailure ?? "?")")
        }
    }

    /// Writes `value` to the --json path. Non-finite numbers (none are expected) become the strings "inf",
    /// "-inf" and "nan" instead of failing the encoding (docs/PARITY.md).
    func writeJSON(_ value: some Encodable) throws {
        guard let json else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                      nan: "nan")
        try writeFileAtomically(json, Array(try encoder.encode(value)) + [0x0A])
    }
}

struct VerifyJSON: Encodable {
    var weights: String
    var reference: String
    var passed: Bool
    var firstFailure: String?
    var report: ParityReport
}

/// What the --json path holds when the verification could not run (bad input, I/O).
struct VerifyErrorJSON: Encodable {
    struct Failure: Encodable {
        var code: String
        var exitCode: Int32
        var message: String
    }
    var weights: String
    var reference: String
    var passed = false
    var error: Failure
}
