import Foundation
import _CLISupport

/// `tresnet-validate WEIGHTS --val-dir DIR [--batch B] [--limit N] [--json PATH]`: top-1/top-5 on an ImageFolder
/// with the weight's preprocessing (overridable), a progress bar on stderr, unreadable images listed.
@main
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tresnet-validate",
        abstract: "Top-1/top-5 of TResNet weights on an ImageFolder (root/<class>/<image>, classes sorted).")

    @Argument(help: "The weights (.tw, .pth, .safetensors).")
    var weights: String

    @Option(name: .customLong("val-dir"), help: "The ImageFolder root.")
    var valDir: String

    @Option(help: "Images per forward pass.")
    var batch = 32

    @Option(help: "Only the first N images (folder order).")
    var limit: Int?

    @Option(help: "Write the report (per-image predicted indices included) as JSON to PATH.")
    var json: String?

    @Option(name: .customLong("input-size"), help: "Override the network input side.")
    var inputSize: Int?

    @Option(name: .customLong("crop-pct"), help: "Override the crop fraction (resize to floor(size / crop_pct)).")
    var cropPct: Double?

    @Option(name: .customLong("crop-mode"), help: "Override: center or squash.")
    var cropMode: String?

    @Option(help: "Override: bilinear or bicubic.")
    var interpolation: String?

    @Flag(help: "The official MIIL 448 policy: squash to size × size, no crop (crop_pct 1, squash).")
    var squish = false

    @Flag(help: "No progress bar.")
    var quiet = false

    func run() throws {
        do {
            try execute()
        } catch let e as TResNetError {
            FileHandle.standardError.write(Data("tresnet-validate: \(e.description)\n".utf8))
            throw ExitCode(e.code.exitCode)
        }
    }

    func execute() throws {
        let loaded = try WeightsStub.load(weights)
        let overrides = PreprocessingOverrides(inputSize: inputSize, cropPct: cropPct, cropMode: cropMode,
                                               interpolation: interpolation, squish: squish)
        let config = try overrides.applied(to: loaded.preprocessing)
        let classifier = try ImageClassifier(preprocessing: config, labels: loaded.labels, run: loaded.run)
        let folder = try ImageFolder.scan(root: valDir)
        FileHandle.standardError.write(Data("""
            \(folder.samples.count) images in \(folder.classes.count) classes; preprocessing: \(config)

            """.utf8))
        let interactive = !quiet
        let report = try Validation.run(folder: folder, classifier: classifier, batchSize: batch, limit: limit) { p in
            guard interactive else { return }
            FileHandle.standardError.write(Data(("\r" + p.bar()).utf8))
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        print(report.summary)
        if let json {
            let file = try AtomicFile(destination: json, overwrite: true)
            try file.write([UInt8](try report.json()))
            try file.commit()
        }
    }
}

/// STUB — the integrator replaces this with real weight loading (open any source, bind, build the runtime
/// network, read the preprocessing from the `.tw` metadata with `PreprocessingConfig(metadata:)`).
enum WeightsStub {
    struct Loaded {
        let run: BatchRunner
        let preprocessing: PreprocessingConfig
        let labels: [String]?
    }

    static func load(_ path: String) throws -> Loaded {
        throw TResNetError(.unsupported, "weight loading is not wired into tresnet-validate yet", file: path)
    }
}
