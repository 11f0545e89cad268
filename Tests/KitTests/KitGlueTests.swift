import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetCheckpoint
import TResNetCore
import TResNetImage
import TResNetModel
import TResNetZoo

/// The small library pieces the CLIs are thin over: the preprocessing bridge, the zoo conversion options,
/// array-mode prediction, the loaded model's label names.
@Suite struct KitGlueTests {
    @Test func bridgeBothWays() throws {
        let m = ModelPreprocessing(
            inputSize: [3, 448, 448], mean: [0.5, 0.25, 0.125], std: [0.5, 2, 4], cropPct: 1.0,
            cropMode: "squash", interpolation: "bicubic")
        let c = try PreprocessingConfig(m)
        #expect(
            c
                == PreprocessingConfig(
                    inputSize: 448, cropPct: 1.0, cropMode: .squash, interpolation: .bicubic,
                    mean: [0.5, 0.25, 0.125], std: [0.5, 2, 4]))
        #expect(ModelPreprocessing(c) == m)  // exact: these values are exact in f32
        #expect(try PreprocessingConfig(.tresnetDefault) == .timm())
    }

    @Test func bridgeRefusesWhatTheImagePipelineCannotRun() throws {
        var m = ModelPreprocessing.tresnetDefault
        m.inputSize = [3, 224, 256]
        #expect(throws: TResNetError.self) { try PreprocessingConfig(m) }
        m = .tresnetDefault
        m.interpolation = "lanczos"
        let e = try #require(throws: TResNetError.self) { try PreprocessingConfig(m) }
        #expect(e.description.contains("preprocess.interpolation"))
        m = .tresnetDefault
        m.cropMode = "zoom"
        #expect(throws: TResNetError.self) { try PreprocessingConfig(m) }
        m = .tresnetDefault
        m.std = [1, 0, 1]
        #expect(throws: TResNetError.self) { try PreprocessingConfig(m) }
    }

    @Test func zooOptionsComeFromTheCatalog() throws {
        let entry = try ZooCatalog.shared.require("tresnet_m.miil_in1k_448")
        let file = try entry.downloadFile()
        let o = ZooConversion.options(entry: entry, file: file)
        #expect(o.variant == "tresnet_m" && o.numClasses == entry.numClasses)
        #expect(o.dialect == file.naming && o.key == file.wrapper && o.labelSet == entry.labelSet)
        #expect(o.preprocessing?.inputSize == [3, 448, 448])
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
