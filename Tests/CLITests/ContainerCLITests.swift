import Foundation
import Testing
import TestSupport
import TResNetKit

/// tresnet-convert / tresnet-verify / tresnet-inspect on the containers training code writes (Fixtures/containers;
/// the full-size tresnet_m set in Fixtures/full/containers when `make fixtures-full` made it).
@Suite("Containers: convert with no flags, parity on every tap, summaries", .serialized)
struct ContainerCLITests {
    static func path(_ name: String) -> String { FixturePaths.path("containers/" + name) }

    static let micro: [(source: String, reference: String)] = [
        ("timm_train.pth.tar", "weights.reference.npz"),
        ("lightning.ckpt", "weights.reference.npz"),
        ("module_miil.pth", "miil.reference.npz"),
        ("module_timm.pth", "weights.reference.npz"),
        ("module_dataparallel.pth", "weights.reference.npz"),
        ("module_ddp.pth", "weights.reference.npz"),
        ("compiled_state_dict.pth", "weights.reference.npz"),
        ("hub", "weights.reference.npz")
    ]

    /// Converts `source` with no flags, then verifies the .tw against `reference` on every tap.
    func convertAndVerify(_ source: String, _ reference: String, _ extra: [String] = []) throws -> String {
        let tw = FixturePaths.temporaryDirectory("containers") + "/m.tw"
        let convert = try runTool(try tool("tresnet-convert"), [source, tw] + extra)
        try #require(convert.status == 0, "\(source): \(convert.stderr)")
        let verify = try runTool(try tool("tresnet-verify"), [tw, "--reference", reference])
        #expect(verify.status == 0, "\(source): \(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("PASSED"))
        for tap in [
            "body.conv1", "body.layer1", "body.layer2", "body.layer3", "body.layer4", "head.global_pool", "head.fc"
        ] {
            #expect(verify.stdout.contains(tap), "\(source): tap \(tap) not compared")
        }
        return convert.stdout
    }

    @Test("every micro container converts with no flags and matches PyTorch on every tap", arguments: micro)
    func everyContainer(_ c: (source: String, reference: String)) throws {
        _ = try convertAndVerify(Self.path(c.source), Self.path(c.reference))
        // the source itself (no .tw in between) verifies too
        let direct = try runTool(
            try tool("tresnet-verify"), [Self.path(c.source), "--reference", Self.path(c.reference)])
        #expect(direct.status == 0, "\(direct.stdout)\(direct.stderr)")
    }

    @Test("the convert summary names container, key, other candidates, prefix and opaque classes")
    func summaries() throws {
        let train = try convertAndVerify(Self.path("timm_train.pth.tar"), Self.path("weights.reference.npz"))
        #expect(
            train.contains(
                "container:    timm training checkpoint (CheckpointSaver); state dict under 'state_dict' (other candidates: 'state_dict_ema')"
            ), "\(train)")
        #expect(train.contains("prefix:       none"))
        #expect(
            train.contains("opaque:       2 classes kept inert, never constructed: argparse.Namespace, numpy.dtype"),
            "\(train)")
        let lightning = try convertAndVerify(Self.path("lightning.ckpt"), Self.path("weights.reference.npz"))
        #expect(lightning.contains("container:    Lightning checkpoint; state dict under 'state_dict'"), "\(lightning)")
        #expect(lightning.contains("prefix:       'model.' detected and stripped"), "\(lightning)")
        let forced = try convertAndVerify(
            Self.path("lightning.ckpt"), Self.path("weights.reference.npz"), ["--prefix", "model."])
        #expect(forced.contains("prefix:       'model.' forced (--prefix) and stripped"), "\(forced)")
        let miil = try convertAndVerify(Self.path("module_miil.pth"), Self.path("miil.reference.npz"))
        #expect(miil.contains("container:    whole pickled module src.models.tresnet.tresnet.TResNet"), "\(miil)")
        #expect(miil.contains("inplace_abn.abn.InPlaceABN"))
        #expect(miil.contains("InPlaceABN weights → BatchNorm (|w| + 1e-5)"), "\(miil)")
    }

    @Test("--ema converts the EMA weights: a different model from the default state_dict")
    func ema() throws {
        let dir = FixturePaths.temporaryDirectory("containers-ema")
        let plain = try runTool(try tool("tresnet-convert"), [Self.path("timm_train.pth.tar"), dir + "/a.tw"])
        let ema = try runTool(try tool("tresnet-convert"), [Self.path("timm_train.pth.tar"), dir + "/b.tw", "--ema"])
        try #require(plain.status == 0 && ema.status == 0, "\(plain.stderr)\(ema.stderr)")
        #expect(
            ema.stdout.contains("state dict under 'state_dict_ema' (other candidates: 'state_dict')"), "\(ema.stdout)")
        // the EMA model is not the state_dict model: it fails parity against the state_dict reference
        let verify = try runTool(
            try tool("tresnet-verify"), [dir + "/b.tw", "--reference", Self.path("weights.reference.npz")])
        #expect(verify.status == 3, "\(verify.stdout)")
    }

    @Test("--strict-pickle refuses the training checkpoint naming the class, exit 2, one line")
    func strictPickle() throws {
        let run = try runTool(try tool("tresnet-inspect"), [Self.path("timm_train.pth.tar"), "--strict-pickle"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("'argparse.Namespace'"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test("a planted primitive is refused by every tool naming it, exit 2, nothing written")
    func planted() throws {
        let dir = FixturePaths.temporaryDirectory("containers-planted")
        for (file, global) in [
            ("planted_os_system.pth", "posix.system"), ("planted_functools_partial_os_system.pth", "functools.partial"),
            ("planted_builtins_getattr.pth", "__builtin__.getattr")
        ] {
            let inspect = try runTool(try tool("tresnet-inspect"), [Self.path(file)])
            #expect(inspect.status == 2)
            #expect(inspect.stderr.contains("'\(global)'"), "\(inspect.stderr)")
            let tree = try runTool(try tool("tresnet-inspect"), [Self.path(file), "--tree"])
            #expect(tree.status == 2 && tree.stdout.isEmpty)
            let convert = try runTool(try tool("tresnet-convert"), [Self.path(file), dir + "/x.tw"])
            #expect(convert.status == 2)
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.tw"))
        }
    }

    @Test("inspect --tree prints containers, opaque classes with module paths, tensors with dtype and shape")
    func tree() throws {
        let run = try runTool(try tool("tresnet-inspect"), [Self.path("timm_train.pth.tar"), "--tree"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("dict (9 entries)\n"))
        #expect(run.stdout.contains("'args': object argparse.Namespace (NEWOBJ, never constructed)"))
        #expect(run.stdout.contains("'metric': float 0.4375"))
        #expect(run.stdout.contains("'head.fc.weight': tensor float32 [5, 32]"))
        let module = try runTool(try tool("tresnet-inspect"), [Self.path("module_miil.pth"), "--tree"])
        #expect(module.stdout.contains("object inplace_abn.abn.InPlaceABN"))
        let st = try runTool(try tool("tresnet-inspect"), [Self.path("hub/model.safetensors"), "--tree"])
        #expect(st.status == 64, "\(st.stderr)")  // usage (docs/ERRORS.md)
        #expect(st.stderr.contains("holds none"))
    }

    @Test("default inspect lists the opaque classes and how the state dict was found")
    func inspectDefault() throws {
        let run = try runTool(try tool("tresnet-inspect"), [Self.path("module_miil.pth")])
        #expect(run.status == 0)
        #expect(run.stdout.contains("found in:   whole pickled module src.models.tresnet.tresnet.TResNet"))
        #expect(
            run.stdout.contains("opaque:     8 classes kept inert, never constructed: inplace_abn.abn.InPlaceABN"),
            "\(run.stdout)")
        let json = try runTool(try tool("tresnet-inspect"), [Self.path("lightning.ckpt"), "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["stripped_prefix"] as? String == "model.")
        let reading = try #require(object["reading"] as? [String: Any])
        #expect(reading["container"] as? String == "Lightning checkpoint")
    }

    @Test("hub folder: config.json's preprocessing and label names are recorded in the .tw")
    func hub() throws {
        let dir = FixturePaths.temporaryDirectory("containers-hub")
        let convert = try runTool(try tool("tresnet-convert"), [Self.path("hub"), dir + "/h.tw"])
        try #require(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stdout.contains("labels:       5 class names from config.json"))
        let model = try TWModel.open(path: dir + "/h.tw")
        #expect(model.metadata.labelNames == ["cat", "dog", "bird", "fish", "horse"])
        #expect(model.metadata.preprocessing.interpolation == .bicubic)
        #expect(model.metadata.preprocessing.cropPct == 0.9)
        #expect(model.metadata.preprocessing.timmInputSize == [3, 32, 32])
        #expect(model.metadata.preprocessing.mean == [0.485, 0.456, 0.406])
        #expect(model.metadata.preprocessing.std == [0.229, 0.224, 0.225])
        // config.json named directly works the same
        let viaConfig = try runTool(try tool("tresnet-convert"), [Self.path("hub/config.json"), dir + "/c.tw"])
        #expect(viaConfig.status == 0, "\(viaConfig.stderr)")
    }

    static let full: [(source: String, reference: String)] = [
        ("plain.pth", "weights.reference.npz"), ("timm_train.pth.tar", "weights.reference.npz"),
        ("lightning.ckpt", "weights.reference.npz"), ("module_timm.pth", "weights.reference.npz"),
        ("module_dataparallel.pth", "weights.reference.npz"), ("module_miil.pth", "miil.reference.npz"),
        ("hub", "weights.reference.npz")
    ]

    @Test("full size (when generated): tresnet_m in every container converts and matches PyTorch", arguments: full)
    func fullSize(_ c: (source: String, reference: String)) throws {
        guard let source = FixturePaths.full("containers/" + c.source),
            let reference = FixturePaths.full("containers/" + c.reference)
        else { return }
        _ = try convertAndVerify(source, reference)
    }

    @Test("full size (when generated): --ema matches the EMA reference")
    func fullSizeEMA() throws {
        guard let source = FixturePaths.full("containers/timm_train.pth.tar"),
            let reference = FixturePaths.full("containers/weights_ema.reference.npz")
        else { return }
        _ = try convertAndVerify(source, reference, ["--ema"])
    }
}
