import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetCheckpoint
import TResNetCore
import TResNetFormat
import TResNetModel

/// A state dict with the fixture's names, shapes and dtypes, holding the manifest's sampled values (exactly
/// as PyTorch wrote them) at their indices and a deterministic filler elsewhere. Integer tensors
/// (`num_batches_tracked`) hold their sampled value.
func convertManifestStateDict(_ file: String) throws -> (StateDict, FixtureManifest.FileRecord) {
    let record = try #require(try FixtureManifest.load().files[file])
    var sd = StateDict()
    for (i, t) in try #require(record.tensors).enumerated() {
        let n = t.shape.reduce(1, *)
        if t.dtype == "int64" {
            let v = Int64(t.samples.first?[1] ?? 0)
            let store = withUnsafeBytes(of: v.littleEndian) { ByteStore.copying($0) }
            try sd.insert(t.name, Tensor(dtype: .int64, shape: t.shape, data: ByteSlice(store: store)))
            continue
        }
        var values = (0..<n).map { Float(($0 * 37 + i * 11) % 101) / 50 - 1 }
        for s in t.samples { values[Int(s[0])] = Float(s[1]) }
        let f32 = Tensor(shape: t.shape, floats: values)
        let dtype: DType = t.dtype == "float16" ? .float16 : t.dtype == "bfloat16" ? .bfloat16 : .float32
        try sd.insert(t.name, try f32.converted(to: dtype))
    }
    return (sd, record)
}

func convertCheckpoint(_ file: String) throws -> (LoadedCheckpoint, FixtureManifest.FileRecord) {
    let (sd, record) = try convertManifestStateDict(file)
    return (
        LoadedCheckpoint(path: FixturePaths.tiny(file), container: .pytorchZip, stateDict: sd, wrapper: record.wrapper),
        record
    )
}

func convertError(_ body: () throws -> Void) -> TResNetError? {
    do { try body() } catch let e as TResNetError { return e } catch { return nil }
    return nil
}

func convertDirIsEmpty(_ dir: String) -> Bool {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? ["?"]).isEmpty
}

@Suite struct ConvertPipelineTests {
    @Test(arguments: ["tiny_v1_miil.pth", "tiny_v2_miil.pth"])
    func miilBecomesTimmStateDictWithTransformedBNWeights(file: String) throws {
        let (ckpt, record) = try convertCheckpoint(file)
        let out = FixturePaths.temporaryDirectory("convert") + "/m.tw"
        let summary = try Conversion.convert(
            checkpoint: ckpt, sourceSHA256: record.sha256, output: out, options: .init())
        #expect(summary.dialect == "miil" && summary.dialectDetected)
        let model = try TWModel.open(path: out, verifyChecksums: true)
        // Exactly the tensors of the timm-spelling fixture of the same architecture (without num_batches_tracked).
        let timmFile = file.replacingOccurrences(of: "_miil", with: "")
        let timmNames = try #require(try FixtureManifest.load().files[timmFile]?.tensors).map(\.name)
            .filter { !$0.hasSuffix("num_batches_tracked") }
        #expect(model.file.entries.map(\.name) == timmNames)
        // BN weights equal timm's checkpoint_filter_fn output bit-exactly at every sampled index.
        let expected = try #require(record.expected_timm)
        #expect(summary.transformedWeights == expected.count)
        for (name, samples) in expected {
            let values = try #require(model.file.tensor(name)).floats()
            for s in samples {
                #expect(values[Int(s[0])].bitPattern == Float(s[1]).bitPattern, "\(name)[\(Int(s[0]))]")
            }
        }
        // Every other tensor is the source tensor, byte for byte, under its new name.
        let mapping = Dialect.miil.map(ckpt.stateDict.names, detected: true)
        for (source, canonical) in mapping.renamed where expected[canonical] == nil {
            #expect(
                model.file.tensor(canonical)?.data.toArray() == ckpt.stateDict[source]?.data.toArray(), "\(canonical)")
        }
        #expect(model.metadata.sourceDialect == "miil")
        #expect(model.metadata.bnWeightTransform == "abs_plus_eps")
        #expect(model.metadata.sourceSHA256 == record.sha256)
        #expect(model.metadata.sourceWrapper == "model")
        #expect(model.metadata.variant == "custom")
        let arch = try #require(record.arch)
        #expect(
            model.metadata.configuration.layers == arch.layers && model.metadata.configuration.planes == arch.planes)
        #expect(model.metadata.labelSet == "")
        #expect(model.metadata.preprocessing == .tresnetDefault)
    }

    @Test(arguments: ["tiny_v1.pth", "tiny_v2.pth"])
    func timmF32RoundTripsBitExactly(file: String) throws {
        let (ckpt, record) = try convertCheckpoint(file)
        let out = FixturePaths.temporaryDirectory("convert") + "/t.tw"
        let summary = try Conversion.convert(
            checkpoint: ckpt, sourceSHA256: record.sha256, output: out, options: .init())
        #expect(summary.transformedWeights == 0 && summary.dialect == "timm")
        let file = try TWFile.open(path: out, verifyChecksums: true)
        let stored = ckpt.stateDict.entries.filter { !$0.name.hasSuffix("num_batches_tracked") }
        #expect(file.entries.map(\.name) == stored.map(\.name))
        for (name, t) in stored { #expect(file.tensor(name)?.data.toArray() == t.data.toArray(), "\(name)") }
        let meta = try ModelFileMetadata(file)
        #expect(meta.bnWeightTransform == "none" && meta.sourceDialect == "timm")
    }

    @Test(arguments: [OutputDType.f16, .bf16])
    func narrowOutputKeepsBatchNormF32(dtype: OutputDType) throws {
        let (ckpt, record) = try convertCheckpoint("tiny_v1.pth")
        let out = FixturePaths.temporaryDirectory("convert") + "/h.tw"
        var options = Conversion.Options()
        options.dtype = dtype
        _ = try Conversion.convert(checkpoint: ckpt, sourceSHA256: record.sha256, output: out, options: options)
        let file = try TWFile.open(path: out, verifyChecksums: true)
        let narrow: DType = dtype == .f16 ? .float16 : .bfloat16
        for e in file.entries {
            let source = try #require(ckpt.stateDict[e.name])
            if e.name.contains(".bn.") {
                #expect(e.dtype == .float32, "\(e.name)")
                #expect(file.tensor(e.name)?.data.toArray() == source.data.toArray())
            } else {
                #expect(e.dtype == narrow, "\(e.name)")
                #expect(file.tensor(e.name)?.data.toArray() == (try source.converted(to: narrow)).data.toArray())
            }
        }
        #expect(try ModelFileMetadata(file).bnKeptF32)
    }

    @Test func existingOutputIsLeftAloneWithoutForce() throws {
        let (ckpt, record) = try convertCheckpoint("tiny_v1.pth")
        let dir = FixturePaths.temporaryDirectory("convert")
        let out = dir + "/x.tw"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: out))
        let e = convertError {
            _ = try Conversion.convert(checkpoint: ckpt, sourceSHA256: record.sha256, output: out, options: .init())
        }
        #expect(e?.code == .outputExists)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me")
        var options = Conversion.Options()
        options.overwrite = true
        _ = try Conversion.convert(checkpoint: ckpt, sourceSHA256: record.sha256, output: out, options: options)
        _ = try TWFile.open(path: out)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["x.tw"])
    }

    @Test func failureMidwayLeavesNothing() throws {
        let (ckpt, record) = try convertCheckpoint("tiny_v1.pth")
        let dir = FixturePaths.temporaryDirectory("convert")
        var options = Conversion.Options()
        options.progress = { done, total in
            if done > total / 2 { throw TResNetError(.io, "simulated failure") }
        }
        let e = convertError {
            _ = try Conversion.convert(
                checkpoint: ckpt, sourceSHA256: record.sha256, output: dir + "/y.tw", options: options)
        }
        #expect(e?.message == "simulated failure")
        #expect(convertDirIsEmpty(dir))
        // And with --force over an existing file, the old file survives a failure.
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir + "/y.tw"))
        options.overwrite = true
        _ = convertError {
            _ = try Conversion.convert(
                checkpoint: ckpt, sourceSHA256: record.sha256, output: dir + "/y.tw", options: options)
        }
        #expect(try String(contentsOfFile: dir + "/y.tw", encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["y.tw"])
    }

    @Test func bindingFailureWritesNothingAndNamesTheTensor() throws {
        var (ckpt, record) = try convertCheckpoint("tiny_v1.pth")
        ckpt.stateDict.remove("body.layer3.1.conv2.conv.weight")
        let dir = FixturePaths.temporaryDirectory("convert")
        let e = convertError {
            _ = try Conversion.convert(
                checkpoint: ckpt, sourceSHA256: record.sha256, output: dir + "/z.tw", options: .init())
        }
        #expect(e?.code == .binding && e?.code.exitCode == 2)
        #expect(e?.description.contains("missing   body.layer3.1.conv2.conv.weight expected [16, 16, 3, 3]") == true)
        #expect(convertDirIsEmpty(dir))
    }

    @Test func forcingMiilOnTimmFileIsRefused() throws {
        let (ckpt, _) = try convertCheckpoint("tiny_v1.pth")
        var options = Conversion.Options()
        options.dialect = "miil"
        let e = convertError { _ = try Conversion.prepare(ckpt, options: options) }
        #expect(e?.code == .binding)
        #expect(e?.description.contains("body.conv1.conv.weight") == true)
        #expect(e?.message.contains("a second time") == true)
    }

    @Test func forcingTimmOnMiilFileHintsAtTheDialect() throws {
        let (ckpt, _) = try convertCheckpoint("tiny_v1_miil.pth")
        var options = Conversion.Options()
        options.dialect = "timm"
        options.variant = "tresnet_m"
        let e = convertError { _ = try Conversion.prepare(ckpt, options: options) }
        #expect(e?.message.contains("unexpected body.conv1.0.weight") == true)
        #expect(e?.message.contains("this looks like the MIIL spelling") == true)
    }

    @Test func forcedVariantMismatchHintsAtTheOtherVariant() throws {
        let (ckpt, _) = try convertCheckpoint("tiny_v2.pth")
        var options = Conversion.Options()
        options.variant = "tresnet_v2_l"
        let e = convertError { _ = try Conversion.prepare(ckpt, options: options) }
        #expect(
            e?.message.contains("shape     body.conv1.conv.weight expected [64, 48, 3, 3], file has [8, 48, 3, 3]")
                == true)
        #expect(e?.message.contains("other variant") == true)
        #expect(e?.message.contains("missing   body.layer3.2.conv1.conv.weight") == true)
    }

    @Test func unknownSpellingIsExplained() throws {
        var sd = StateDict()
        try sd.insert("encoder.weight", Tensor(shape: [1], floats: [0]))
        let e = convertError {
            _ = try Conversion.prepare(LoadedCheckpoint(path: "x.pth", container: .pytorchZip, stateDict: sd))
        }
        #expect(e?.message.contains("not a TResNet state dict") == true)
        #expect(e?.message.contains("encoder.weight") == true)
    }

    @Test func summaryExplainsTheDecision() throws {
        let (ckpt, record) = try convertCheckpoint("tiny_v2_miil.pth")
        let out = FixturePaths.temporaryDirectory("convert") + "/s.tw"
        let summary = try Conversion.convert(
            checkpoint: ckpt, sourceSHA256: record.sha256, output: out, options: .init())
        let text = summary.lines.joined(separator: "\n")
        #expect(text.contains("state dict under 'model'"))
        #expect(text.contains("miil (detected)"))
        #expect(text.contains("layer1 has bottleneck blocks"))
        #expect(text.contains("custom configuration"))
        #expect(summary.tensors == TResNet(summary.architecture.configuration).storedTensors.count)
    }
}

@Suite struct ConvertFromTWTests {
    func makeTW(_ file: String, dtype: OutputDType = .keep) throws -> (String, LoadedCheckpoint) {
        let (ckpt, record) = try convertCheckpoint(file)
        let out = FixturePaths.temporaryDirectory("fromtw") + "/src.tw"
        var options = Conversion.Options()
        options.dtype = dtype
        options.preprocessing = PreprocessingConfig(
            inputSize: 448, cropPct: 1.0, cropMode: .squash, interpolation: .bicubic)
        _ = try Conversion.convert(checkpoint: ckpt, sourceSHA256: record.sha256, output: out, options: options)
        return (out, ckpt)
    }

    @Test func twSourceConvertsAndKeepsItsPreprocessing() throws {
        let (source, _) = try makeTW("tiny_v1_miil.pth")
        let out = source.replacingOccurrences(of: "src.tw", with: "half.tw")
        var options = Conversion.Options()
        options.dtype = .f16
        let summary = try Conversion.convert(source: source, output: out, options: options)
        #expect(summary.sourceFormat == .tw && summary.dialect == "timm" && summary.transformedWeights == 0)
        let model = try TWModel.open(path: out, verifyChecksums: true)
        #expect(model.metadata.sourceFormat == "tw")
        #expect(model.metadata.preprocessing.timmInputSize == [3, 448, 448])
        #expect(model.metadata.preprocessing.interpolation == .bicubic)
        #expect(model.metadata.preprocessing.cropMode == .squash)
        // Same tensors as the source .tw, narrowed except BatchNorm.
        let src = try TWFile.open(path: source)
        #expect(model.file.entries.map(\.name) == src.entries.map(\.name))
        for e in src.entries {
            let t = try #require(src.tensor(e.name))
            let expected = e.name.contains(".bn.") ? t : try t.converted(to: .float16)
            #expect(model.file.tensor(e.name)?.data.toArray() == expected.data.toArray(), "\(e.name)")
        }
    }

    @Test func truncatedSourceFailsNamingTheFileAndWritesNothing() throws {
        let (source, _) = try makeTW("tiny_v2.pth")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        let dir = FixturePaths.temporaryDirectory("fromtw")
        let cut = dir + "/cut.tw"
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: cut))
        let e = convertError { _ = try Conversion.convert(source: cut, output: dir + "/o.tw", options: .init()) }
        #expect(e?.code == .truncated)
        #expect(e?.description.contains("cut.tw") == true)
        #expect(
            e?.description.contains("the header says \(bytes.count) bytes, the file has \(bytes.count - 100)") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["cut.tw"])
    }

    @Test func corruptTensorInSourceIsNamed() throws {
        let (source, _) = try makeTW("tiny_v1.pth")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: source)))
        let file = try TWFile.open(path: source)
        let e0 = try #require(file.entries.first { $0.name == "body.layer2.1.conv1.conv.weight" })
        bytes[file.dataOffset + e0.offset] ^= 0x10
        let dir = FixturePaths.temporaryDirectory("fromtw")
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/bad.tw"))
        let e = convertError {
            _ = try Conversion.convert(source: dir + "/bad.tw", output: dir + "/o.tw", options: .init())
        }
        #expect(e?.code == .checksumMismatch)
        #expect(e?.description.contains("body.layer2.1.conv1.conv.weight") == true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/o.tw"))
    }
}

@Suite struct ConvertMappingTests {
    @Test func mixedSpellingsThatCollideAreRefused() throws {
        var (ckpt, _) = try convertCheckpoint("tiny_v1_miil.pth")
        // The timm spelling of a tensor the MIIL spelling already has.
        try ckpt.stateDict.insert("body.layer1.0.conv1.bn.bias", Tensor(shape: [4], floats: [0, 0, 0, 0]))
        let e = convertError { _ = try Conversion.prepare(ckpt) }
        #expect(e?.code == .binding)
        #expect(e?.message.contains("body.layer1.0.conv1.bn.bias") == true)
    }

    @Test func problemsOnRenamedTensorsShowTheFileName() throws {
        var (ckpt, _) = try convertCheckpoint("tiny_v1_miil.pth")
        ckpt.stateDict.remove("body.layer2.0.conv1.0.1.bias")
        try ckpt.stateDict.insert("body.layer2.0.conv1.0.1.bias", Tensor(shape: [3], floats: [0, 0, 0]))
        let e = convertError { _ = try Conversion.prepare(ckpt) }
        #expect(
            e?.message.contains(
                "shape     body.layer2.0.conv1.bn.bias expected [8], file has [3] (in the file: 'body.layer2.0.conv1.0.1.bias')"
            ) == true,
            "\(String(describing: e?.message))")
    }
}

@Suite struct ConvertToSafetensorsTests {
    @Test(arguments: ["tiny_v1_miil.pth", "tiny_v2_miil.pth"])
    func miilBecomesACleanTimmSafetensorsFile(file: String) throws {
        let (ckpt, record) = try convertCheckpoint(file)
        let dir = FixturePaths.temporaryDirectory("st")
        _ = try Conversion.convert(
            checkpoint: ckpt, sourceSHA256: record.sha256, output: dir + "/m.tw", options: .init())
        let summary = try Conversion.convert(
            checkpoint: ckpt, sourceSHA256: record.sha256, output: dir + "/m.safetensors",
            options: .init())
        #expect(summary.outputKind.hasPrefix("safetensors"))
        let (sd, metadata) = try SafetensorsReader.read(path: dir + "/m.safetensors")
        let tw = try TWFile.open(path: dir + "/m.tw")
        #expect(Set(sd.names) == Set(tw.entries.map(\.name)))
        for e in tw.entries { #expect(sd[e.name]?.data.toArray() == tw.tensor(e.name)?.data.toArray(), "\(e.name)") }
        #expect(metadata["format"] == "pt")
        #expect(metadata["source.dialect"] == "miil")
        #expect(metadata["conversion.bn_weight_transform"] == "abs_plus_eps")
        guard let python = projectPython else { return }
        // timm loads it as it is, strictly.
        let arch = try #require(record.arch)
        let script = """
            import sys, timm
            from safetensors.torch import load_file
            from timm.models.tresnet import TResNet
            m = TResNet(layers=\(arch.layers), num_classes=\(arch.num_classes), width_factor=\(arch.planes)/64, v2=\(arch.layout == "v2" ? "True" : "False"))
            print(m.load_state_dict(load_file(sys.argv[1]), strict=True))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script, dir + "/m.safetensors"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && text.contains("All keys matched successfully"), "\(text)")
    }
}

@Suite struct ConvertMIILVariantsTests {
    /// A remove_aa_jit build stores the blur filter (`…conv1.1.op.filt`); inplace_abn ≥ 1.1 adds
    /// `num_batches_tracked`. Both convert: the filter is dropped (and reported), the counter accepted and not written.
    @Test func filtDroppedAndNumBatchesTrackedAccepted() throws {
        var (ckpt, record) = try convertCheckpoint("tiny_v1_miil.pth")
        let filt = "body.layer2.0.conv1.1.op.filt"
        try ckpt.stateDict.insert(filt, Tensor(shape: [8, 1, 3, 3], floats: [Float](repeating: 1.0 / 16, count: 72)))
        let nbt = "body.layer3.0.conv3.1.num_batches_tracked"
        let store = withUnsafeBytes(of: Int64(7).littleEndian) { ByteStore.copying($0) }
        try ckpt.stateDict.insert(nbt, Tensor(dtype: .int64, shape: [], data: ByteSlice(store: store)))
        let out = FixturePaths.temporaryDirectory("miil") + "/m.tw"
        let summary = try Conversion.convert(
            checkpoint: ckpt, sourceSHA256: record.sha256, output: out, options: .init())
        #expect(summary.dropped == [filt])
        #expect(summary.lines.contains { $0.contains("dropped:") && $0.contains(filt) })
        let file = try TWFile.open(path: out)
        #expect(!file.entries.contains { $0.name.contains("filt") || $0.name.contains("num_batches_tracked") })
        #expect(file.entries.count == TResNet(summary.architecture.configuration).storedTensors.count)
    }
}
