import Foundation
import _CLISupport
import TResNetRuntime

/// `tresnet-bench WEIGHTS [--batch-size B] [--img-size S] [--iterations N] [--threads T] [--json]`: forward-pass latency,
/// throughput, achieved GFLOP/s and peak memory; `--open-only` times opening a `.tw` instead.
@main
struct BenchCommand: ParsableCommand {
    static func main() { mainReportingJSON() }

    static let configuration = CommandConfiguration(
        commandName: "tresnet-bench",
        abstract: "Time forward passes (or opening a .tw file) on this machine.",
        discussion: """
            Loads WEIGHTS (a .tw or any source tresnet-convert reads), compiles the network, runs --warmup \
            untimed and --iterations timed forwards on a fixed pseudo-random input, and prints the median and \
            minimum latency, images/s, achieved GFLOP/s (2 × MACs per image × batch / median), peak RSS and the \
            load and compile times. --profile adds per-operation timings and OpenBLAS-alone GFLOP/s for the main \
            GEMM shapes. --open-only times opening a .tw: mmap + validation, with checksums, and the bound model. \
            The default batch size is 1 (latency); pass --batch-size for throughput.

            EXAMPLES:
              tresnet-bench model.tw
              tresnet-bench model.tw --img-size 448 --batch-size 8 --threads 2 --json
              tresnet-bench model.tw --profile
              tresnet-bench model.tw --open-only --iterations 50
            """,
        version: toolkitVersion)

    @Argument(help: "The weights: a .tw file or any source tresnet-convert reads.")
    var weights: String

    @Option(name: .customLong("batch-size"), help: "Images per forward.")
    var batchSize: Int?

    @Option(name: .customLong("batch"), help: .hidden)
    var batchAlias: Int?

    @Option(name: .customLong("img-size"), help: "Input side (a multiple of 32, 32…8192).")
    var imgSize: Int?

    @Option(name: .customLong("size"), help: .hidden)
    var sizeAlias: Int?

    var batch: Int { batchSize ?? batchAlias ?? 1 }
    var size: Int { imgSize ?? sizeAlias ?? 224 }

    @Option(help: "Timed iterations.")
    var iterations = 20

    @Option(help: "Untimed warm-up iterations.")
    var warmup = 3

    @Option(help: "Threads for the kernels and OpenBLAS (default: all cores).")
    var threads: Int?

    @Option(
        help:
            "Convolution kernels: automatic, winograd or direct (ours: AVX-512, AVX2, NEON or portable; cap with TRESNET_MAX_ISA), or blas (im2col + OpenBLAS sgemm)."
    )
    var backend: ConvolutionBackend = .automatic

    @Flag(help: "Also profile: time per operation kind and per GEMM shape, and OpenBLAS alone on those shapes.")
    var profile = false

    @Flag(help: "Only time opening WEIGHTS (a .tw): validation, validation + checksums, bound model.")
    var openOnly = false

    @Option(
        name: .customLong("semantic-tree"),
        help:
            "Also time semantic prediction with this ImageNet-21K tree (forward + per-level labels), alternating with plain forwards."
    )
    var semanticTree: String?

    @OptionGroup var output: ReportOptions

    @Flag(help: "Replace an existing --report file.")
    var force = false

    @OptionGroup var model: ModelOptions

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard size >= 32, size <= 8192, size % 32 == 0 else {
            throw ValidationError("--img-size must be a multiple of 32 in 32…8192, not \(size)")
        }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try runMain("tresnet-bench", json: output.json) {
            let report = try output.reportFile(force: force)
            let weights = try model.zoo.resolve(weights)
            if openOnly {
                let result = try Benchmark.open(path: weights, iterations: iterations)
                return try output.emit(result, to: report) { printText(result) }
            }
            var options = Benchmark.Options()
            options.batch = batch
            options.size = size
            options.iterations = iterations
            options.warmup = warmup
            options.threads = threads
            options.backend = backend
            options.precision = model.precision
            options.profile = profile
            options.semanticTreePath = semanticTree
            let result = try Benchmark.run(path: weights, options: options, conversion: model.conversion)
            try output.emit(result, to: report) { printText(result) }
        }
    }

    func printText(_ r: Benchmark.Result) {
        func ms(_ s: Double) -> String { String(format: "%.2f ms", s * 1000) }
        print("weights:    \(r.weights) — \(r.configuration)")
        print(
            "input:      \(r.batch)×3×\(r.height)×\(r.width), \(r.warmup) warm-up + \(r.iterations) timed, "
                + "\(r.threads) threads, \(r.backend) kernels, \(r.isa), \(r.precision)")
        print("load:       \(ms(r.loadSeconds)); compile \(ms(r.compileSeconds))")
        print("latency:    median \(ms(r.medianSeconds)), min \(ms(r.minimumSeconds))")
        print(
            String(
                format: "throughput: %.2f img/s; %.2f GFLOP/image; %.1f GFLOP/s achieved", r.imagesPerSecond,
                r.gflopPerImage, r.achievedGFLOPS))
        print(String(format: "peak RSS:   %.1f MiB", Double(r.peakRSSBytes) / 1_048_576))
        if let s = r.semanticMedianSeconds, let l = r.semanticLabelsMedianSeconds {
            print(
                "semantic:   median \(ms(s)) (forward + labels), \(String(format: "%.3f", s / r.medianSeconds))× plain; "
                    + "labels alone \(String(format: "%.3f", l * 1000)) ms per batch; tree read "
                    + String(format: "%.1f ms", (r.semanticTreeReadSeconds ?? 0) * 1000))
        }
        guard let p = r.profile else { return }
        print(
            String(
                format: "\nprofile (per forward, mean of %ld profiled forwards; %.2f ms timed):", p.forwards,
                p.profiledSeconds * 1000))
        for k in p.kinds {
            let name = k.kind.padding(toLength: 44, withPad: " ", startingAt: 0)
            print(
                "  \(name)"
                    + String(
                        format: " %8.2f ms  %5.1f %%  %4ld calls", k.seconds * 1000,
                        100 * k.seconds / p.profiledSeconds, k.calls))
        }
        print("GEMM shapes by time (m × n × k): in-network GFLOP/s vs OpenBLAS alone")
        for g in p.gemms.prefix(12) {
            let alone = g.standaloneGFLOPS.map { String(format: "%6.1f", $0) } ?? "     –"
            print(
                String(
                    format: "  %5ld × %4ld × %5ld  %3ld calls %8.2f ms  %6.1f GFLOP/s  alone ", g.m, g.n, g.k,
                    g.calls, g.seconds * 1000, g.gflops) + alone)
        }
    }

    func printText(_ r: Benchmark.OpenResult) {
        func ms(_ s: Double) -> String { String(format: "%.3f ms", s * 1000) }
        print("file:       \(r.path) (\(r.bytes) bytes), \(r.iterations) timed opens each")
        print("validate:   median \(ms(r.validateMedianSeconds)), min \(ms(r.validateMinimumSeconds))")
        print("checksums:  median \(ms(r.checksumMedianSeconds)), min \(ms(r.checksumMinimumSeconds))")
        print("model:      median \(ms(r.modelMedianSeconds)), min \(ms(r.modelMinimumSeconds))")
    }
}
