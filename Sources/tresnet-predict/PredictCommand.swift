import Foundation
import _CLISupport
import TResNetCheckpoint
import TResNetCore
import TResNetImage
import TResNetModel
import TResNetRuntime

@main
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tresnet-predict",
        abstract: "Run TResNet weights on images or on an input array.",
        discussion: """
            Images: tresnet-predict WEIGHTS IMAGE… decodes each image (JPEG or PNG, EXIF orientation honoured), \
            preprocesses it with the weights' settings (the .tw metadata, else timm's TResNet defaults: 224, crop \
            0.875 centre, bilinear; overridable) and prints the top classes with softmax probabilities. An \
            unreadable image is reported and the others still run (exit 2 at the end).

            Arrays: tresnet-predict WEIGHTS --input X.npy --output Y.npy writes the logits (or --tap NAME) of an \
            N×3×H×W float32 array (float16/float64 are converted) as float32 .npy; for one image it also prints \
            the top classes.

            ImageNet-21K heads: with a semantic tree (--semantic-tree, or embedded in a .tw by `tresnet-zoo fetch \
            TAG --convert`) each image's labels are printed level by level, coarse to fine, with their probability \
            within the level (levels whose top class passes 0.5); --json adds a `semantic` list per image.
            """)

    @Argument(help: "The weights: a .tw file or any source tresnet-convert reads (.pth, .safetensors, .onnx).")
    var weights: String

    @Argument(help: "Images to classify (JPEG, PNG).")
    var images: [String] = []

    @Option(help: "An N×3×H×W .npy input array (instead of images).")
    var input: String?

    @Option(help: "Where to write the logits (or the tap) as float32 .npy (with --input).")
    var output: String?

    @Option(help: ArgumentHelp("Write this activation instead of the logits (with --input): "
                               + TResNetNetwork.tapNames.joined(separator: ", ") + "."))
    var tap: String?

    @Option(help: "How many classes to print per image.")
    var top = 5

    @Flag(help: "Print the image predictions as a JSON array.")
    var json = false

    @Option(name: .customLong("semantic-tree"),
            help: "MIIL's ImageNet-21K semantic tree (imagenet21k_miil_tree.pth) for level-by-level labels.")
    var semanticTree: String?

    @Option(help: "Images per forward pass.")
    var batch = 16

    @Flag(name: .customLong("multi-label"),
          help: "Sigmoid scores per class (on by itself for ML-Decoder heads and .tw files whose card says so).")
    var multiLabel = false

    @Option(help: "Multi-label: report classes whose score passes this (default: the model card's, else 0.75).")
    var threshold: Double?

    @OptionGroup var preprocessing: PreprocessingOptions

    @OptionGroup var model: ModelOptions

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if input != nil {
            guard images.isEmpty else { throw ValidationError("give images or --input, not both") }
            guard output != nil else { throw ValidationError("--input needs --output") }
        } else {
            guard !images.isEmpty else { throw ValidationError("give at least one image, or --input X.npy --output Y.npy") }
            guard output == nil, tap == nil else { throw ValidationError("--output and --tap need --input") }
        }
    }

    func run() throws {
        try runMain("tresnet-predict") {
            let loaded = try model.load(weights)
            let tree = try loaded.semanticTree(path: semanticTree)
            if let input, let output {
                try predictArray(loaded, input: input, output: output, tree: tree)
            } else {
                try predictImages(loaded, tree: tree)
            }
        }
    }

    func predictArray(_ loaded: LoadedModel, input: String, output: String, tree: SemanticTree?) throws {
        let (x, convertedFrom) = try Prediction.readInput(path: input)
        if let from = convertedFrom {
            printError("tresnet-predict: note: \(input) is \(from.rawValue); converted to float32")
        }
        let network = try loaded.network()
        let y = try TResNetError.naming(input) { try Prediction.run(network, input: x, tap: tap) }
        try NpyArray.write(y, to: output)
        print("wrote \(tap ?? "logits") \(formatShape(y.shape)) float32 to \(output)")
        if tap == nil, y.shape.first == 1 {
            let labels = try loaded.labelNames()?.names
            let row = try Prediction.ranked(y, labels: labels, k: top)[0]
            print(ImagePrediction(path: input, top: row, error: nil).lines.joined(separator: "\n"))
        }
        if tap == nil, let tree {
            let n = y.shape[0], classes = y.shape[1]
            let flat = try y.floats()
            for i in 0..<n {
                print("\(input)[\(i)]")
                print(SemanticTree.lines(tree.labels(Array(flat[(i * classes)..<((i + 1) * classes)])))
                    .joined(separator: "\n"))
            }
        } else if tap == nil, SemanticTree.isImageNet21KHead(numClasses: loaded.configuration.numClasses) {
            printError("tresnet-predict: note: " + SemanticTree.missingTreeNote(numClasses: loaded.configuration.numClasses))
        }
    }

    func predictImages(_ loaded: LoadedModel, tree: SemanticTree?) throws {
        if multiLabel || loaded.isMultiLabel { return try predictMultiLabel(loaded) }
        let config = try loaded.preprocessingConfig(preprocessing.overrides)
        let labels = try loaded.labelNames()?.names
        let classifier = try ImageClassifier(preprocessing: config, labels: labels, limits: preprocessing.limits,
                                             run: try loaded.batchRunner())
        var semantic: [Int: [SemanticLabel]] = [:]
        let predictions = try classifier.classify(paths: images, topK: top, batchSize: batch) { i, logits in
            if let tree { semantic[i] = tree.labels(logits) }
        }
        let is21K = SemanticTree.isImageNet21KHead(numClasses: loaded.configuration.numClasses)
        if json {
            if tree != nil {
                try printJSON(predictions.enumerated().map { SemanticImagePrediction($1, semantic: semantic[$0]) })
            } else {
                if is21K {
                    printError("tresnet-predict: note: " + SemanticTree.missingTreeNote(numClasses: loaded.configuration.numClasses))
                }
                try printJSON(predictions)
            }
        } else {
            // refusals go to stderr, one line each naming the file; predictions to stdout
            for p in predictions where !p.isReadable { printError("tresnet-predict: " + p.lines.joined()) }
            if tree == nil, is21K {
                print("note: " + SemanticTree.missingTreeNote(numClasses: loaded.configuration.numClasses))
            }
            let readable: [String] = tree != nil
                ? predictions.enumerated().filter { $1.isReadable }
                    .flatMap { SemanticImagePrediction($1, semantic: semantic[$0]).lines }
                : predictions.filter(\.isReadable).flatMap(\.lines)
            if !readable.isEmpty { print(readable.joined(separator: "\n")) }
        }
        let unreadable = predictions.filter { !$0.isReadable }.count
        if unreadable > 0 {
            throw TResNetError(.malformed, format: "image", "\(unreadable) of \(predictions.count) images could not be read")
        }
    }
}
