import TResNetCore
import TResNetImage
import TResNetModel

/// One image's prediction with the semantic labels of an ImageNet-21K head (`tresnet-predict --semantic-tree`):
/// the plain top classes as before, plus per level the top class when it passes 0.5 (docs/SEMANTIC.md).
public struct SemanticImagePrediction: Codable, Sendable {
    public let path: String
    public let top: [Classification]
    public let error: String?
    /// Coarse to fine; empty when no level's top class passes 0.5; nil for an unreadable image.
    public let semantic: [SemanticLabel]?

    public init(_ prediction: ImagePrediction, semantic: [SemanticLabel]?) {
        path = prediction.path
        top = prediction.top
        error = prediction.error
        self.semantic = semantic
    }

    /// The lines `tresnet-predict` prints: the path, then one line per level found, or the error.
    public var lines: [String] {
        guard error == nil else { return ["\(displaySafe(path)): unreadable: \(error ?? "")"] }
        return [displaySafe(path)] + SemanticTree.lines(semantic ?? [])
    }
}

extension SemanticTree {
    /// `  level 2  fish (n90000003)  0.7070` per label, or a line saying no level passed 0.5.
    public static func lines(_ labels: [SemanticLabel]) -> [String] {
        guard !labels.isEmpty else { return ["  semantic: no level's top class above 0.5"] }
        return labels.map {
            "  level \($0.level)  \(displaySafe($0.description, limit: 60)) (\(displaySafe($0.synset, limit: 20)))  "
                + String(format: "%.4f", $0.probability)
        }
    }

    /// The head's class index of each synset-named folder of an ImageFolder; a folder name that is not a synset
    /// of the tree is refused, naming it.
    public func targets(folderClasses: [String], root: String) throws -> [Int] {
        var index: [String: Int] = [:]
        for (i, s) in synsets.enumerated() { index[s] = i }
        return try folderClasses.map { name in
            guard let i = index[name] else {
                throw TResNetError(
                    .malformed, format: "imagefolder", at: .entry(name),
                    "folder name is not a synset of the semantic tree (\(count) synsets, e.g. "
                        + "\(displaySafe(synsets[0], limit: 20)))", file: root)
            }
            return i
        }
    }

    /// What `tresnet-predict --json` says about `top` when a tree gives the semantic labels.
    public static let plainTopNote =
        "`top` is a plain softmax over all classes, which this semantic-softmax head "
        + "was not trained with: its probabilities are not calibrated; `semantic` holds the per-level probabilities"

    /// What to tell a user who runs a 21K head without a tree; nil for other heads. The 21K heads are those of
    /// the ImageNet-21K-P label sets (fall11: 11221, winter21: 10450), trained with the semantic softmax.
    public static func missingTreeNote(numClasses: Int) -> String? {
        guard numClasses == 11221 || numClasses == 10450 else { return nil }
        return
            "this is an ImageNet-21K-P head (\(numClasses) classes) trained with a semantic softmax (one softmax per "
            + "hierarchy level): a plain softmax over all \(numClasses) classes is not what it was trained for, so "
            + "these scores are not calibrated (low, and the top class arbitrary among related ones). Pass --semantic-tree imagenet21k_miil_tree.pth for its labels "
            + "level by level (get it with `tresnet-zoo fetch tresnet_m.miil_in21k --file imagenet21k_miil_tree.pth`, "
            + "or convert with `tresnet-zoo fetch TAG --convert` to embed it in the .tw)"
    }
}

extension LoadedModel {
    /// The semantic tree: the one at `path` when given (checked against the head), else the `.tw`'s own.
    public func semanticTree(path: String?) throws -> SemanticTree? {
        if let path { return try SemanticTreeFile.read(path: path, numClasses: configuration.numClasses) }
        return metadata?.semanticTree
    }
}
