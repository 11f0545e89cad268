import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetCheckpoint
import TResNetCore
import TResNetImage

@Suite("tresnet-predict", .serialized)
struct PredictCLITests {
    /// The reference input written as a `.npy` (optionally in another dtype, or one image of it).
    static func inputNpy(_ dir: String, dtype: DType = .float32, firstImageOnly: Bool = false) throws -> String {
        var input = try #require(try referenceArrays("tiny_v1.reference.npz")["input"])
        if firstImageOnly {
            let per = input.shape.dropFirst().reduce(1, *)
            input = Tensor(shape: [1] + input.shape.dropFirst(), floats: Array(try input.floats().prefix(per)))
        }
        let path = dir + "/input.\(dtype.rawValue).npy"
        if dtype == .float64 {  // numpy's float64 of the same values: exact widening, written byte by byte
            let bytes = try input.floats().flatMap { v in
                withUnsafeBytes(of: Double(v).bitPattern.littleEndian, Array.init)
            }
            input = Tensor(dtype: .float64, shape: input.shape, data: ByteSlice(store: ByteStore.copying(bytes)))
        } else {
            input = try input.converted(to: dtype)
        }
        try NpyArray.write(input, to: path)
        return path
    }

    @Test("array mode: the logits equal PyTorch's head.fc within the default tolerance")
    func logits() throws {
        let dir = FixturePaths.temporaryDirectory("predict")
        let out = dir + "/logits.npy"
        let run = try runTool(
            try tool("tresnet-predict"),
            [FixturePaths.tiny("tiny_v1.pth"), "--input", try Self.inputNpy(dir), "--output", out])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = try #require(try referenceArrays("tiny_v1.reference.npz")["head.fc"])
        let logits = try NpyArray.read(path: out)
        #expect(logits.dtype == .float32 && logits.shape == expected.shape)
        #expect(failingElements(try logits.floats(), try expected.floats()) == 0)
        // two images: no top-5 listing
        #expect(!run.stdout.contains(" 1. "))
    }

    @Test("array mode: --tap body.layer3 writes that activation, equal to PyTorch's hook")
    func tap() throws {
        let dir = FixturePaths.temporaryDirectory("predict")
        let out = dir + "/layer3.npy"
        let run = try runTool(
            try tool("tresnet-predict"),
            [
                FixturePaths.tiny("tiny_v1.pth"), "--input",
                try Self.inputNpy(dir), "--output", out, "--tap", "body.layer3"
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = try #require(try referenceArrays("tiny_v1.reference.npz")["body.layer3"])
        let tap = try NpyArray.read(path: out)
        #expect(tap.shape == expected.shape)
        #expect(failingElements(try tap.floats(), try expected.floats()) == 0)

        let unknown = try runTool(
            try tool("tresnet-predict"),
            [
                FixturePaths.tiny("tiny_v1.pth"), "--input",
                try Self.inputNpy(dir), "--output", out, "--tap", "body.nope"
            ])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("body.nope"))
    }

    @Test("array mode: a float64 input is converted (and says so); one image prints its top 5 from PyTorch's logits")
    func float64AndOneImage() throws {
        let dir = FixturePaths.temporaryDirectory("predict")
        let out = dir + "/one.npy"
        let run = try runTool(
            try tool("tresnet-predict"),
            [
                FixturePaths.tiny("tiny_v1.pth"), "--input",
                try Self.inputNpy(dir, dtype: .float64, firstImageOnly: true),
                "--output", out
            ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("float64; converted to float32"))
        let expected = Array(try #require(try referenceArrays("tiny_v1.reference.npz")["head.fc"]).floats().prefix(10))
        let logits = try NpyArray.read(path: out)
        #expect(logits.shape == [1, 10])
        #expect(failingElements(try logits.floats(), expected) == 0)
        // the printed ranking is PyTorch's top 5 (the tiny head has no label set: classes by index)
        let printed = run.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }
        let top5 = ImageClassifier.topK(expected, k: 5)
        #expect(printed.count == 5)
        for (line, index) in zip(printed, top5) { #expect(line.contains("class \(index) "), "\(line)") }
    }

    @Test(
        "image mode: top 5 of every test image equals PyTorch's (indices, probabilities, logits)",
        arguments: [false, true])
    func images(fromTW: Bool) throws {
        let records = try ImageManifest.load()
        let policy = try #require(records.policies[records.model_policy])
        let paths = records.images.map { ImageManifest.folder + "/" + $0.file }
        // from the .pth with the policy as flags, or from a .tw that records the policy (no flags)
        let arguments =
            fromTW ? [try tinyTW(recording: policy)] + paths : [FixturePaths.tiny("tiny_v1.pth")] + paths + policy.flags
        let run = try runTool(try tool("tresnet-predict"), arguments + ["--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let rows = try #require(report["predictions"] as? [[String: Any]])
        try #require(rows.count == records.images.count)
        for (record, row) in zip(records.images, rows) {
            #expect((row["path"] as? String)?.hasSuffix(record.file) == true)
            let top = try #require(row["top"] as? [[String: Any]])
            #expect(top.compactMap { $0["index"] as? Int } == record.tiny_v1.top5, "\(record.file)")
            for (c, p) in zip(top, record.tiny_v1.softmax_top5) {
                #expect(abs((c["probability"] as? Double ?? .nan) - p) < 1e-4, "\(record.file)")
            }
            for c in top {
                let reference = record.tiny_v1.logits[c["index"] as? Int ?? 0]
                let logit = c["logit"] as? Double ?? .nan
                #expect(abs(logit - reference) <= 1e-4 + 1e-4 * abs(reference), "\(record.file)")
            }
        }
    }

    @Test("image mode text: the path then five ranked lines; an unreadable image is named on stderr and exits 2")
    func imageText() throws {
        let records = try ImageManifest.load()
        let policy = try #require(records.policies[records.model_policy])
        let good = ImageManifest.folder + "/" + records.images[0].file
        let bad = ImageManifest.folder + "/corrupt_truncated.jpg"
        let run = try runTool(try tool("tresnet-predict"), [FixturePaths.tiny("tiny_v1.pth"), good, bad] + policy.flags)
        #expect(run.status == 2)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == good)
        #expect(
            lines.dropFirst().prefix(5).enumerated().allSatisfy { $0.element.hasPrefix("  \($0.offset + 1). class ") })
        #expect(lines.dropFirst().first?.contains("class \(records.images[0].tiny_v1.top5[0]) ") == true)
        #expect(!run.stdout.contains(bad), "refusals go to stderr, not stdout")
        #expect(run.stderr.hasPrefix("tresnet-predict: " + bad + ": jpeg: "), "\(run.stderr)")
        #expect(run.stderr.contains("1 of 2 images could not be read"))
    }

    @Test("usage: no images and no --input, or --input without --output, refused by the argument parser")
    func usage() throws {
        let none = try runTool(try tool("tresnet-predict"), [FixturePaths.tiny("tiny_v1.pth")])
        #expect(none.status != 0 && none.stderr.contains("give at least one image"))
        let noOutput = try runTool(try tool("tresnet-predict"), [FixturePaths.tiny("tiny_v1.pth"), "--input", "x.npy"])
        #expect(noOutput.status != 0 && noOutput.stderr.contains("--input needs --output"))
    }
}
