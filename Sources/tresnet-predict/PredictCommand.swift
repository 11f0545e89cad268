import Foundation
import _CLISupport
import TResNetCheckpoint
import TResNetCore
import TResNetImage
import TResNetModel
import TResNetRuntime

@main
struct PredictCommand: ParsableCommand {
    static func main() { mainReportingJSON() }

    static let configuration = CommandConfiguration(
        commandName: "tresnet-predict",
        abstract: "Run TResNet weights on images or on an input array.",
        discussion: """
            Images: tresnet-predict WEIGHTS IMAGE… decodes each image (JPEG or PNG, EXIF orientation honoured), \
            preprocesses it with the weights' settings (the .tw metadata, else timm's TResNet defaults: 224, crop \
            0.875 centre, bilinear; overridable) and prints the top classes with softmax probabilities. An \
            unreadable image is reported on stderr (one line) and the others still run (exit 2 at the end).

            Arrays: tresnet-predict WEIGHTS --input X.npy --output Y.npy writes the logits (or --tap NAME) of an \
            N×3×H×W float32 array (float16/float64 are converted) as float32 .npy; for one image it also prints \
            the top classes.

            ImageNet-21K heads: with a semantic tree (--semantic-tree, or embedded in a .tw by `tresnet-zoo fetch \
            TAG --convert`) each image's labels are printed level by level, coarse to fine, with their probability \
            within the level (levels whose top class passes 0.5); --json adds a `semantic` list per image. \
            Without a tree, a 21K head's plain softmax scores come with a note: the head was trained with a \
            semantic softmax, so they are not calibrated.

            EXAMPLES:
              tresnet-predict model.tw photo.jpg
              tresnet-predict tresnet_m.pth a.jpg b.png --img-size 448 --squash --topk 3
              tresnet-predict model.tw photo.jpg --json > prediction.json
              tresnet-predict model.tw --input x.npy --output logits.npy --force
            """,
        version: toolkitVersion)

    @Argument(help: "The weights: a .tw file or any source tresnet-convert reads (.pth, .safetensors, .onnx).")
    var weights: String

    @Argument(help: "Images to classify (JPEG, PNG).")
    var images: [String] = []

    @Option(help: "An N×3×H×W .npy input array (instead of images).")
    var input: String?

    @Option(
        help: "Where to write the logits (or the tap) as float32 .npy (with --input; an existing file needs --force).")
    var output: String?

    @Flag(help: "Replace an existing --output or --report file.")
    var force = false

    @Option(
        help: ArgumentHelp(
            "Write this activation instead of the logits (with --input): "
                + TResNetNetwork.tapNames.joined(separator: ", ") + "."))
    var tap: String?

    @Option(help: "How many classes to print per image.")
    var topk: Int?

    @Option(name: .customLong("top"), help: .hidden)
    var topAlias: Int?

    @OptionGroup var output_: ReportOptions

    @Option(
        name: .customLong("semantic-tree"),
        help: "MIIL's ImageNet-21K semantic tree (imagenet21k_miil_tree.pth) for level-by-level labels.")
    var semanticTree: String?

    @Option(name: .customLong("batch-size"), help: "Images per forward pass (default 16).")
    var batchSize: Int?

    @Option(name: .customLong("batch"), help: .hidden)
    var batchAlias: Int?

    var top: Int { topk ?? topAlias ?? 5 }
    var batch: Int { batchSize ?? batchAlias ?? 16 }
    var json: Bool { output_.json }

    @Flag(
        name: .customLong("multi-label"),
        help: "Sigmoid scores per class (on by itself for ML-Decoder heads and .tw files whose card says so).")
    var multiLabel = false

    @Option(help: "Multi-label: report classes whose score passes this (default: the model card's, else 0.75).")
    var threshold: Double?

    @OptionGroup var preprocessing: PreprocessingOptions

    @OptionGroup var model: ModelOptions

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--topk must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let output, !output.hasSuffix(".npy") { throw ValidationError("--output must end in .npy") }
        if let tap, !TResNetNetwork.tapNames.contains(tap) {
            throw ValidationError(
                "unknown --tap '\(displaySafe(tap))'; taps are "
                    + TResNetNetwork.tapNames.joined(separator: ", "))
        }
        if input != nil {
            guard images.isEmpty else { throw ValidationError("give images or --input, not both") }
            guard output != nil else { throw ValidationError("--input needs --output") }
        } else {
            guard !images.isEmpty else {
                throw ValidationError("give at least one image, or --input X.npy --output Y.npy")
            }
            guard output == nil, tap == nil else { throw ValidationError("--output and --tap need --input") }
        }
    }

    func run() throws {
        try runMain("tresnet-predict", json: json) {
            if let output { _ = try ReportFile(checking: output, overwrite: force) }
            let report = try output_.reportFile(force: force)
            let loaded = try model.load(weights)
            let tree = try loaded.semanticTree(path: semanticTree)
            if let input, let output {
                try predictArray(loaded, input: input, output: output, tree: tree, report: report)
            } else {
                try predictImages(loaded, tree: tree, report: report)
            }
        }
    }

    func predictArray(
        _ loaded: LoadedModel, input: String, output: String, tree: SemanticTree?,
        report: ReportFile?
    ) throws {
        let (x, convertedFrom) = try Prediction.readInput(path: input)
        if let from = convertedFrom {
            printError("tresnet-predict: note: \(input) is \(from.rawValue); converted to float32")
        }
        let network = try loaded.network()
        let y = try TResNetError.naming(input) { try Prediction.run(network, input: x, tap: tap) }
        try NpyArray.write(y, to: output)
        var result = PredictReport(weights: weights, output: output, tap: tap ?? "logits", shape: y.shape)
        if tap == nil {
            let labels = try loaded.labelNames()?.names
            let n = y.shape[0], classes = y.shape[1]
            let flat = try y.floats()
            let rows = try Prediction.ranked(y, labels: labels, k: top)
            result.predictions = (0..<n).map { i in
                let semantic = tree?.labels(Array(flat[(i * classes)..<((i + 1) * classes)]))
                return SemanticImagePrediction(
                    ImagePrediction(path: "\(input)[\(i)]", top: rows[i], error: nil),
                    semantic: semantic)
            }
            if tree == nil, let note = SemanticTree.missingTreeNote(numClasses: loaded.configuration.numClasses) {
                result.notes.append(note)
            }
        }
        try report?.write(result)
        if json { try printJSON(result); return }
        print("wrote \(tap ?? "logits") \(formatShape(y.shape)) float32 to \(output)")
        for note in result.notes { printError("tresnet-predict: note: " + note) }
        if tap == nil, y.shape.first == 1, tree == nil {
            print(
                ImagePrediction(path: input, top: result.predictions[0].top, error: nil).lines.joined(separator: "\n"))
        }
        if tree != nil {
            for p in result.predictions { print(p.lines.joined(separator: "\n")) }
        }
    }

    func predictImages(_ loaded: LoadedModel, tree: SemanticTree?, report: ReportFile?) throws {
        if multiLabel || loaded.isMultiLabel { return try predictMultiLabel(loaded, report: report) }
        let classifier = try preprocessing.classifier(for: loaded)
        var semantic: [Int: [SemanticLabel]] = [:]
        let predictions = try classifier.classify(paths: images, topK: top, batchSize: batch) { i, logits in
            if let tree { semantic[i] = tree.labels(logits) }
        }
        var result = PredictReport(weights: weights)
        result.predictions = predictions.enumerated().map { SemanticImagePrediction($1, semantic: semantic[$0]) }
        if tree == nil, let note = SemanticTree.missingTreeNote(numClasses: loaded.configuration.numClasses) {
            result.notes.append(note)
        }
        if tree != nil { result.notes.append(SemanticTree.plainTopNote) }
        try report?.write(result)
        // refusals go to stderr, one line each naming the file; predictions to stdout
        for p in predictions where !p.isReadable {
            let error = p.error ?? "", path = displaySafe(p.path)
            printError("tresnet-predict: " + (error.hasPrefix(path + ":") ? error : "\(path): \(error)"))
        }
        if json {
            try printJSON(result)
        } else {
            for note in result.notes { print("note: " + note) }
            let readable: [String] =
                tree != nil
                ? result.predictions.filter { $0.error == nil }.flatMap(\.lines)
                : predictions.filter(\.isReadable).flatMap(\.lines)
            if !readable.isEmpty { print(readable.joined(separator: "\n")) }
        }
        // bad input (exit 2, docs/ERRORS.md) once every readable image was classified; each one was named above
        let unreadable = predictions.filter { !$0.isReadable }.count
        if unreadable > 0 {
            if predictions.count > 1 {
                printError("tresnet-predict: \(unreadable) of \(predictions.count) images could not be read")
            }
            throw ExitCode(TResNetError.Code.malformed.exitCode)
        }
    }
}

/// What `tresnet-predict --json` prints (docs/JSON.md).
struct PredictReport: Encodable {
    var weights: String
    /// Array mode: the .npy written, which activation, its shape.
    var output: String?
    var tap: String?
    var shape: [Int]?
    var predictions: [SemanticImagePrediction] = []
    /// Caveats, e.g. that a 21K head's plain softmax is not what it was trained with.
    var notes: [String] = []
}
