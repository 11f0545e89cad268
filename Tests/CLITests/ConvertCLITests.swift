import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetFormat
import TResNetModel

/// Runs a built executable of this package; returns exit status, stdout and stderr.
func runConvertTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let r = try runBuiltTool(name, arguments)
    return (r.status, r.stdout, r.stderr)
}

@Suite struct ConvertCLITests {
    @Test func helpNamesTheOptions() throws {
        let r = try runConvertTool("tresnet-convert", ["--help"])
        #expect(r.status == 0)
        for option in ["--dtype", "--variant", "--dialect", "--force", "--allow-unexpected", "--dry-run"] {
            #expect(r.out.contains(option), "\(option)")
        }
    }

    @Test func existingOutputWithoutForceExits1AndIsUntouched() throws {
        let dir = FixturePaths.temporaryDirectory("cli")
        let out = dir + "/o.tw"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: out))
        let r = try runConvertTool("tresnet-convert", [FixturePaths.tiny("tiny_v1.pth"), out])
        #expect(r.status == 1)
        #expect(r.err.contains("exists (use --force"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "precious")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["o.tw"])
    }

    @Test func badDTypeIsAUsageError() throws {
        let dir = FixturePaths.temporaryDirectory("cli")
        let r = try runConvertTool(
            "tresnet-convert", [FixturePaths.tiny("tiny_v1.pth"), dir + "/o.tw", "--dtype", "f8"])
        #expect(r.status != 0 && r.status != 2)
        #expect(r.err.contains("--dtype"))
        #expect(convertDirIsEmpty(dir))
    }

    @Test func unreadableSourceExits2AndWritesNothing() throws {
        let dir = FixturePaths.temporaryDirectory("cli")
        let source = dir + "/notes.pth"
        try Data("this is not a checkpoint\n".utf8).write(to: URL(fileURLWithPath: source))
        let r = try runConvertTool("tresnet-convert", [source, dir + "/o.tw"])
        #expect(r.status == 2)
        #expect(r.err.contains("notes.pth"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["notes.pth"])
    }

    // MARK: Once the readers are in

    static let convertible = [
        "tiny_v1.pth", "tiny_v1_miil.pth", "tiny_v2.pth", "tiny_v2_miil.pth", "tiny_v1_legacy.pth",
        "tiny_v1_wrapped.pth", "tiny_v1_f16.pth", "tiny_v1_bf16.pth", "tiny_v1_views.pth"
    ]

    @Test(arguments: convertible)
    func everyTorchFixtureConverts(file: String) throws { try convertFixture(file) }

    @Test(arguments: ["tiny_v1.safetensors"])
    func everySafetensorsFixtureConverts(file: String) throws { try convertFixture(file) }

    func convertFixture(_ file: String) throws {
        let dir = FixturePaths.temporaryDirectory("cli")
        let out = dir + "/m.tw"
        let r = try runConvertTool("tresnet-convert", [FixturePaths.tiny(file), out])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("architecture:"))
        let model = try TWModel.open(path: out, verifyChecksums: true)
        let record = try #require(try FixtureManifest.load().files[file])
        #expect(model.metadata.sourceSHA256 == record.sha256)
        #expect(model.metadata.sourceDialect == record.dialect)
        let arch = try #require(record.arch)
        #expect(model.metadata.configuration.layers == arch.layers)
        #expect(model.metadata.configuration.planes == arch.planes)
        #expect(model.metadata.configuration.numClasses == arch.num_classes)
        // Tensors not touched by the InPlaceABN rule hold exactly the values PyTorch wrote.
        let mapping = Dialect.named(record.dialect ?? "timm")!
        for t in record.tensors ?? [] {
            guard let canonical = mapping.canonicalName(t.name), !t.name.hasSuffix("num_batches_tracked"),
                !mapping.transformsWeight(canonicalName: canonical)
            else { continue }
            let values = try #require(model.file.tensor(canonical)).floats()
            for s in t.samples { #expect(values[Int(s[0])] == Float(s[1]), "\(canonical)[\(Int(s[0]))]") }
        }
        for (name, samples) in record.expected_timm ?? [:] {
            let values = try #require(model.file.tensor(name)).floats()
            for s in samples { #expect(values[Int(s[0])].bitPattern == Float(s[1]).bitPattern, "\(name)") }
        }
    }

    @Test
    func truncatedSourceFailsAndWritesNothing() throws {
        let dir = FixturePaths.temporaryDirectory("cli")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("tiny_v1.pth")))
        let source = dir + "/cut.pth"
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: source))
        let r = try runConvertTool("tresnet-convert", [source, dir + "/o.tw"])
        #expect(r.status == 2)
        #expect(r.err.contains("cut.pth"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["cut.pth"])
    }

    @Test
    func forcedWrongVariantExits2WithTheFullList() throws {
        let dir = FixturePaths.temporaryDirectory("cli")
        let r = try runConvertTool(
            "tresnet-convert", [FixturePaths.tiny("tiny_v1.pth"), dir + "/o.tw", "--variant", "tresnet_m"])
        #expect(r.status == 2)
        #expect(r.err.contains("body.conv1.conv.weight expected [64, 48, 3, 3], file has [4, 48, 3, 3]"))
        #expect(r.err.contains("hint: other variant"))
        #expect(convertDirIsEmpty(dir))
    }
}

/// The project's Python (torch + timm), when `make venv` has made it.
let projectPython: String? = {
    let p = FixturePaths.root + "/.venv/bin/python"
    return FileManager.default.isExecutableFile(atPath: p) ? p : nil
}()

@Suite struct ConvertAgainstTimmTests {
    /// Converts a fixture with the CLI, then lets the independent Python reader (scripts/tw_reader.py) check the
    /// file against timm's own checkpoint_filter_fn output of the same source, bit for bit, and load it into
    /// timm with strict=True.
    @Test(
        .enabled(if: projectPython != nil),
        arguments: ["tiny_v1_miil.pth", "tiny_v2_miil.pth", "tiny_v1.pth", "tiny_v2.pth", "tiny_v1_wrapped.pth"])
    func twEqualsTimmConversion(file: String) throws {
        try checkAgainstTimm(FixturePaths.tiny(file))
    }

    /// The full-size tresnet_m files of `make fixtures-full` (git-ignored), when generated.
    @Test(
        .enabled(if: projectPython != nil && FixturePaths.full("tresnet_m_miil.pth") != nil),
        arguments: ["tresnet_m.pth", "tresnet_m_miil.pth", "tresnet_m_wrapped.pth"])
    func fullSizeTwEqualsTimmConversion(file: String) throws {
        try checkAgainstTimm(try #require(FixturePaths.full(file)))
    }

    func checkAgainstTimm(_ source: String) throws {
        let dir = FixturePaths.temporaryDirectory("timm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.tw"
        let file = source
        let r = try runConvertTool("tresnet-convert", [source, out])
        #expect(r.status == 0, "\(r.err)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: projectPython!)
        p.arguments = [FixturePaths.root + "/scripts/tw_reader.py", out, "--timm", file]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("order: same"))
        #expect(text.contains("All keys matched successfully"))
    }
}

/// CLI runs on a `.tw` source (readable without the PyTorch readers).
@Suite struct ConvertCLIFromTWTests {
    func sourceTW(_ file: String) throws -> (dir: String, path: String) {
        let (ckpt, record) = try convertCheckpoint(file)
        let dir = FixturePaths.temporaryDirectory("clitw")
        _ = try Conversion.convert(
            checkpoint: ckpt, sourceSHA256: record.sha256, output: dir + "/src.tw", options: .init())
        return (dir, dir + "/src.tw")
    }

    @Test func convertsWithSummaryAndProgressFreeOutput() throws {
        let (dir, src) = try sourceTW("tiny_v2_miil.pth")
        let r = try runConvertTool("tresnet-convert", [src, dir + "/o.tw", "--dtype", "bf16"])
        #expect(r.status == 0, "\(r.err)")
        for field in ["source:", "dialect:", "architecture:", "tensors:", "bytes:", "time:"] {
            #expect(r.out.contains(field))
        }
        #expect(r.out.contains("(tw, dtype bf16)"))
        #expect(r.err.isEmpty)
        let file = try TWFile.open(path: dir + "/o.tw", verifyChecksums: true)
        #expect(file.entries.contains { $0.dtype == .bfloat16 })
    }

    @Test func dryRunWritesNothing() throws {
        let (dir, src) = try sourceTW("tiny_v1.pth")
        let r = try runConvertTool("tresnet-convert", [src, dir + "/o.tw", "--dry-run"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("dry run, nothing written"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["src.tw"])
    }

    @Test func wrongVariantExits2WithEveryProblem() throws {
        let (dir, src) = try sourceTW("tiny_v1.pth")
        let r = try runConvertTool("tresnet-convert", [src, dir + "/o.tw", "--variant", "tresnet_l"])
        #expect(r.status == 2)
        #expect(r.err.contains("shape     body.conv1.conv.weight expected [76, 48, 3, 3], file has [4, 48, 3, 3]"))
        #expect(r.err.contains("missing   body.layer3.17.conv3.bn.running_var expected [1216]"))
        #expect(r.err.contains("hint: other variant"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["src.tw"])
    }

    @Test func forceReplacesAndShowMappingListsRenames() throws {
        let (dir, src) = try sourceTW("tiny_v1.pth")
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir + "/o.tw"))
        let r = try runConvertTool("tresnet-convert", [src, dir + "/o.tw", "--force", "--show-mapping"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("mapping:      0 renamed tensors"))
        _ = try TWFile.open(path: dir + "/o.tw", verifyChecksums: true)
    }
}
