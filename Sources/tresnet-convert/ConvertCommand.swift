import _CLISupport
import TResNetCore
import TResNetModel

@main
struct ConvertCommand: ParsableCommand {
    static func main() { mainReportingJSON() }

    static let configuration = CommandConfiguration(
        commandName: "tresnet-convert",
        abstract: "Convert a TResNet checkpoint to the native .tw format (or to a clean timm .safetensors).",
        discussion: """
            The dialect (current timm or official MIIL spelling) and the architecture are detected from the \
            tensors and explained. Binding is strict: every missing, unexpected or mis-shaped tensor is reported \
            at once (exit 2). Writing is atomic: on any failure nothing appears at OUTPUT. An OUTPUT ending in \
            .safetensors gets the canonical timm state dict, loadable by timm as it is, and one ending in .onnx an \
            ONNX graph (docs/ONNX.md); OUTPUT's extension decides \
            the format, and any other extension is refused (exit 64). Progress (bytes written, rate, ETA) goes to \
            stderr for outputs of 32 MiB or more: redrawn on a terminal, a line every 5 s elsewhere.

            EXAMPLES:
              tresnet-convert tresnet_m.pth tresnet_m.tw
              tresnet-convert tresnet_m_miil_in21k.pth model.tw --dtype f16 --force
              tresnet-convert model.tw model.safetensors
              tresnet-convert checkpoint.pth model.tw --dry-run --show-mapping
              tresnet-convert checkpoint.pth model.tw --json
            """,
        version: toolkitVersion)

    @Argument(
        help:
            "The checkpoint to read (.pth, .pt, .ckpt, .bin, .safetensors, .onnx, .tw) or a Hugging Face hub folder (config.json + weights)."
    )
    var source: String

    @Argument(help: "The file to write: OUTPUT.tw, or OUTPUT.safetensors for a timm-spelling state dict.")
    var output: String

    @Option(help: "Output dtype: keep, f32, f16 or bf16 (BatchNorm tensors stay f32 with f16/bf16).")
    var dtype: String = "keep"

    @Option(help: "Force a zoo variant: tresnet_m, tresnet_l, tresnet_xl, tresnet_v2_l.")
    var variant: String?

    @Option(help: "Force the class count (with --variant; default: from head.fc.weight).")
    var numClasses: Int?

    @Option(help: "Force the source spelling: timm or miil.")
    var dialect: String?

    @OptionGroup var checkpoint: CheckpointOptions

    @Option(
        name: .customLong("semantic-tree"),
        help: "Embed MIIL's ImageNet-21K semantic tree (imagenet21k_miil_tree.pth) in the .tw.")
    var semanticTree: String?

    @Flag(help: "Ignore tensors the model does not use (they are listed); missing tensors are never tolerated.")
    var allowUnexpected = false

    @Flag(help: "Replace an existing OUTPUT.")
    var force = false

    @Flag(help: "Read, map and bind, print the summary, write nothing.")
    var dryRun = false

    @Flag(help: "Print every renamed tensor (name in the file → canonical timm name).")
    var showMapping = false

    @Flag(help: "Print only errors.")
    var quiet = false

    @OptionGroup var zoo: ZooSourceOptions

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard OutputDType(rawValue: dtype) != nil else {
            throw ValidationError("--dtype must be one of keep, f32, f16, bf16")
        }
        guard [".tw", ".safetensors", ".onnx"].contains(where: { output.hasSuffix($0) }) else {
            throw ValidationError(
                "OUTPUT must end in .tw (native), .safetensors (timm state dict) or .onnx: the "
                    + "extension decides the format, not '\(displaySafe(output))'")
        }
        if let numClasses, numClasses < 1 { throw ValidationError("--num-classes must be at least 1") }
        try ModelOptions.check(variant: variant, dialect: dialect)
    }

    func run() throws {
        let dtype = OutputDType(rawValue: dtype)!
        var options = Conversion.Options()
        options.dtype = dtype
        options.variant = variant
        options.numClasses = numClasses
        options.dialect = dialect
        checkpoint.apply(to: &options)
        options.binding = BindingOptions(allowUnexpected: allowUnexpected)
        options.overwrite = force
        options.dryRun = dryRun
        let progress = ProgressReporter(
            label: "writing \(output)", unit: .bytes, mode: .automatic(quiet: quiet || report.json))
        options.progress = { done, total in
            guard total >= 32 << 20 else { return }
            progress.update(done, total: total)
            if done >= total { progress.finish() }
        }
        // Binding reports list one tensor per line: keep their newlines.
        try runMain("tresnet-convert", keepingNewlines: true, json: report.json) {
            var options = options
            let file = try report.reportFile(force: force)
            let source = try zoo.resolve(source)
            if let semanticTree { options.semanticTree = try SemanticTreeFile.read(path: semanticTree) }
            let summary = try Conversion.convert(source: source, output: output, options: options)
            try report.emit(summary, to: file) {
                if !quiet { for line in summary.lines { print(line) } }
                if showMapping {
                    print("mapping:      \(summary.renamed.count) renamed tensors")
                    for line in summary.mappingLines { print(line) }
                }
            }
        }
    }
}
