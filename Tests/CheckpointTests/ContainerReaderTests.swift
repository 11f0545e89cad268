import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

/// Fixtures/containers (Fixtures/gen_containers.py): the containers training code writes, read as inert trees.
enum Containers {
    static func path(_ name: String) -> String { FixturePaths.path("containers/" + name) }

    static func manifest() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("manifest.json")))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(json["files"] as? [String: [String: Any]])
    }

    /// The planted files and the global each names, from the manifest.
    static let planted: [(file: String, global: String)] = {
        guard let m = try? manifest() else { return [] }
        return m.compactMap { k, v in (v["refused_global"] as? String).map { (k, $0) } }.sorted { $0.file < $1.file }
    }()
}

@Suite("Training checkpoints, module pickles and planted primitives (Fixtures/containers)")
struct ContainerReaderTests {
    enum Samples {
        struct Row: Decodable { var name: String; var samples: [[Double]] }
    }

    /// The values PyTorch sampled from `entry` of the timm training checkpoint (JSONDecoder: exact doubles).
    func samples(_ entry: String) throws -> [Samples.Row] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Containers.path("manifest.json")))
        struct Manifest: Decodable {
            struct FileRecord: Decodable { var samples: [String: [Samples.Row]]? }
            var files: [String: FileRecord]
        }
        let decoded = try JSONDecoder().decode(Manifest.self, from: data)
        return try #require(decoded.files["timm_train.pth.tar"]?.samples?[entry])
    }

    /// The loaded tensors equal the values PyTorch sampled from the named state dict, bit for bit.
    func expectSamples(_ loaded: LoadedCheckpoint, _ rows: [Samples.Row]) throws {
        for row in rows {
            let t = try #require(loaded.stateDict[row.name], "\(row.name)")
            for sample in row.samples {
                #expect(
                    t.scalar(at: Int(sample[0]))?.bitPattern == sample[1].bitPattern, "\(row.name)[\(Int(sample[0]))]")
            }
        }
    }

    @Test(
        "timm CheckpointSaver file: state_dict by default (as timm's load_checkpoint), Namespace and numpy metric inert"
    )
    func timmTraining() throws {
        let record = try #require(try Containers.manifest()["timm_train.pth.tar"])
        let loaded = try CheckpointReader.read(path: Containers.path("timm_train.pth.tar"))
        #expect(loaded.wrapper == "state_dict")
        #expect(loaded.otherCandidates == ["state_dict_ema"])
        #expect(loaded.containerKind == record["container"] as? String)
        #expect(loaded.opaqueClasses == record["opaque"] as? [String])
        try expectSamples(loaded, try samples("state_dict"))
        let entries = Dictionary(uniqueKeysWithValues: loaded.nonTensorEntries.map { ($0.name, $0.summary) })
        #expect(entries["metric"] == "float 0.4375")  // numpy.core.multiarray.scalar(float64) decoded
        #expect(entries["args"] == "object argparse.Namespace")
        #expect(entries["amp_scaler"]?.hasPrefix("dict") == true)
    }

    @Test("--ema takes state_dict_ema: the EMA weights, which differ from state_dict")
    func ema() throws {
        let loaded = try CheckpointReader.read(
            path: Containers.path("timm_train.pth.tar"), options: CheckpointReadOptions(ema: true))
        #expect(loaded.wrapper == "state_dict_ema")
        #expect(loaded.otherCandidates == ["state_dict"])
        try expectSamples(loaded, try samples("state_dict_ema"))
        let plain = try CheckpointReader.read(path: Containers.path("timm_train.pth.tar"))
        let a = try #require(plain.stateDict["head.fc.weight"]), b = try #require(loaded.stateDict["head.fc.weight"])
        #expect(Array(a.data.bytes) != Array(b.data.bytes))
        // --key state_dict_ema is the same choice
        let keyed = try CheckpointReader.read(path: Containers.path("timm_train.pth.tar"), key: "state_dict_ema")
        #expect(keyed.stateDict["head.fc.weight"].map { Array($0.data.bytes) } == Array(b.data.bytes))
    }

    @Test("--strict-pickle refuses the training checkpoint naming argparse.Namespace, as weights_only=True does")
    func strict() throws {
        let e = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(
                path: Containers.path("timm_train.pth.tar"), options: CheckpointReadOptions(strictPickle: true))
        }
        #expect(e?.code == .disallowedGlobal)
        #expect(e?.description.contains("'argparse.Namespace'") == true, "\(e?.description ?? "")")
    }

    @Test("Lightning checkpoint: state_dict taken; the module prefix is left to prefix detection (TResNetKit)")
    func lightning() throws {
        let loaded = try CheckpointReader.read(path: Containers.path("lightning.ckpt"))
        #expect(loaded.wrapper == "state_dict")
        #expect(loaded.containerKind == "Lightning checkpoint")
        #expect(loaded.stateDict.names.allSatisfy { $0.hasPrefix("model.") })
        let forced = try CheckpointReader.read(
            path: Containers.path("lightning.ckpt"), options: CheckpointReadOptions(prefix: "model."))
        #expect(forced.strippedPrefix == "model.")
        #expect(forced.prefixForced)
        #expect(forced.stateDict.contains("body.conv1.conv.weight"))
        let bad = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(
                path: Containers.path("lightning.ckpt"), options: CheckpointReadOptions(prefix: "net."))
        }
        #expect(bad?.description.contains("'net.'") == true)
    }

    @Test("MIIL whole-module pickle: the module tree walked into state_dict() names, MIIL spelling, classes inert")
    func miilModule() throws {
        let loaded = try CheckpointReader.read(path: Containers.path("module_miil.pth"))
        #expect(loaded.wrapper == nil)
        #expect(loaded.containerKind == "whole pickled module src.models.tresnet.tresnet.TResNet")
        #expect(loaded.opaqueClasses.contains("inplace_abn.abn.InPlaceABN"))
        #expect(loaded.stateDict.names.first == "body.conv1.0.weight")
        #expect(loaded.stateDict.contains("body.conv1.1.running_var"))
        #expect(loaded.stateDict.contains("head.fc.weight"))
    }

    /// Fixtures/gen_modules.py's module pickles and compiled state dict: the container and prefix the manifest
    /// records, the state_dict() names bound, the weights those of timm_train.pth.tar's `state_dict`.
    @Test(
        "timm, DataParallel and DDP module pickles and a torch.compile state dict: container, prefix, weights",
        arguments: ["module_timm.pth", "module_dataparallel.pth", "module_ddp.pth", "compiled_state_dict.pth"])
    func modulePickles(_ file: String) throws {
        let record = try #require(try Containers.manifest()[file])
        let loaded = try CheckpointReader.read(path: Containers.path(file))
        #expect(loaded.containerKind == record["container"] as? String)
        #expect(loaded.strippedPrefix == record["prefix"] as? String)
        #expect(loaded.stateDict.names.first == "body.conv1.conv.weight")
        try expectSamples(loaded, try samples("state_dict"))
    }

    /// torch.save(torch.compile(model)) pickles the compiler's state, a bound method among it (rebuilt through
    /// getattr): refused as any getattr is, naming it and its offset — the file's weights are the same model's.
    @Test("a pickled torch.compile module is refused at its getattr, naming it and the offset")
    func compiledModule() throws {
        let e = #expect(throws: TResNetError.self) {
            try CheckpointReader.read(path: Containers.path("module_compiled.pth"))
        }
        #expect(e?.code == .disallowedGlobal)
        #expect(e?.description.contains("'__builtin__.getattr'") == true, "\(e?.description ?? "")")
        if case .offset(let o)? = e?.location { #expect(o > 0) } else { Issue.record("no offset") }
    }

    @Test(
        "every planted code-execution primitive is refused naming it, at an offset, in both modes",
        arguments: Containers.planted)
    func planted(_ file: String, _ global: String) throws {
        for strict in [false, true] {
            let e = #expect(throws: TResNetError.self) {
                try CheckpointReader.read(
                    path: Containers.path(file), options: CheckpointReadOptions(strictPickle: strict))
            }
            #expect(e?.code == .disallowedGlobal, "\(file)")
            #expect(e?.description.contains("'\(global)'") == true, "\(file): \(e?.description ?? "")")
            if case .offset(let o)? = e?.location { #expect(o > 0) } else { Issue.record("\(file): no offset") }
        }
    }

    @Test("the planted list covers the primitives docs/READERS.md names")
    func plantedCoverage() {
        #expect(Containers.planted.count >= 23)
        // as pickle protocol 2 (torch.save's) spells them: Python 2 names for builtins and subprocess
        for g in [
            "posix.system", "nt.system", "commands.Popen", "__builtin__.eval", "__builtin__.exec",
            "__builtin__.compile",
            "__builtin__.getattr", "__builtin__.__import__", "io.open", "pty.spawn", "socket.socket", "shutil.rmtree",
            "importlib.import_module", "pickle.loads", "marshal.loads", "functools.partial", "runpy.run_path",
            "ctypes.CDLL", "webbrowser.open", "sys.exit", "code.interact", "torch.serialization.load"
        ] {
            #expect(Containers.planted.contains { $0.global == g }, "\(g)")
        }
    }
}

@Suite("Opaque objects and the denylist in the pickle machine")
struct OpaqueObjectTests {
    func parse(_ body: [UInt8], strict: Bool = false) throws -> PickleResult {
        try PickleBytes.stream(body).withUnsafeBytes { try PickleMachine.parse($0, strict: strict) }
    }

    @Test("a primitive that is only named (never called) is refused at its GLOBAL's offset")
    func namedOnly() throws {
        // {'extra': os.system} — a value, no REDUCE
        let body: [UInt8] = [0x7D] + PickleBytes.unicode("extra") + PickleBytes.global("os", "system") + [0x73]
        for strict in [false, true] {
            let e = #expect(throws: TResNetError.self) { try parse(body, strict: strict) }
            #expect(e?.code == .disallowedGlobal)
            #expect(e?.description.contains("'os.system'") == true, "\(e?.description ?? "")")
            if case .offset(let o)? = e?.location { #expect(o == 2 + 1 + 5 + 5) } else { Issue.record("no offset") }
        }
    }

    @Test("NEWOBJ + BUILD + SETITEMS on an unknown class: kept as an inert object with its state and items")
    func objectParts() throws {
        let body =
            PickleBytes.global("argparse", "Namespace") + [0x29, 0x81]  // NEWOBJ
            + [0x7D] + PickleBytes.unicode("lr") + [0x4B, 3, 0x73, 0x62]  // {'lr': 3} BUILD
            + PickleBytes.unicode("k") + [0x4B, 1, 0x73]  // SETITEM on the object
        let r = try parse(body)
        let o = try #require(r.arena.object(r.root))
        #expect(o.qualifiedName == "argparse.Namespace")
        #expect(o.builtBy == "NEWOBJ")
        let lr = try #require(o.attribute("lr", in: r.arena))
        #expect(r.arena.summary(lr) == "int 3")
        #expect(o.dictItems.flatMap { r.arena.dict($0) }?.count == 1)
        #expect(r.arena.opaqueClasses == ["argparse.Namespace"])
    }

    @Test(
        "a small NumPy array (_reconstruct + BUILD) decodes to its values; numpy.loads gives [1.5, -2.0, 0.25] for these bytes"
    )
    func numpyArray() throws {
        let dtype =
            PickleBytes.global("numpy", "dtype") + PickleBytes.unicode("f8") + [0x89, 0x88, 0x87, 0x52]
            + [0x28, 0x4B, 3] + PickleBytes.unicode("<") + [
                0x4E, 0x4E, 0x4E, 0x4A, 0xFF, 0xFF, 0xFF, 0xFF, 0x4A, 0xFF, 0xFF, 0xFF, 0xFF, 0x4B, 0, 0x74, 0x62
            ]
        var data: [UInt8] = []
        for v in [1.5, -2.0, 0.25] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
        let body =
            PickleBytes.global("numpy.core.multiarray", "_reconstruct") + PickleBytes.global("numpy", "ndarray")
            + [0x4B, 0, 0x85, 0x43, 1, 0x62, 0x87, 0x52]
            + [0x28, 0x4B, 1, 0x4B, 3, 0x85] + dtype + [0x89, 0x43, UInt8(data.count)] + data + [0x74, 0x62]
        let r = try parse(body)
        guard case .list(let l) = r.arena[r.root] else {
            Issue.record("not a list: \(r.arena.summary(r.root))"); return
        }
        #expect(r.arena.lists[l].map { r.arena.summary($0) } == ["float 1.5", "float -2.0", "float 0.25"])
        #expect(r.arena.opaqueClasses == ["numpy.dtype"])
    }

    @Test("unknown tensor rebuild functions stay refused (never an opaque 'tensor')")
    func unknownRebuild() throws {
        let e = #expect(throws: TResNetError.self) {
            try parse(PickleBytes.global("torch._utils", "_rebuild_sparse_tensor") + [0x29, 0x52])
        }
        #expect(e?.code == .disallowedGlobal)
    }

    @Test("the object tree text escapes file-supplied names")
    func treeEscapes() throws {
        let body: [UInt8] =
            [0x7D] + PickleBytes.unicode("a\u{1B}[31mb")
            + PickleBytes.global("evil\u{1B}]0;x", "C\nD".replacingOccurrences(of: "\n", with: "_")) + [
                0x29, 0x81, 0x73
            ]
        let r = try parse(body)
        let text = PickleTree.render(r.arena, root: r.root)
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B }, "\(text)")
        #expect(text.contains("NEWOBJ, never constructed"))
    }

    @Test("a shared sub-tree is shown once, so the tree text is bounded by the node count")
    func treeShared() throws {
        var p: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x30]  // EMPTY_LIST, BINPUT 0, POP
        for level in 1...40 {
            p += [0x28, 0x68, UInt8(level - 1), 0x68, UInt8(level - 1), 0x6C, 0x71, UInt8(level), 0x30]
        }
        p += [0x68, 40, 0x2E]
        let r = try p.withUnsafeBytes { try PickleMachine.parse($0) }
        let text = PickleTree.render(r.arena, root: r.root)
        #expect(text.split(separator: "\n").count < 200)
    }
}
