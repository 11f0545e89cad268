import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetCheckpoint
import TResNetCore
import TResNetRuntime

@Suite("tresnet-verify", .serialized)
struct VerifyCLITests {
    @Test("tiny_v1.pth against PyTorch's activations: every tap passes, exit 0")
    func passes() throws {
        let run = try runTool(
            try tool("tresnet-verify"),
            [FixturePaths.tiny("tiny_v1.pth"), "--reference", FixturePaths.tiny("tiny_v1.reference.npz")])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        for tap in TResNetNetwork.tapNames { #expect(run.stdout.contains(tap), "\(tap)") }
        #expect(run.stdout.contains("PASSED"))
        #expect(run.stdout.contains("top-1 agreement: 2/2"))
    }

    @Test(
        "--backend: every backend passes and is named (ours run everywhere: portable C without a vector ISA)",
        arguments: ConvolutionBackend.allCases)
    func backends(_ backend: ConvolutionBackend) throws {
        let run = try runTool(
            try tool("tresnet-verify"),
            [
                FixturePaths.tiny("tiny_v1.pth"), "--reference", FixturePaths.tiny("tiny_v1.reference.npz"),
                "--backend", backend.rawValue
            ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("\(try backend.resolved().rawValue) kernels"), "\(run.stdout)")
        #expect(run.stdout.contains("PASSED"))
    }

    @Test(
        "--precision bf16: passes at the bf16 tolerance with top-1 agreement (AVX512-BF16), fails float32's; not with blas"
    )
    func bf16() throws {
        let args = [
            FixturePaths.tiny("tiny_v1.pth"), "--reference", FixturePaths.tiny("tiny_v1.reference.npz"),
            "--precision", "bf16"
        ]
        let blas = try runTool(try tool("tresnet-verify"), args + ["--backend", "blas"])
        #expect(blas.status == 64 && blas.stderr.contains("bf16"), "\(blas.stderr)")
        let run = try runTool(try tool("tresnet-verify"), args)
        guard Precision.bf16Available else {
            #expect(run.status == 64 && run.stderr.contains("AVX512-BF16"), "\(run.stderr)")
            return
        }
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("winograd kernels, bf16") && run.stdout.contains("top-1 agreement: 2/2"))
        #expect(run.stdout.contains("≤ 0.5 + 0.05·|reference|"), "\(run.stdout)")
        let strict = try runTool(try tool("tresnet-verify"), args + ["--atol", "1e-4", "--rtol", "1e-4"])
        #expect(strict.status == 3, "bf16 is not float32: \(strict.stdout)")
    }

    @Test("body.layer2 scaled by 1 %: exit 3, body.layer2 named as the first failing tap, later taps pass")
    func perturbedTap() throws {
        var arrays = try NpzArchive.read(path: FixturePaths.tiny("tiny_v1.reference.npz"))
        let i = try #require(arrays.firstIndex { $0.name == "body.layer2" })
        let t = arrays[i].tensor
        arrays[i].tensor = Tensor(shape: t.shape, floats: try t.floats().map { $0 * 1.01 })
        let dir = FixturePaths.temporaryDirectory("verify")
        let perturbed = dir + "/perturbed.npz"
        try NpzWriter.write(arrays, to: perturbed)
        let report = dir + "/report.json"
        let run = try runTool(
            try tool("tresnet-verify"),
            [FixturePaths.tiny("tiny_v1.pth"), "--reference", perturbed, "--report", report])
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("FAILED: first failing tap is body.layer2"))
        #expect(run.stderr.contains("first failing tap is body.layer2"))
        let lines = run.stdout.split(separator: "\n")
        let failing = lines.filter { $0.contains("FAIL (") }.map { String($0.prefix { $0 != " " }) }
        #expect(failing == ["body.layer2"])
        // the report still gets written on failure
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
                as? [String: Any])
        #expect(json["passed"] as? Bool == false)
        #expect(json["first_failure"] as? String == "body.layer2")
    }

    @Test("a missing reference exits 1; a corrupt one exits 2; one line on stderr each")
    func badReferences() throws {
        let verify = try tool("tresnet-verify")
        let weights = FixturePaths.tiny("tiny_v1.pth")
        let missing = try runTool(verify, [weights, "--reference", "/nonexistent/ref.npz"])
        #expect(missing.status == 1, "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1)
        #expect(missing.stderr.contains("/nonexistent/ref.npz"))

        let dir = FixturePaths.temporaryDirectory("verify")
        let corrupt = dir + "/corrupt.npz"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("tiny_v1.reference.npz")))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: corrupt))
        let bad = try runTool(verify, [weights, "--reference", corrupt])
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1)
        #expect(bad.stderr.contains("corrupt.npz"))
    }

    @Test("--report writes the report: passed, every tap with its errors")
    func jsonReport() throws {
        let path = FixturePaths.temporaryDirectory("verify") + "/report.json"
        let run = try runTool(
            try tool("tresnet-verify"),
            [
                FixturePaths.tiny("tiny_v1.pth"), "--reference",
                FixturePaths.tiny("tiny_v1.reference.npz"), "--report", path
            ])
        #expect(run.status == 0)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
                as? [String: Any])
        #expect(json["passed"] as? Bool == true)
        let report = try #require(json["report"] as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.compactMap { $0["name"] as? String } == TResNetNetwork.tapNames)
        #expect(rows.allSatisfy { $0["passed"] as? Bool == true })
    }

    static let forms: [(weights: String, reference: String)] = [
        ("tiny_v1.pth", "tiny_v1.reference.npz"),
        ("tiny_v1_legacy.pth", "tiny_v1.reference.npz"),
        ("tiny_v1_miil.pth", "tiny_v1_miil.reference.npz"),
        ("tiny_v1.safetensors", "tiny_v1.reference.npz"),
        ("tiny_v1.ts.onnx", "tiny_v1.reference.npz"),
        ("tiny_v1.dynamo.onnx", "tiny_v1.reference.npz")
    ]

    @Test("every tiny weight form verifies against PyTorch", arguments: forms)
    func everyForm(_ form: (weights: String, reference: String)) throws {
        let run = try runTool(
            try tool("tresnet-verify"),
            [FixturePaths.tiny(form.weights), "--reference", FixturePaths.tiny(form.reference)])
        #expect(run.status == 0, "\(form.weights): \(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("PASSED"))
    }

    @Test(
        "a .tw made by tresnet-convert verifies (plain and MIIL-spelling sources)",
        arguments: [("tiny_v1.pth", "tiny_v1.reference.npz"), ("tiny_v1_miil.pth", "tiny_v1_miil.reference.npz")])
    func convertedTW(_ form: (weights: String, reference: String)) throws {
        let tw = FixturePaths.temporaryDirectory("verify") + "/m.tw"
        let convert = try runTool(try tool("tresnet-convert"), [FixturePaths.tiny(form.weights), tw])
        try #require(convert.status == 0, "\(convert.stderr)")
        let run = try runTool(try tool("tresnet-verify"), [tw, "--reference", FixturePaths.tiny(form.reference)])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("PASSED"))
    }

    // MARK: - trained-like activations (issue 16)

    static let micro = (weights: "trained_micro.safetensors", reference: "trained_micro.reference.npz")

    @Test("trained-like micro fixture: passes by default; --oracle prints the three distances per tap")
    func trainedMicroOracle() throws {
        let verify = try tool("tresnet-verify")
        let args = [FixturePaths.tiny(Self.micro.weights), "--reference", FixturePaths.tiny(Self.micro.reference)]
        let plain = try runTool(verify, args)
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.contains("err/scale") && plain.stdout.contains("budget"))
        let path = FixturePaths.temporaryDirectory("verify") + "/oracle.json"
        let run = try runTool(verify, args + ["--oracle", "--report", path])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("ours↔f64") && run.stdout.contains("ref↔f64"))
        #expect(!run.stdout.contains("inf"))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
                as? [String: Any])
        let rows = try #require((json["report"] as? [String: Any])?["rows"] as? [[String: Any]])
        for row in rows {
            let oracle = try #require(row["oracle"] as? [String: Any], "\(row["name"] ?? "")")
            for key in ["ours_to_reference", "ours_to_float64", "reference_to_float64"] {
                #expect(oracle[key] is Double, "\(key)")
            }
        }
    }

    @Test("trained-like micro fixture with body.layer3 scaled by 1 %: exit 3, body.layer3 named")
    func trainedMicroPerturbed() throws {
        var arrays = try NpzArchive.read(path: FixturePaths.tiny(Self.micro.reference))
        let i = try #require(arrays.firstIndex { $0.name == "body.layer3" })
        let t = arrays[i].tensor
        arrays[i].tensor = Tensor(shape: t.shape, floats: try t.floats().map { $0 * 1.01 })
        let perturbed = FixturePaths.temporaryDirectory("verify") + "/perturbed.npz"
        try NpzWriter.write(arrays, to: perturbed)
        let run = try runTool(
            try tool("tresnet-verify"), [FixturePaths.tiny(Self.micro.weights), "--reference", perturbed])
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("FAILED: first failing tap is body.layer3"))
    }

    @Test("a reference tap of the wrong shape: exit 2, one line on stderr; --report gets an error object")
    func shapeMismatchJSON() throws {
        var arrays = try NpzArchive.read(path: FixturePaths.tiny(Self.micro.reference))
        let i = try #require(arrays.firstIndex { $0.name == "body.layer2" })
        arrays[i].tensor = Tensor(shape: [2, 2], floats: [1, 0, 0, 1])
        let dir = FixturePaths.temporaryDirectory("verify")
        let bad = dir + "/badshape.npz", path = dir + "/error.json"
        try NpzWriter.write(arrays, to: bad)
        let run = try runTool(
            try tool("tresnet-verify"),
            [FixturePaths.tiny(Self.micro.weights), "--reference", bad, "--report", path])
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(run.stderr.contains("badshape.npz") && run.stderr.contains("body.layer2"), "\(run.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
                as? [String: Any])
        #expect(json["passed"] as? Bool == false)
        let error = try #require(json["error"] as? [String: Any])
        #expect(error["code"] as? String == "malformed")
        #expect(error["exit_code"] as? Int == 2)
        #expect((error["message"] as? String)?.contains("body.layer2") == true)
    }

    @Test("a reference holding zeros where ours is not: the report never prints inf, text or JSON")
    func zerosNeverInf() throws {
        var arrays = try NpzArchive.read(path: FixturePaths.tiny(Self.micro.reference))
        let i = try #require(arrays.firstIndex { $0.name == "head.fc" })
        let t = arrays[i].tensor
        arrays[i].tensor = Tensor(shape: t.shape, floats: [Float](repeating: 0, count: t.elementCount))
        let dir = FixturePaths.temporaryDirectory("verify")
        let zeros = dir + "/zeros.npz", path = dir + "/zeros.json"
        try NpzWriter.write(arrays, to: zeros)
        let run = try runTool(
            try tool("tresnet-verify"),
            [FixturePaths.tiny(Self.micro.weights), "--reference", zeros, "--report", path])
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("inf") && !run.stdout.lowercased().contains("nan"), "\(run.stdout)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("inf"))
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
    }
}
