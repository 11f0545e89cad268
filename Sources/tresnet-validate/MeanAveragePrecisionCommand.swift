import Foundation
import _CLISupport
import TResNetCore
import TResNetImage
import TResNetKit

extension Validate {
    /// `--multi-label`: sigmoid scores of every annotated image, mAP and per-class AP (docs/MULTILABEL.md).
    func runMultiLabel(_ reportFile: ReportFile?) throws {
        guard let weights, let annotations, let imagesDir else { return }
        let loaded = try model.load(weights)
        let classifier = try preprocessing.classifier(for: loaded)
        let coco = try CocoAnnotations.read(path: annotations)
        try MultiLabelValidation.check(coco, path: annotations, classes: loaded.configuration.numClasses)
        printError(
            "\(coco.images.count) images, \(coco.categoryIDs.count) categories; \(loaded.configuration); "
                + "preprocessing: \(classifier.preprocessing.config)")
        let progress = ProgressReporter(label: "validating", unit: .items("images"), mode: .automatic(quiet: quiet))
        let report = try MultiLabelValidation.run(
            annotations: coco, annotationsPath: annotations, imagesRoot: imagesDir, classifier: classifier,
            classes: loaded.configuration.numClasses, batchSize: batch, limit: limit
        ) { done, total in
            progress.update(done, total: total)
        }
        progress.finish()
        try output.emit(report, to: reportFile) { print(report.summary) }
    }
}
