import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetCheckpoint
import TResNetCore
import TResNetImage
import TResNetModel
import TResNetZoo

/// The small library pieces the CLIs are thin over: the one preprocessing type from file to pipeline, the zoo conversion options,
/// array-mode prediction, the loaded model's label names.
@Suite struct KitGlueTests {
    /// One preprocessing type: what a `.tw` records is what the image pipeline runs, both ways exactly.
    @Test func oneTypeFromFileToPipeline() throws {
        let c = PreprocessingConfig(
            inputSize: 448, cropPct: 1.0, cropMode: .squash, interpolation: .bicubic, mean: [0.5, 0.25, 0.125],
            std: [0.5, 2, 4])
        let tw = FixturePaths.temporaryDirectory("one-preprocessing") + "/tiny.tw"
        var options = Conversion.Options()
        options.preprocessing = c
        _ = try Conversion.convert(source: FixturePaths.tiny("tiny_v1.pth"), output: tw, options: options)
        #expect(try ModelLoader.load(path: tw).preprocessing == c)
        #expect(PreprocessingConfig.tresnetDefault == .timm())
    }

    /// The one validator refuses what the image pipeline cannot run, naming the key.
    @Test func validatorRefusesWhatTheImagePipelineCannotRun() throws {
        func check(
            _ size: [Int] = [3, 224, 224], interpolation: String = "bilinear", cropMode: String = "center",
            std: [Double] = [1, 1, 1]
        ) throws -> PreprocessingConfig {
            try PreprocessingConfig(
                checking: size, cropPct: 0.875, cropMode: cropMode, interpolation: interpolation, mean: [0, 0, 0],
                std: std, fail: { TResNetError(.malformed, at: .field("preprocess.\($0)"), $1) })
        }
        #expect(try check() == .tresnetDefault)
        #expect(throws: TResNetError.self) { try check([3, 224, 256]) }
        let e = try #require(throws: TResNetError.self) { try check(interpolation: "lanczos") }
        #expect(e.description.contains("preprocess.interpolation"))
        #expect(throws: TResNetError.self) { try check(cropMode: "zoom") }
        #expect(throws: TResNetError.self) { try check(std: [1, 0, 1]) }
    }

    @Test func zooOptionsComeFromTheCatalog() throws {
        let entry = try ZooCatalog.shared.require("tresnet_m.miil_in1k_448")
        let file = try entry.downloadFile()
        let o = ZooConversion.options(entry: entry, file: file)
        #expect(o.variant == "tresnet_m" && o.numClasses == entry.numClasses)
        #expect(o.dialect == file.naming && o.key == file.wrapper && o.labelSet == entry.labelSet)
        #expect(o.preprocessing?.timmInputSize == [3, 448, 448])
        #expect(o.preprocessing?.cropPct == entry.preprocessing.cropPct)
        #expect(o.preprocessing?.cropMode == entry.preprocessing.cropMode)
        #expect(o.preprocessing?.interpolation == entry.preprocessing.interpolation)
        #expect(o.overwrite)
        // MIIL originals carry their wrapper key and spelling
        let original = try #require(ZooCatalog.shared.entries.first { $0.files.contains { $0.wrapper != nil } })
        let wrapped = try #require(original.files.first { $0.wrapper != nil })
        let ow = ZooConversion.options(entry: original, file: wrapped)
        #expect(ow.key == wrapped.wrapper && ow.dialect == wrapped.naming)
    }

    @Test func zooOutputPath() {
        #expect(
            ZooConversion.outputPath(forDownload: "/c/tresnet_m.miil_in1k/model.safetensors")
                == "/c/tresnet_m.miil_in1k/model.tw")
        #expect(
            ZooConversion.outputPath(forDownload: "/c/miil/tresnet_m/tresnet_m.pth") == "/c/miil/tresnet_m/tresnet_m.tw"
        )
        #expect(ZooConversion.outputPath(forDownload: "/c/a.b/file") == "/c/a.b/file.tw")
    }

    @Test func arrayPredictionRefusesBadInputs() throws {
        let dir = FixturePaths.temporaryDirectory("kit")
        try NpyArray.write(
            Tensor(shape: [3, 64, 64], floats: Array(repeating: 0, count: 3 * 64 * 64)), to: dir + "/r3.npy")
        #expect(throws: TResNetError.self) { try Prediction.readInput(path: dir + "/r3.npy") }
        let ints = Tensor(
            dtype: .int64, shape: [1, 3, 32, 32],
            data: ByteSlice(store: ByteStore.copying([UInt8](repeating: 0, count: 8 * 3 * 32 * 32))))
        try NpyArray.write(ints, to: dir + "/i.npy")
        let e = try #require(throws: TResNetError.self) { try Prediction.readInput(path: dir + "/i.npy") }
        #expect(e.description.contains("int64"))
        let model = try ModelLoader.load(path: FixturePaths.tiny("tiny_v1.pth"))
        let network = try model.network()
        let x = Tensor(shape: [1, 3, 32, 32], floats: Array(repeating: 0.5, count: 3 * 32 * 32))
        #expect(throws: TResNetError.self) { try Prediction.run(network, input: x, tap: "body.layer9") }
        #expect(try Prediction.run(network, input: x).shape == [1, 10])
        #expect(try Prediction.run(network, input: x, tap: "head.global_pool").shape.first == 1)
    }

    @Test func labelNamesFollowTheHead() throws {
        var model = try ModelLoader.load(path: FixturePaths.tiny("tiny_v1.pth"))
        #expect(model.labelSet == "")
        #expect(try model.labelNames() == nil)
        #expect(model.preprocessing == .tresnetDefault)
        // a 10-class head claiming ImageNet-1k names is refused, not silently mislabelled
        model.metadata = ModelFileMetadata(
            configuration: model.configuration, variant: "custom", labelSet: "imagenet-1k")
        #expect(throws: TResNetError.self) { try model.labelNames() }
        model.configuration.numClasses = 1000
        #expect(try model.labelNames()?.names.first?.contains("tench") == true)
    }
}
