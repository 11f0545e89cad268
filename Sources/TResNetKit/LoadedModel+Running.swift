import TResNetCore
import TResNetImage
import TResNetModel
import TResNetRuntime
import TResNetZoo

extension LoadedModel {
    /// The preprocessing recorded with the weights (`.tw` metadata), else timm's defaults for every published
    /// TResNet (224, crop 0.875 centre, bilinear, mean 0, std 1).
    public var preprocessing: PreprocessingConfig { metadata?.preprocessing ?? .tresnetDefault }

    /// Class names for the head: nil when the label set is unknown (`labelSet` empty, e.g. a custom head); a
    /// label set whose size differs from the head is refused (`LabelNames.forHead`).
    public func labelNames() throws -> LabelNames? {
        let id = labelSet
        guard !id.isEmpty else { return nil }
        return try LabelNames.forHead(id, numClasses: configuration.numClasses)
    }

    /// The compiled network as a batch runner for `ImageClassifier` and `Validation`.
    public func batchRunner() throws -> BatchRunner {
        let network = try network()
        return { input in try network.forward(input).logits }
    }
}
