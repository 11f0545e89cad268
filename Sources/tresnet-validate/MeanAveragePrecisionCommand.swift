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
        let config = try preprocessing.applied(to: loaded.preprocessing)
        let classifier = try ImageClassifier(
            preprocessing: config, labels: try loaded.labelNames()?.names,
            limits: preprocessing.limits, run: try loaded.batchRunner())
        let coco = try CocoAnnotations.read(path: annotations)
        try MultiLabelValidation.check(coco, path: annotations, classes: loaded.configuration.numClasses)
        printError(
            "\(coco.images.count) images, \(coco.categoryIDs.count) categories; \(loaded.configuration); "
                + "preprocessing: \(config)")
        let progress = ProgressReporter(label: "validating", unit: .items("images"), mode: .automatic(quiet: quiet))
        let report = try MultiLabelValidation.run(
            annotations: coco, annotationsPath: annotations, imagesRoot: imagesDir, classifier: classifier,
            classes: loaded.configuration.numClasses, batchSize: batch, limit: limit
        ) { done, total in
            progress.update(done, total: total)
        }
        progress.finish()
        try reportFile?.write(report)
        if output.json { try printJSON(report) } else { print(report.summary) }
    }
}
