#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import _CLISupport
import TResNetCore
import TResNetImage
import TResNetModel

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

            With --semantic-tree (MIIL's imagenet21k_miil_tree.pth) the folder names are synset ids: each folder \
            is the tree's class of that synset, and the semantic top-1 of ImageNet-21K-P (docs/SEMANTIC.md) is \
            reported next to the plain top-1/top-5.
            """)

    @Argument(help: "The weights: a .tw file or any source tresnet-convert reads (.pth, .safetensors, .onnx).")
    var weights: String

    @Option(name: .customLong("val-dir"), help: "The ImageFolder root.")
    var valDir: String?

    @Flag(name: .customLong("multi-label"),
          help: "Multi-label mAP over a COCO-format annotation file (--annotations, --images) instead of top-1/top-5.")
    var multiLabel = false

    @Option(help: "With --multi-label: a COCO-format annotation file (instances_*.json); class k is its k-th category.")
    var annotations: String?

    @Option(name: .customLong("images"), help: "With --multi-label: the folder the annotation file's file_name values are in.")
    var imagesDir: String?

    @Option(help: "Images per forward pass.")
    var batch = 32

    @Option(help: "Only the first N images (folder order).")
    var limit: Int?

    @Option(help: "Write the report (per-image predicted indices included) as JSON to PATH.")
    var json: String?

    @Option(name: .customLong("semantic-tree"),
            help: "MIIL's ImageNet-21K semantic tree: folders are synsets; adds the semantic accuracy.")
    var semanticTree: String?

    @OptionGroup var preprocessing: PreprocessingOptions

    @Flag(help: "No progress bar (there is none when stderr is not a terminal).")
    var quiet = false

    @OptionGroup var model: ModelOptions

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if multiLabel {
            guard annotations != nil, imagesDir != nil else { throw ValidationError("--multi-label needs --annotations and --images") }
            guard valDir == nil, semanticTree == nil else { throw ValidationError("--multi-label takes no --val-dir or --semantic-tree") }
        } else {
            guard valDir != nil else { throw ValidationError("give --val-dir (or --multi-label with --annotations and --images)") }
        }
    }

    func run() throws {
        try runMain("tresnet-validate") {
            if multiLabel { return try runMultiLabel() }
            guard let valDir else { return }
            let loaded = try model.load(weights)
            let config = try loaded.preprocessingConfig(preprocessing.overrides)
            let labels = try loaded.labelNames()?.names
            let classifier = try ImageClassifier(preprocessing: config, labels: labels, limits: preprocessing.limits,
                                             run: try loaded.batchRunner())
            let folder = try ImageFolder.scan(root: valDir)
            let tree = try loaded.semanticTree(path: semanticTree)
            let targets = try tree?.targets(folderClasses: folder.classes, root: valDir)
            var score = SemanticScore()
            printError("\(folder.samples.count) images in \(folder.classes.count) classes; "
                       + "\(loaded.configuration); preprocessing: \(config)")
            let interactive = !quiet && isatty(2) == 1
            var report = try Validation.run(folder: folder, classifier: classifier, batchSize: batch, limit: limit,
                                            progress: { p in
                guard interactive else { return }
                FileHandle.standardError.write(Data(("\r" + p.bar()).utf8))
            }, targets: targets, observe: { target, logits in
                if let tree { score += tree.score(logits, target: target) }
            })
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            if tree != nil {
                report.semanticCorrect = score.correct
                report.semanticValid = score.valid
                report.semanticAccuracy = score.accuracy ?? 0
            }
            print(report.summary)
            if let json {
                try writeFileAtomically(json, [UInt8](try report.json()) + [0x0A])
            }
        }
    }
}
