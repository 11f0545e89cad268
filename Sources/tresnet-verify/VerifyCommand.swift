import Foundation
import _CLISupport
import TResNetCheckpoint
import TResNetCore
import TResNetRuntime

@main
struct VerifyCommand: ParsableCommand {
    static func main() { mainReportingJSON() }

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
            ref↔float64 per tap. Exit 0: all pass; 3: a tap fails; 2: bad input; 1: I/O; 64: usage.

            EXAMPLES:
              tresnet-verify model.tw --reference reference.npz
              tresnet-verify tresnet_m.pth --reference reference.npz --oracle --json
              tresnet-verify model.tw --reference reference.npz --atol 1e-4 --rtol 1e-4 --report parity.json
            """,
        version: toolkitVersion)

    @Argument(help: "The weights: a .tw file or any source tresnet-convert reads (.pth, .safetensors, .onnx).")
    var weights: String

    @Option(help: "The reference activations (.npz).")
    var reference: String

    @Option(help: "Absolute tolerance: judge elements by numpy's allclose rule instead of the float32 error model.")
    var atol: Double?

    @Option(help: "Relative tolerance of the allclose rule (with --atol; default 0 when only --atol is given).")
    var rtol: Double?

    @Flag(
        help:
            "Also run our forward pass in float64: three distances per tap; a tap also passes when ours is no further from float64 than the reference (×1.5)."
    )
    var oracle = false

    @Option(
        help:
            "Convolution kernels: automatic, winograd or direct (ours: AVX-512, AVX2, NEON or portable; cap with TRESNET_MAX_ISA), or blas (im2col + OpenBLAS sgemm)."
    )
    var backend: ConvolutionBackend = .automatic

    @OptionGroup var output: ReportOptions

    @Flag(help: "Replace an existing --report file.")
    var force = false

    @OptionGroup var model: ModelOptions

    func validate() throws {
        if atol != nil || rtol != nil {
            let a = atol ?? 0, r = rtol ?? 0
            guard a >= 0, r >= 0, a.isFinite, r.isFinite else {
                throw ValidationError("--atol and --rtol must be finite and non-negative")
            }
        }
    }

    func run() throws {
        try runMain("tresnet-verify", json: output.json) {
            let report = try output.reportFile(force: force)
            do {
                try verify(report: report)
            } catch let error as TResNetError where report != nil && error.code != .parity {
                // the report file gets the error object instead of a report (nothing partial)
                try? report?.write(
                    VerifyErrorJSON(weights: weights, reference: reference, error: JSONError(error).error))
                throw error
            }
        }
    }

    func verify(report file: ReportFile?) throws {
        // bf16 products are judged elementwise at bf16's own rounding (docs/PARITY.md), f32 by the error model.
        var tolerance = model.precision == .bf16 ? Tolerance.bfloat16 : Tolerance.float32
        if atol != nil || rtol != nil { tolerance = Tolerance(absolute: atol ?? 0, relative: rtol ?? 0) }
        let loaded = try model.load(weights)
        let arrays = try TResNetError.naming(reference) { try CheckpointReader.read(path: reference) }
        guard arrays.container == .npz else {
            throw TResNetError(
                .malformed, "the reference must be an .npz archive, this is \(arrays.container.rawValue)",
                file: reference)
        }
        let ref = Dictionary(uniqueKeysWithValues: arrays.stateDict.entries.map { ($0.name, $0.tensor) })
        let network = try loaded.network(backend: backend)
        let float64 = oracle ? try TResNetError.naming(weights) { try Float64Forward(loaded.bound.tree) } : nil
        let report = try TResNetError.naming(reference) {
            try ParityReport.run(network, reference: ref, tolerance: tolerance, oracle: float64)
        }
        let result = VerifyJSON(
            weights: weights, reference: reference, passed: report.passed,
            firstFailure: report.firstFailure, report: report)
        try output.emit(result, to: file) {
            print(
                "weights:   \(weights) — \(loaded.configuration); \(network.backend.rawValue) kernels"
                    + (network.precision == .f32 ? "" : ", \(network.precision.rawValue)"))
            print("reference: \(reference) — input \(formatShape(ref["input"]?.shape ?? []))")
            print(report.render())
        }
        if !report.passed {
            let failure = TResNetError(.parity, "parity failed: first failing tap is \(report.firstFailure ?? "?")")
            // in --json mode the report (passed: false) is the JSON; the error line goes to stderr only
            if output.json {
                printError("tresnet-verify: \(failure.description)")
                throw ExitCode(failure.code.exitCode)
            }
            throw failure
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

/// What the --report file holds when the verification could not run (bad input, I/O).
struct VerifyErrorJSON: Encodable {
    var weights: String
    var reference: String
    var passed = false
    var error: JSONError.Body
}
