import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetCheckpoint
import TResNetCore
import TResNetModel

/// Fixtures/tiny/semantic/expected.json (Fixtures/gen_semantic.py): the generator's own implementation of the
/// semantic-softmax rules applied to the tiny model's PyTorch logits.
struct SemanticExpectation: Decodable {
    struct Level: Decodable {
        let depth: Int
        let classes: [Int]
    }
    struct Top: Decodable {
        let level: Int
        let class_index: Int
        let probability: Double
    }
    struct Label: Decodable {
        let level: Int
        let class_index: Int
        let synset: String
        let description: String
        let probability: Double
    }
    struct PerImage: Decodable {
        let path: String
        let target: Int
        let logits: [Double]
        let level_tops: [Top]
        let semantic: [Label]
        let semantic_correct: Int
        let semantic_valid: Int
    }
    struct Unreadable: Decodable { let path: String }

    let tree: String
    let model: String
    let policy: String
    let levels: [Level]
    let images: Int
    let unreadable: [Unreadable]
    let semantic_correct: Int
    let semantic_valid: Int
    let semantic_accuracy: Double
    let top1_correct: Int
    let top5_correct: Int
    let per_image: [PerImage]

    static func load() throws -> SemanticExpectation {
        try JSONDecoder().decode(
            SemanticExpectation.self,
            from: Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("semantic/expected.json"))))
    }

    static let folder = FixturePaths.tiny("semantic/imagefolder")
    static var treePath: String { FixturePaths.tiny("semantic/tree10.pth") }
}

@Suite("semantic softmax (issue 21)", .serialized)
struct SemanticTreeTests {
    @Test("the generator's tree: its levels, and per image the generator's level tops, labels and score")
    func rulesMatchTheGenerator() throws {
        let expected = try SemanticExpectation.load()
        let tree = try SemanticTreeFile.read(path: SemanticExpectation.treePath, numClasses: 10)
        #expect(tree.levels.map(\.depth) == expected.levels.map(\.depth))
        #expect(tree.levels.map(\.classes) == expected.levels.map(\.classes))
        var total = SemanticScore()
        for image in expected.per_image {
            let logits = image.logits.map(Float.init)  // PyTorch's f32 logits, exact
            let tops = tree.levelTops(logits)
            #expect(tops.map(\.depth) == image.level_tops.map(\.level), "\(image.path)")
            #expect(tops.map(\.classIndex) == image.level_tops.map(\.class_index), "\(image.path)")
            for (a, b) in zip(tops, image.level_tops) { #expect(abs(a.probability - b.probability) < 1e-12) }
            let labels = tree.labels(logits)
            #expect(labels.map(\.classIndex) == image.semantic.map(\.class_index), "\(image.path)")
            #expect(labels.map(\.level) == image.semantic.map(\.level))
            #expect(labels.map(\.synset) == image.semantic.map(\.synset))
            #expect(labels.map(\.description) == image.semantic.map(\.description))
            let score = tree.score(logits, target: image.target)
            #expect(score.correct == image.semantic_correct && score.valid == image.semantic_valid, "\(image.path)")
            total += score
        }
        #expect(total.correct == expected.semantic_correct && total.valid == expected.semantic_valid)
        #expect(abs((total.accuracy ?? -1) - expected.semantic_accuracy) < 1e-9)
    }

    @Test(
        "hostile trees are refused with one line naming the file, the field and the problem",
        arguments: [
            ("bad_count.pth", "class_list", "the tree has 9 classes but the model's head has 10 outputs"),
            ("bad_cycle.pth", "class_tree_list[", "cycle"),
            ("bad_range.pth", "class_tree_list[3]", "index 10 is out of range")
        ])
    func hostileTrees(file: String, field: String, problem: String) throws {
        let path = FixturePaths.tiny("semantic/" + file)
        do {
            _ = try SemanticTreeFile.read(path: path, numClasses: 10)
            Issue.record("\(file) was accepted")
        } catch let e as TResNetError {
            #expect(e.code == .malformed)
            #expect(
                e.description.contains(path) && e.description.contains(field) && e.description.contains(problem),
                "\(e.description)")
        }
        let run = try runTool(
            try tool("tresnet-predict"),
            [
                FixturePaths.tiny("tiny_v1.pth"),
                FixturePaths.tiny("images/yuv444_70x50.jpg"),
                "--semantic-tree", path
            ])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(
            run.stderr.split(separator: "\n").count == 1 && run.stderr.contains(file) && run.stderr.contains(problem),
            "\(run.stderr)")
    }

    @Test("a cycle given as parents (the .tw form) is refused; a checkpoint is not a tree; hostile globals are refused")
    func parentCycleAndNonTree() throws {
        #expect(throws: TResNetError.self) {
            try SemanticTree(synsets: ["a", "b", "c"], descriptions: ["a", "b", "c"], parents: [nil, 2, 1])
        }
        do {
            _ = try SemanticTreeFile.read(path: FixturePaths.tiny("tiny_v1.pth"))
            Issue.record("a checkpoint was read as a tree")
        } catch let e as TResNetError {
            #expect(e.description.contains("tiny_v1.pth") && e.description.contains("tensors"), "\(e.description)")
        }
        for hostile in ["hostile_reduce.pth", "hostile_reduce_raw.pkl"] {  // torch.save zip and a bare pickle
            do {
                _ = try SemanticTreeFile.read(path: FixturePaths.tiny(hostile))
                Issue.record("\(hostile) was accepted")
            } catch let e as TResNetError {
                #expect(e.code == .disallowedGlobal && e.description.contains("posix.system"), "\(e.description)")
            }
        }
    }

    @Test(".tw round-trips the tree; a .tw → .tw conversion keeps it; predict uses the embedded tree")
    func twRoundTrip() throws {
        let tree = try SemanticTreeFile.read(path: SemanticExpectation.treePath)
        let dir = FixturePaths.temporaryDirectory("semantic")
        var options = Conversion.Options()
        options.semanticTree = tree
        options.preprocessing = PreprocessingConfig(
            inputSize: 64, cropPct: 0.875, cropMode: .center, interpolation: .bilinear)
        _ = try Conversion.convert(source: FixturePaths.tiny("tiny_v1.pth"), output: dir + "/a.tw", options: options)
        #expect(try TWModel.open(path: dir + "/a.tw").metadata.semanticTree == tree)
        _ = try Conversion.convert(source: dir + "/a.tw", output: dir + "/b.tw", options: Conversion.Options())
        #expect(try TWModel.open(path: dir + "/b.tw").metadata.semanticTree == tree)
        // a tree of another size is refused at conversion, nothing written
        var wrong = Conversion.Options()
        wrong.semanticTree = try SemanticTreeFile.read(path: FixturePaths.tiny("semantic/bad_count.pth"))
        #expect(throws: TResNetError.self) {
            try Conversion.convert(source: FixturePaths.tiny("tiny_v1.pth"), output: dir + "/c.tw", options: wrong)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/c.tw"))

        let expected = try SemanticExpectation.load()
        let image = try #require(expected.per_image.first { !$0.semantic.isEmpty })
        let run = try runTool(
            try tool("tresnet-predict"), [dir + "/b.tw", SemanticExpectation.folder + "/" + image.path])
        #expect(run.status == 0, "\(run.stderr)")
        for label in image.semantic {
            #expect(
                run.stdout.contains(
                    "level \(label.level)  \(label.description) (\(label.synset))  "
                        + String(format: "%.4f", label.probability)), "\(run.stdout)")
        }
    }

    @Test("tresnet-predict --semantic-tree --json: the generator's labels for every image, the broken one listed")
    func predictJSON() throws {
        let expected = try SemanticExpectation.load()
        let policy = try #require(try ImageManifest.load().policies[expected.policy])
        let paths = expected.per_image.map(\.path) + expected.unreadable.map(\.path)
        let run = try runTool(
            try tool("tresnet-predict"),
            [FixturePaths.tiny(expected.model)]
                + paths.map { SemanticExpectation.folder + "/" + $0 }
                + ["--semantic-tree", SemanticExpectation.treePath, "--json", "--batch-size", "3"] + policy.flags)
        #expect(run.status == 2, "\(run.stderr)")  // the broken image
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let items = try #require(report["predictions"] as? [[String: Any]])
        #expect(items.count == paths.count)
        // `top` stays a plain softmax; the report says it is not calibrated for this head
        #expect((report["notes"] as? [String])?.contains { $0.contains("not calibrated") } == true, "\(report)")
        for (item, image) in zip(items, expected.per_image) {
            let semantic = try #require(item["semantic"] as? [[String: Any]], "\(image.path)")
            #expect(semantic.count == image.semantic.count, "\(image.path)")
            for (got, want) in zip(semantic, image.semantic) {
                #expect(got["level"] as? Int == want.level && got["class_index"] as? Int == want.class_index)
                #expect(got["synset"] as? String == want.synset && got["description"] as? String == want.description)
                let p = try #require(got["probability"] as? Double)
                #expect(abs(p - want.probability) < 1e-4, "\(image.path): \(p) vs \(want.probability)")
            }
        }
        let broken = try #require(items.last)
        #expect(broken["error"] is String && broken["semantic"] == nil)
    }

    @Test("tresnet-validate --semantic-tree: the generator's semantic accuracy next to top-1/top-5 (synset targets)")
    func validate() throws {
        let expected = try SemanticExpectation.load()
        let policy = try #require(try ImageManifest.load().policies[expected.policy])
        let json = FixturePaths.temporaryDirectory("semantic") + "/report.json"
        let run = try runTool(
            try tool("tresnet-validate"),
            [
                FixturePaths.tiny(expected.model), "--val-dir", SemanticExpectation.folder, "--semantic-tree",
                SemanticExpectation.treePath, "--quiet", "--batch-size", "4", "--report", json
            ] + policy.flags)
        #expect(run.status == (expected.unreadable.isEmpty ? 0 : 2), "\(run.stderr)")  // an unreadable image: exit 2
        #expect(
            run.stdout.contains(
                String(
                    format: "semantic top-1 %.3f%% (%d/%d level checks)", expected.semantic_accuracy,
                    expected.semantic_correct, expected.semantic_valid)), "\(run.stdout)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
                as? [String: Any])
        #expect(report["semantic_correct"] as? Int == expected.semantic_correct)
        #expect(report["semantic_valid"] as? Int == expected.semantic_valid)
        #expect(report["top1_correct"] as? Int == expected.top1_correct)
        #expect(report["top5_correct"] as? Int == expected.top5_correct)
        #expect(report["images"] as? Int == expected.images)
        let perImage = try #require(report["per_image"] as? [[String: Any]])
        #expect(perImage.compactMap { $0["target"] as? Int } == expected.per_image.map(\.target))

        // folders that are not synsets of the tree: refused, naming the folder
        let bad = try runTool(
            try tool("tresnet-validate"),
            [
                FixturePaths.tiny(expected.model), "--val-dir", FixturePaths.tiny("imagefolder"), "--semantic-tree",
                SemanticExpectation.treePath, "--quiet"
            ])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("'alpha'") && bad.stderr.contains("not a synset"), "\(bad.stderr)")
    }

    @Test("a 21K-sized head without a tree: the output says plain softmax is not what it was trained for")
    func twentyOneKNote() throws {
        let source = try CheckpointReader.read(path: FixturePaths.tiny("tiny_v1.pth")).stateDict
        var tensors: [(name: String, tensor: Tensor)] = []
        for e in source.entries {
            var t = e.tensor
            if e.name == "head.fc.weight" || e.name == "head.fc.bias" {
                let shape = [11221] + t.shape.dropFirst()
                t = Tensor(shape: shape, floats: [Float](repeating: 0, count: shape.reduce(1, *)))
            }
            tensors.append((e.name, t))
        }
        let path = FixturePaths.temporaryDirectory("semantic") + "/head21k.safetensors"
        try SafetensorsWriter.write(tensors, metadata: [:], to: path, overwrite: true)
        let run = try runTool(
            try tool("tresnet-predict"),
            [
                path, FixturePaths.tiny("images/yuv444_70x50.jpg"),
                "--img-size", "64", "--topk", "1"
            ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("11221 classes") && run.stdout.contains("--semantic-tree"), "\(run.stdout)")
        #expect(run.stdout.contains("semantic softmax") && run.stdout.contains("not calibrated"), "\(run.stdout)")
        // --json carries the same caveat in `notes`
        let json = try runTool(
            try tool("tresnet-predict"),
            [
                path, FixturePaths.tiny("images/yuv444_70x50.jpg"),
                "--img-size", "64", "--topk", "1", "--json"
            ])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let notes = try #require(object["notes"] as? [String])
        #expect(notes.count == 1 && notes[0].contains("semantic softmax") && notes[0].contains("not calibrated"))
    }
}
