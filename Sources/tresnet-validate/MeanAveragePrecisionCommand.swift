#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import _CLISupport
import TResNetCore
import TResNetImage
import TResNetKit

extension Validate {
    /// `--multi-label`: sigmoid scores of every annotated image, mAP and per-class AP (docs/MULTILABEL.md).
    func runMultiLabel() throws {
        guard let annotations, let imagesDir else { return }
        let loaded = try model.load(weights)
        let config = try loaded.preprocessingConfig(preprocessing.overrides)
        let classifier = try ImageClassifier(preprocessing: config, labels: try loaded.labelNames()?.names,
                                             limits: preprocessing.limits, run: try loaded.batchRunner())
        let coco = try CocoAnnotations.read(path: annotations)
        try MultiLabelValidation.check(coco, path: annotations, classes: loaded.configuration.numClasses)
        printError("\(coco.images.count) images, \(coco.categoryIDs.count) categories; \(loaded.configuration); "
                   + "preprocessing: \(config)")
        let interactive = !quiet && isatty(2) == 1
        let report = try MultiLabelValidation.run(
            annotations: coco, annotationsPath: annotations, imagesRoot: imagesDir, classifier: classifier,
            classes: loaded.configuration.numClasses, batchSize: batch, limit: limit) { done, total in
            guard interactive else { return }
            let width = 30, filled = total == 0 ? width : min(width, done * width / total)
            let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            FileHandle.standardError.write(Data(("\r" + bar + "\(done)/\(total)").utf8))
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        print(report.summary)
        if let json { try writeFileAtomically(json, [UInt8](try report.json()) + [0x0A]) }
    }
}
