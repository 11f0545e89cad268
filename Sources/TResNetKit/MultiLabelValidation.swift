import Foundation
import TResNetCore
import TResNetImage

/// A COCO-format annotation file (`instances_*.json`) reduced to what multi-label validation needs: the images
/// (id, file name), the categories in file order (class k of the head is the k-th category, as the ML-Decoder
/// and ASL COCO loaders map them) and which categories each image contains.
public struct CocoAnnotations: Sendable {
    public struct Image: Sendable {
        public var id: Int
        public var fileName: String
        /// Category positions (0-based, file order) present in the image.
        public var classes: Set<Int>
    }

    public var images: [Image]
    public var categoryIDs: [Int]
    public var categoryNames: [String]

    /// The largest annotation file read (the 2017 val instances file is 25 MB; train 450 MB).
    public static let maxBytes = 1 << 30

    public static func read(path: String) throws -> CocoAnnotations {
        try TResNetError.naming(path) {
            let store = try ByteStore.map(path: path)
            guard store.count <= maxBytes else {
                throw TResNetError(
                    .limitExceeded, format: "coco", "\(store.count) bytes, over the \(maxBytes)-byte limit")
            }
            let root = try JSONParser.parse(store.bytes, format: "coco")
            return try CocoAnnotations(root)
        }
    }

    init(_ root: JSONValue) throws {
        func fail(_ field: String, _ what: String) -> TResNetError {
            TResNetError(.malformed, format: "coco", at: .field(field), what)
        }
        func array(_ key: String) throws -> [JSONValue] {
            guard let a = root[key]?.arrayElements else { throw fail(key, "'\(key)' must be an array") }
            return a
        }
        var position: [Int: Int] = [:]
        categoryIDs = []
        categoryNames = []
        for (i, c) in try array("categories").enumerated() {
            guard let id = c["id"]?.intValue, let name = c["name"]?.stringValue else {
                throw fail("categories[\(i)]", "each category needs an integer 'id' and a string 'name'")
            }
            guard position[id] == nil else { throw fail("categories[\(i)]", "category id \(id) appears twice") }
            position[id] = categoryIDs.count
            categoryIDs.append(id)
            categoryNames.append(name)
        }
        var index: [Int: Int] = [:]
        images = []
        for (i, im) in try array("images").enumerated() {
            guard let id = im["id"]?.intValue, let file = im["file_name"]?.stringValue, !file.isEmpty,
                !file.hasPrefix("/"), !file.split(separator: "/").contains("..")
            else {
                throw fail("images[\(i)]", "each image needs an integer 'id' and a relative 'file_name' (no '..')")
            }
            guard index[id] == nil else { throw fail("images[\(i)]", "image id \(id) appears twice") }
            index[id] = images.count
            images.append(Image(id: id, fileName: file, classes: []))
        }
        for (i, a) in try array("annotations").enumerated() {
            guard let image = a["image_id"]?.intValue, let category = a["category_id"]?.intValue else {
                throw fail("annotations[\(i)]", "each annotation needs integer 'image_id' and 'category_id'")
            }
            guard let row = index[image] else {
                throw fail("annotations[\(i)]", "image_id \(image) is not among the images")
            }
            guard let k = position[category] else {
                throw fail("annotations[\(i)]", "category_id \(category) is not among the categories")
            }
            images[row].classes.insert(k)
        }
    }
}

/// The multi-label validation report (`tresnet-validate --multi-label --json`); keys snake_case, units in the key.
public struct MultiLabelReport: Codable, Sendable {
    public struct ClassAP: Codable, Sendable {
        public let index: Int
        public let name: String
        public let categoryID: Int
        public let positives: Int
        public let averagePrecisionPercent: Double
        enum CodingKeys: String, CodingKey {
            case index, name, positives
            case categoryID = "category_id", averagePrecisionPercent = "average_precision_percent"
        }
    }

    public let annotations: String
    public let imagesRoot: String
    public let images: Int
    public struct Unreadable: Codable, Sendable, Equatable {
        public let path: String
        public let error: String
    }

    public let unreadable: [Unreadable]
    public let meanAveragePrecisionPercent: Double
    public let classes: [ClassAP]
    public let seconds: Double
    public let imagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case annotations, images, unreadable, classes
        case imagesRoot = "images_root", meanAveragePrecisionPercent = "mean_average_precision_percent"
        case seconds = "elapsed_s", imagesPerSecond = "images_per_s"
    }

    public var summary: String {
        var lines = [
            String(format: "mAP %.4f%% over %d classes, %d images", meanAveragePrecisionPercent, classes.count, images)
        ]
        lines.append(String(format: "%.1f images/s (%.2f s)", imagesPerSecond, seconds))
        if !unreadable.isEmpty {
            lines.append("\(unreadable.count) unreadable image(s), left out of the mAP:")
            lines += unreadable.map { "  \(displaySafe($0.path)): \($0.error)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// Multi-label validation: every annotated image through the classifier, sigmoid scores, mAP as the ASL /
/// ML-Decoder code computes it (`MeanAveragePrecision`). Unreadable images are listed and left out.
public enum MultiLabelValidation {
    /// - Parameter progress: called after every batch with (images done, total).
    public static func run(
        annotations: CocoAnnotations, annotationsPath: String, imagesRoot: String,
        classifier: ImageClassifier, classes: Int, batchSize: Int = 32, limit: Int? = nil,
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> MultiLabelReport {
        try check(annotations, path: annotationsPath, classes: classes)
        guard batchSize >= 1 else { throw TResNetError(.usage, "batch size must be at least 1") }

        let clock = ContinuousClock()
        let start = clock.now
        let images = Array(annotations.images.prefix(limit ?? annotations.images.count))
        var scores: [[Double]] = [], targets: [[Bool]] = []
        var unreadable: [MultiLabelReport.Unreadable] = []
        progress?(0, images.count)
        for chunkStart in stride(from: 0, to: images.count, by: batchSize) {
            let chunk = Array(images[chunkStart..<min(chunkStart + batchSize, images.count)])
            var rows: [Int: [Float]] = [:]
            let predictions = try classifier.classify(
                paths: chunk.map { imagesRoot + "/" + $0.fileName }, topK: 1,
                batchSize: batchSize
            ) { i, logits in rows[i] = logits }
            for (i, image) in chunk.enumerated() {
                guard let row = rows[i] else {
                    unreadable.append(.init(path: image.fileName, error: predictions[i].error ?? "unreadable"))
                    continue
                }
                scores.append(row.map { 1 / (1 + exp(-Double($0))) })
                targets.append((0..<classes).map { image.classes.contains($0) })
            }
            progress?(chunkStart + chunk.count, images.count)
        }
        let (mean, perClass) = MeanAveragePrecision.compute(scores: scores, targets: targets)
        let seconds = (clock.now - start).seconds
        let classAPs = (0..<classes).map { k in
            MultiLabelReport.ClassAP(
                index: k, name: annotations.categoryNames[k], categoryID: annotations.categoryIDs[k],
                positives: targets.filter { $0[k] }.count,
                averagePrecisionPercent: perClass.isEmpty ? 0 : perClass[k])
        }
        return MultiLabelReport(
            annotations: annotationsPath, imagesRoot: imagesRoot, images: scores.count,
            unreadable: unreadable, meanAveragePrecisionPercent: mean, classes: classAPs,
            seconds: seconds, imagesPerSecond: seconds > 0 ? Double(scores.count) / seconds : 0)
    }

    /// Refuses an annotation file whose category count is not the head's class count.
    public static func check(_ annotations: CocoAnnotations, path annotationsPath: String, classes: Int) throws {
        guard annotations.categoryIDs.count == classes else {
            throw TResNetError(
                .malformed, format: "coco", at: .field("categories"),
                "\(annotations.categoryIDs.count) categories, but the model has \(classes) classes "
                    + "(class k is the k-th category)", file: annotationsPath)
        }
    }
}
