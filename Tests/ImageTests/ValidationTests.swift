import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// Validation on Fixtures/tiny/imagefolder against the generator's PyTorch run (imagefolder.expected.json).
@Suite struct ValidationTests {
    static let root = FixturePaths.tiny("imagefolder")

    @Test func scanMatchesTorchvisionImageFolder() throws {
        let expected = try FolderExpectation.load()
        let folder = try ImageFolder.scan(root: Self.root)
        #expect(folder.classes == expected.classes)
        // torchvision's samples minus nothing: readable ones in order, plus the unreadable one
        let readable = folder.samples.filter { s in !expected.unreadable.contains { $0.path == s.relativePath } }
        #expect(readable.map(\.relativePath) == expected.per_image.map(\.path))
        #expect(readable.map(\.classIndex) == expected.per_image.map(\.target))
        #expect(!folder.samples.contains { $0.relativePath.hasSuffix(".txt") })
    }

    @Test(arguments: [1, 4, 32])
    func topOneAndTopFiveEqualPyTorch(batch: Int) throws {
        let expected = try FolderExpectation.load()
        let manifest = try ImageManifest.load()
        let config = try DecodeAndPreprocessTests.config(try #require(manifest.policies[expected.policy]))
        let classifier = try ImageClassifier(preprocessing: config, run: try TinyModel.runner())
        var updates = 0
        let report = try Validation.run(
            folder: try ImageFolder.scan(root: Self.root), classifier: classifier,
            batchSize: batch
        ) { _ in updates += 1 }
        #expect(report.images == expected.images)
        #expect(report.top1Correct == expected.top1_correct && report.top5Correct == expected.top5_correct)
        #expect(abs(report.top1 - expected.top1) < 1e-9 && abs(report.top5 - expected.top5) < 1e-9)
        #expect(report.perImage.map(\.path) == expected.per_image.map(\.path))
        #expect(report.perImage.map(\.predicted) == expected.per_image.map(\.predicted))
        // the corrupt file is counted and listed with its path, not fatal
        #expect(report.unreadable.map(\.path) == expected.unreadable.map(\.path))
        #expect(report.unreadable.first?.error.contains("truncated") == true)
        #expect(report.samples == expected.images + expected.unreadable.count)
        #expect(report.imagesPerSecond > 0)
        #expect(updates >= 2)
    }

    @Test func limitAndJSONReport() throws {
        let expected = try FolderExpectation.load()
        let classifier = try ImageClassifier(preprocessing: .timm(inputSize: 64), run: try TinyModel.runner())
        let report = try Validation.run(
            folder: try ImageFolder.scan(root: Self.root), classifier: classifier,
            batchSize: 2, limit: 3)
        #expect(report.samples == 3 && report.images == 3)
        #expect(report.perImage.map(\.predicted) == expected.per_image.prefix(3).map(\.predicted))
        let json = try JSONSerialization.jsonObject(with: try report.json()) as? [String: Any]
        let perImage = try #require(json?["per_image"] as? [[String: Any]])
        #expect(perImage.first?["predicted"] as? [Int] == expected.per_image[0].predicted)
        #expect(json?["top1_correct"] as? Int == report.top1Correct)
        let decoded = try JSONDecoder().decode(ValidationReport.self, from: try report.json())
        #expect(decoded.perImage == report.perImage)
        #expect(report.summary.contains("top-1"))
    }

    @Test func badFoldersAreRefused() throws {
        let dir = FixturePaths.temporaryDirectory("folder")
        #expect(throws: TResNetError.self) { try ImageFolder.scan(root: dir + "/absent") }
        #expect(throws: TResNetError.self) { try ImageFolder.scan(root: dir) }  // no classes
        try FileManager.default.createDirectory(atPath: dir + "/only_text", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/only_text/a.txt"))
        let error = try #require(throws: TResNetError.self) { try ImageFolder.scan(root: dir) }
        #expect(error.description.contains("only_text"))
    }

    @Test func walkOrderIsPythonSortedOrder() throws {
        let dir = FixturePaths.temporaryDirectory("walk")
        for p in ["c/b/z.png", "c/a b/y.JPG", "c/a/x.jpeg", "c/B.png", "c/a.png", "c/é.png"] {
            let full = dir + "/" + p
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: full))
        }
        let folder = try ImageFolder.scan(root: dir)
        // sorted(os.walk()) visits "c", "c/a", "c/a b", "c/b"; files sorted by code point ("B" < "a" < "é").
        // The expected list is what torchvision.datasets.ImageFolder(...).samples gave for this tree.
        #expect(
            folder.samples.map(\.relativePath)
                == ["c/B.png", "c/a.png", "c/é.png", "c/a/x.jpeg", "c/a b/y.JPG", "c/b/z.png"])
    }
}
