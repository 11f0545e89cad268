#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import _CLISupport

/// `tresnet-validate WEIGHTS --val-dir DIR [--batch B] [--limit N] [--json PATH]`: top-1/top-5 on an ImageFolder
/// with the weight's preprocessing (overridable), a progress bar on stderr, unreadable images listed.
@main
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tresnet-validate",
        abstract: "Top-1/top-5 of TResNet weights on an ImageFolder (root/<class>/<image>, classes sorted).",
        discussion: """
            Preprocessing comes from the weights (the .tw metadata, else timm's TResNet defaults: 224, crop 0.875 \
            centre, bilinear) and can be overridden. Class k of the folder is class index k of the head. \
            Unreadable images are counted and listed, never fatal.
            """)

    @Argument(help: "The weights: a .tw file or any source tresnet-convert reads (.pth, .safetensors, .onnx).")
    var weights: String

    @Option(name: .customLong("val-dir"), help: "The ImageFolder root.")
    var valDir: String

    @Option(help: "Images per forward pass.")
    var batch = 32

    @Option(help: "Only the first N images (folder order).")
    var limit: Int?

    @Option(help: "Write the report (per-image predicted indices included) as JSON to PATH.")
    var json: String?

    @OptionGroup var preprocessing: PreprocessingOptions

    @Flag(help: "No progress bar (there is none when stderr is not a terminal).")
    var quiet = false

    @OptionGroup var model: ModelOptions

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        try runMain("tresnet-validate") {
            let loaded = try model.load(weights)
            let config = try loaded.preprocessingConfig(preprocessing.overrides)
            let labels = try loaded.labelNames()?.names
            let classifier = try ImageClassifier(preprocessing: config, labels: labels, limits: preprocessing.limits,
                                             run: try loaded.batchRunner())
            let folder = try ImageFolder.scan(root: valDir)
            printError("\(folder.samples.count) images in \(folder.classes.count) classes; "
                       + "\(loaded.configuration); preprocessing: \(config)")
            let interactive = !quiet && isatty(2) == 1
            let report = try Validation.run(folder: folder, classifier: classifier, batchSize: batch, limit: limit) { p in
                guard interactive else { return }
                FileHandle.standardError.write(Data(("\r" + p.bar()).utf8))
            }
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            print(report.summary)
            if let json {
                try writeFileAtomically(json, [UInt8](try report.json()) + [0x0A])
            }
        }
    }
}
