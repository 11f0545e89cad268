import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// The tiny model through TResNetImage's pipeline against PyTorch's run on the PIL/timm reference tensors.
@Suite struct ClassifierTests {
    static func modelConfig(_ manifest: ImageManifest) throws -> PreprocessingConfig {
        try DecodeAndPreprocessTests.config(try #require(manifest.policies[manifest.model_policy]))
    }

    @Test func top5OnTestImagesEqualsPyTorch() throws {
        let manifest = try ImageManifest.load()
        let classifier = try ImageClassifier(preprocessing: try Self.modelConfig(manifest), run: try TinyModel.runner())
        let paths = manifest.images.map { ImageManifest.folder + "/" + $0.file }
        let predictions = try classifier.classify(paths: paths, topK: 5, batchSize: 7)
        try #require(predictions.count == manifest.images.count)
        var maxLogitDiff = 0.0
        for (record, prediction) in zip(manifest.images, predictions) {
            #expect(prediction.error == nil)
            #expect(prediction.top.map(\.index) == record.tiny_v1.top5, "\(record.file)")
            for c in prediction.top {
                let reference = record.tiny_v1.logits[c.index]
                maxLogitDiff = max(maxLogitDiff, abs(c.logit - reference))
                // docs/PARITY.md's element rule, atol = rtol = 1e-4
                #expect(abs(c.logit - reference) <= 1e-4 + 1e-4 * abs(reference), "\(record.file) logit \(c.index)")
            }
            for (c, p) in zip(prediction.top, record.tiny_v1.softmax_top5) {
                #expect(abs(c.probability - p) < 1e-4, "\(record.file) class \(c.index)")
            }
        }
        // the ranked logits are far apart compared with the float difference between the two forward passes
        let smallestGap = manifest.images.map(\.tiny_v1.min_gap_top6).min() ?? 0
        print(
            "tiny_v1 top-5 on \(predictions.count) images: max |logit − PyTorch| \(maxLogitDiff), "
                + "smallest top-6 gap \(smallestGap)")
    }

    @Test func unreadableFilesAreReportedNotFatal() throws {
        let manifest = try ImageManifest.load()
        let classifier = try ImageClassifier(
            preprocessing: try Self.modelConfig(manifest), labels: (0..<10).map { "c\($0)" },
            run: try TinyModel.runner())
        let good = ImageManifest.folder + "/" + manifest.images[0].file
        let bad = ImageManifest.folder + "/corrupt_truncated.jpg"
        let predictions = try classifier.classify(paths: [bad, good], topK: 3)
        #expect(predictions.map(\.path) == [bad, good])
        #expect(predictions[0].top.isEmpty)
        #expect(predictions[0].error?.contains("corrupt_truncated.jpg") == true)
        #expect(predictions[1].top.map(\.index) == Array(manifest.images[0].tiny_v1.top5.prefix(3)))
        #expect(predictions[1].top.map(\.label) == predictions[1].top.map { "c\($0.index)" })
    }

    @Test func aRunnerAnsweringTheWrongShapeIsRefused() throws {
        let classifier = try ImageClassifier(preprocessing: .timm(inputSize: 32)) { input in
            Tensor(shape: [input.shape[0] + 1, 4], floats: Array(repeating: 0, count: (input.shape[0] + 1) * 4))
        }
        let image = ResampleTests.pattern(width: 40, height: 40)
        #expect(throws: TResNetError.self) { try classifier.logits([image]) }
    }

    @Test func softmaxAndTopK() {
        #expect(ImageClassifier.topK([1, 3, 3, 2], k: 3) == [1, 2, 3])
        let p = ImageClassifier.softmax([0, Float(log(3.0))])
        #expect(abs(p[0] - 0.25) < 1e-7 && abs(p[1] - 0.75) < 1e-7)
    }
}
