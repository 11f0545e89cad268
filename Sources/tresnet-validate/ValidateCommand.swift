import Foundation
import _CLISupport
import TResNetCore
import TResNetImage
import TResNetModel

/// `tresnet-validate WEIGHTS --val-dir DIR [--batch-size B] [--limit N] [--shard K/N] [--json] [--report PATH]`:
/// top-1/top-5 on an ImageFolder with the weight's preprocessing (overridable), progress on stderr, unreadable
/// images listed; `--merge REPORT…` adds shard reports up.
@main
struct Validate: ParsableCommand {
    static func main() { mainReportingJSON() }

    static let configuration = CommandConfiguration(
        commandName: "tresnet-validate",
        abstract: "Top-1/top-5 of TResNet weights on an ImageFolder (root/<class>/<image>, classes sorted).",
        discussion: """
            Preprocessing comes from the weights (the .tw metadata, else timm's TResNet defaults: 224, crop 0.875 \
            centre, bilinear) and can be overridden. Class k of the folder is class index k of the head. \
            Unreadable images are counted, listed and skipped; the run completes and exits 2 (bad input) when \
            there was any.

            With --semantic-tree (MIIL's imagenet21k_miil_tree.pth) the folder names are synset ids: each folder \
            is the tree's class of that synset, and the semantic top-1 of ImageNet-21K-P (docs/SEMANTIC.md) is \
            reported next to the plain top-1/top-5.

            Scale-out: --shard K/N validates sample i of the folder when i mod N = K − 1 (deterministic), so N jobs \
            (a Slurm array, Kubernetes Jobs, GNU parallel) cover the folder once; --merge R1.json … RN.json adds \
            their --report files up to the exact totals of one run.

            EXAMPLES:
              tresnet-validate model.tw --val-dir imagenet/val
              tresnet-validate model.tw --val-dir imagenet/val --img-size 448 --squash --batch-size 8 --json
              tresnet-validate model.tw --val-dir imagenet/val --shard 3/8 --report shard3.json
              tresnet-validate --merge shard*.json --report total.json
            """,
        version: toolkitVersion)

    @Argument(help: "The weights: a .tw file or any source tresnet-convert reads (.pth, .safetensors, .onnx).")
    var weights: String?

    @Option(name: .customLong("val-dir"), help: "The ImageFolder root.")
    var valDir: String?

    @Flag(
        name: .customLong("multi-label"),
        help: "Multi-label mAP over a COCO-format annotation file (--annotations, --images) instead of top-1/top-5.")
    var multiLabel = false

    @Option(help: "With --multi-label: a COCO-format annotation file (instances_*.json); class k is its k-th category.")
    var annotations: String?

    @Option(
        name: .customLong("images"),
        help: "With --multi-label: the folder the annotation file's file_name values are in.")
    var imagesDir: String?

    @Option(name: .customLong("batch-size"), help: "Images per forward pass (default 16).")
    var batchSize: Int?

    @Option(name: .customLong("batch"), help: .hidden)
    var batchAlias: Int?

    @Option(help: "Only the first N images (folder order).")
    var limit: Int?

    @Option(help: ArgumentHelp("Only sample i of the folder when i mod N = K − 1 (after --limit).", valueName: "K/N"))
    var shard: String?

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Add up shard reports (--report files of --shard runs) instead of validating.", valueName: "report"))
    var merge: [String] = []

    @Option(
        name: .customLong("semantic-tree"),
        help: "MIIL's ImageNet-21K semantic tree: folders are synsets; adds the semantic accuracy.")
    var semanticTree: String?

    @OptionGroup var preprocessing: PreprocessingOptions

    @OptionGroup var output: ReportOptions

    @Flag(help: "Replace an existing --report file.")
    var force = false

    @Flag(help: "No progress (on a terminal a redrawn line, elsewhere a line every 5 s).")
    var quiet = false

    @OptionGroup var model: ModelOptions

    var batch: Int { batchSize ?? batchAlias ?? 16 }

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let shard {
            do { _ = try ValidationShard(parsing: shard) } catch let e as TResNetError {
                throw ValidationError(e.message)
            }
        }
        if multiLabel {
            guard weights != nil, annotations != nil, imagesDir != nil else {
                throw ValidationError("--multi-label needs WEIGHTS, --annotations and --images")
            }
            guard valDir == nil, semanticTree == nil, shard == nil, merge.isEmpty else {
                throw ValidationError("--multi-label takes no --val-dir, --semantic-tree, --shard or --merge")
            }
        } else if merge.isEmpty {
            guard weights != nil, valDir != nil else {
                throw ValidationError("give WEIGHTS and --val-dir DIR (or --merge REPORT…)")
            }
        } else {
            guard weights == nil, valDir == nil, shard == nil, limit == nil, semanticTree == nil else {
                throw ValidationError("--merge takes only shard reports (and --json, --report, --force)")
            }
        }
    }

    func run() throws {
        try runMain("tresnet-validate", json: output.json) {
            let reportFile = try output.reportFile(force: force)
            if multiLabel { return try runMultiLabel(reportFile) }
            let report = merge.isEmpty ? try validation() : try merged()
            try output.emit(report, to: reportFile) { print(report.summary) }
            if !report.unreadable.isEmpty {
                // bad input (docs/ERRORS.md), as tresnet-predict: the run completed, the files are listed above
                printError("tresnet-validate: \(report.unreadable.count) of \(report.samples) images could not be read")
                throw ExitCode(TResNetError.Code.malformed.exitCode)
            }
        }
    }

    func validation() throws -> ValidationReport {
        guard let weights, let valDir else { throw TResNetError(.usage, "give WEIGHTS and --val-dir DIR") }
        let shard = try self.shard.map(ValidationShard.init(parsing:))
        let loaded = try model.load(weights)
        let classifier = try preprocessing.classifier(for: loaded)
        let folder = try ImageFolder.scan(root: valDir)
        let tree = try loaded.semanticTree(path: semanticTree)
        let targets = try tree?.targets(folderClasses: folder.classes, root: valDir)
        var score = SemanticScore()
        printError(
            "\(folder.samples.count) images in \(folder.classes.count) classes"
                + (shard.map { "; shard \($0)" } ?? "")
                + "; \(loaded.configuration); preprocessing: \(classifier.preprocessing.config)")
        let progress = ProgressReporter(label: "validating", unit: .items("images"), mode: .automatic(quiet: quiet))
        var report = try Validation.run(
            folder: folder, classifier: classifier, batchSize: batch, limit: limit,
            shard: shard, progress: { p in progress.update(p.done, total: p.total) },
            targets: targets,
            observe: { target, logits in
                if let tree { score += tree.score(logits, target: target) }
            })
        progress.finish()
        if tree != nil {
            report.semanticCorrect = score.correct
            report.semanticValid = score.valid
            report.semanticAccuracy = score.accuracy ?? 0
        }
        return report
    }

    func merged() throws -> ValidationReport {
        let reports = try merge.map { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TResNetError.io(path, "cannot read")
            }
            do {
                return try JSONDecoder().decode(ValidationReport.self, from: data)
            } catch {
                throw TResNetError(
                    .malformed, format: "json", "not a tresnet-validate report",
                    file: path, cause: displaySafe("\(error)", limit: 160))
            }
        }
        return try ValidationReport.merge(reports)
    }
}
