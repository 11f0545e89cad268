import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetKit
import TResNetModel

/// The one-call API (`TResNetClassifier`) gives PyTorch's top-5 on the committed ImageFolder, and the README shows
/// exactly the example package `make example` builds.
@Suite struct ClassifierTests {
    @Test func topFiveEqualsPyTorch() throws {
        let expected = try FolderExpectation.load()
        #expect(expected.policy == "bilinear64" && expected.model == "tiny_v1.pth")
        // The weights carry the preprocessing PyTorch used (64 px, crop 0.875 centre, bilinear).
        let tw = FixturePaths.temporaryDirectory("classifier") + "/tiny.tw"
        var options = Conversion.Options()
        options.preprocessing = PreprocessingConfig(
            inputSize: 64, cropPct: 0.875, cropMode: .center, interpolation: .bilinear)
        _ = try Conversion.convert(source: FixturePaths.tiny("tiny_v1.pth"), output: tw, options: options)

        let model = try TResNetClassifier(contentsOf: URL(fileURLWithPath: tw))
        let root = FixturePaths.tiny("imagefolder")
        let urls = expected.per_image.map { URL(fileURLWithPath: root + "/" + $0.path) }
        let top = try model.classify(imagesAt: urls, topK: 5)
        #expect(top.map { $0.map(\.index) } == expected.per_image.map(\.predicted))
        let one = try model.classify(imageAt: urls[0])
        #expect(one == top[0])
        #expect(one.count == 5 && one[0].probability >= one[4].probability && one.allSatisfy { $0.label == nil })

        let broken = try #require(expected.unreadable.first)
        let error = try #require(throws: TResNetError.self) {
            try model.classify(imageAt: URL(fileURLWithPath: root + "/" + broken.path))
        }
        #expect(error.description.contains(broken.path), "\(error)")
    }

    @Test func theReadmeShowsTheExamplePackage() throws {
        let readme = try String(contentsOfFile: FixturePaths.root + "/README.md", encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Use it from Swift").dropFirst().first)
        let block = try #require(
            section.components(separatedBy: "```swift\n").dropFirst().first?
                .components(separatedBy: "```").first)
        let main = try String(
            contentsOfFile: FixturePaths.root + "/Examples/ClassifyImage/Sources/ClassifyImage/main.swift",
            encoding: .utf8)
        #expect(block == main)
        #expect(main.split(separator: "\n").count < 10, "classifies an image in under 10 lines")
    }
}
