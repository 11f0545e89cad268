import Foundation
import Testing
import TestSupport

/// Every documented exit code of docs/ERRORS.md, tool by tool: 0 ok, 64 usage (ArgumentParser's and the tools'
/// own, checked before any file is read), 1 I/O, 2 bad input, 3 parity. Usage and I/O refusals are one line on
/// stderr; in `--json` mode stdout also gets `{"error": {"code", "exit_code", "message"}}`.
@Suite("exit codes, table-driven (docs/ERRORS.md)", .serialized)
struct ExitCodeTableTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var tool: String
        var arguments: [String]
        var status: Int32
        /// Text the one stderr line must contain (nil: not checked; success cases).
        var says: String?

        var testDescription: String { "\(tool) \(arguments.joined(separator: " ")) → \(status)" }
    }

    static let missing = "/nonexistent/missing"
    static let weights = FixturePaths.tiny("tiny_v1.pth")
    static let miilReference = FixturePaths.tiny("tiny_v1_miil.reference.npz")
    static let reference = FixturePaths.tiny("tiny_v1.reference.npz")
    static let image = FixturePaths.tiny("images/baseline_97x75.jpg")
    static let corrupt = FixturePaths.tiny("images/corrupt_truncated.jpg")
    static let folder = FixturePaths.tiny("imagefolder")
    static let hostile = FixturePaths.tiny("hostile_reduce.pth")
    static let scratch = FixturePaths.temporaryDirectory("exit-table")

    static let cases: [Case] = [
        // 0: success
        Case(tool: "tresnet-inspect", arguments: [weights], status: 0),
        Case(tool: "tresnet-verify", arguments: [weights, "--reference", reference], status: 0),
        Case(tool: "tresnet-predict", arguments: [weights, image, "--img-size", "64"], status: 0),
        Case(tool: "tresnet-zoo", arguments: ["show", "tresnet_m"], status: 0),
        // 64: ArgumentParser's rejections and the values the tools refuse before reading anything (the weights
        // path does not exist: the refusal must come first)
        Case(
            tool: "tresnet-convert", arguments: [weights, "x.tw", "--no-such-flag"], status: 64, says: "--no-such-flag"),
        Case(tool: "tresnet-convert", arguments: [missing + ".pth", "out/x.pth"], status: 64, says: "extension"),
        Case(
            tool: "tresnet-convert", arguments: [missing + ".pth", "x.tw", "--dtype", "f8"], status: 64, says: "--dtype"
        ),
        Case(
            tool: "tresnet-convert", arguments: [missing + ".pth", "x.tw", "--variant", "tresnet_q"], status: 64,
            says: "tresnet_q"),
        Case(
            tool: "tresnet-predict", arguments: [missing + ".pth", image, "--img-size", "7"], status: 64,
            says: "--img-size"),
        Case(
            tool: "tresnet-predict", arguments: [missing + ".pth", image, "--interpolation", "nearest"], status: 64,
            says: "nearest"),
        Case(
            tool: "tresnet-predict", arguments: [missing + ".pth", image, "--crop-mode", "zoom"], status: 64,
            says: "zoom"),
        Case(
            tool: "tresnet-predict", arguments: [missing + ".pth", image, "--crop-pct", "0"], status: 64,
            says: "--crop-pct"),
        Case(tool: "tresnet-predict", arguments: [missing + ".pth", image, "--topk", "0"], status: 64, says: "--topk"),
        Case(
            tool: "tresnet-predict", arguments: [missing + ".pth", image, "--dialect", "keras"], status: 64,
            says: "keras"),
        Case(tool: "tresnet-predict", arguments: [missing + ".pth"], status: 64, says: "give at least one image"),
        Case(
            tool: "tresnet-validate", arguments: [missing + ".pth", "--val-dir", folder, "--batch-size", "0"],
            status: 64, says: "--batch-size"),
        Case(
            tool: "tresnet-validate", arguments: [missing + ".pth", "--val-dir", folder, "--shard", "3/2"],
            status: 64, says: "--shard"),
        Case(
            tool: "tresnet-validate", arguments: [missing + ".pth", "--val-dir", folder, "--shard", "x"],
            status: 64, says: "--shard"),
        Case(tool: "tresnet-bench", arguments: [missing + ".pth", "--threads", "0"], status: 64, says: "--threads"),
        Case(
            tool: "tresnet-bench", arguments: [missing + ".pth", "--img-size", "50"], status: 64,
            says: "multiple of 32"),
        Case(
            tool: "tresnet-bench", arguments: [missing + ".pth", "--iterations", "0"], status: 64,
            says: "--iterations"),
        Case(
            tool: "tresnet-verify", arguments: [missing + ".pth", "--reference", reference, "--atol=-1"], status: 64,
            says: "--atol"),
        Case(tool: "tresnet-zoo", arguments: ["show", "tresnet_q"], status: 64, says: "tresnet_q"),
        // 1: I/O
        Case(tool: "tresnet-inspect", arguments: [missing + ".pth"], status: 1, says: missing),
        Case(tool: "tresnet-predict", arguments: [missing + ".pth", image], status: 1, says: missing),
        Case(tool: "tresnet-validate", arguments: [weights, "--val-dir", missing], status: 1, says: missing),
        Case(tool: "tresnet-verify", arguments: [weights, "--reference", missing + ".npz"], status: 1, says: missing),
        Case(tool: "tresnet-bench", arguments: [missing + ".pth"], status: 1, says: missing),
        Case(tool: "tresnet-convert", arguments: [weights, missing + "/out.tw"], status: 1, says: "out.tw"),
        Case(
            tool: "tresnet-predict", arguments: [weights, image, "--report", missing + "/r.json"], status: 1,
            says: "r.json"),
        // 2: bad input
        Case(tool: "tresnet-inspect", arguments: [hostile], status: 2, says: "posix.system"),
        Case(tool: "tresnet-convert", arguments: [hostile, scratch + "/h.tw"], status: 2, says: "hostile_reduce.pth"),
        Case(
            tool: "tresnet-predict", arguments: [weights, corrupt, "--img-size", "64"], status: 2,
            says: "corrupt_truncated.jpg"),
        Case(
            tool: "tresnet-predict", arguments: [weights, missing + ".jpg", "--img-size", "64"], status: 2,
            says: missing + ".jpg"),
        // 3: parity
        Case(
            tool: "tresnet-verify", arguments: [weights, "--reference", miilReference], status: 3,
            says: "parity failed")
    ]

    @Test("each documented case", arguments: cases)
    func exitCode(_ c: Case) throws {
        let run = try runTool(try tool(c.tool), c.arguments)
        #expect(run.status == c.status, "\(run.stdout)\(run.stderr)")
        guard let says = c.says else { return }
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line on stderr: \(run.stderr)")
        #expect(run.stderr.hasPrefix(c.tool + ": "), "\(run.stderr)")
        #expect(run.stderr.contains(says), "\(run.stderr)")
        if c.status == 64 || c.status == 1 {
            #expect(!run.stdout.contains(says), "refusals go to stderr: \(run.stdout)")
        }
    }

    @Test(
        "--json mode: every failure is also a JSON error object on stdout with the code name of docs/ERRORS.md",
        arguments: [
            Case(
                tool: "tresnet-predict", arguments: [missing + ".pth", image, "--json", "--img-size", "7"],
                status: 64, says: "usage"),
            Case(tool: "tresnet-inspect", arguments: [missing + ".pth", "--json"], status: 1, says: "io"),
            Case(tool: "tresnet-inspect", arguments: [hostile, "--json"], status: 2, says: "disallowed-global"),
            Case(tool: "tresnet-bench", arguments: [missing + ".pth", "--json"], status: 1, says: "io"),
            Case(
                tool: "tresnet-validate", arguments: [weights, "--val-dir", missing, "--json"], status: 1,
                says: "io"),
            Case(
                tool: "tresnet-verify", arguments: [weights, "--reference", missing + ".npz", "--json"], status: 1,
                says: "io"),
            Case(tool: "tresnet-zoo", arguments: ["show", "tresnet_q", "--json"], status: 64, says: "usage")
        ])
    func jsonErrors(_ c: Case) throws {
        let run = try runTool(try tool(c.tool), c.arguments)
        #expect(run.status == c.status, "\(run.stdout)\(run.stderr)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
            "\(run.stdout)")
        let error = try #require(object["error"] as? [String: Any])
        #expect(error["code"] as? String == c.says)
        #expect(error["exit_code"] as? Int == Int(c.status))
        #expect((error["message"] as? String)?.isEmpty == false)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }

    @Test(
        "--version on every tool; EXAMPLES in every --help",
        arguments: [
            "tresnet-inspect", "tresnet-convert", "tresnet-predict", "tresnet-verify", "tresnet-validate",
            "tresnet-bench", "tresnet-zoo"
        ])
    func versionAndExamples(_ name: String) throws {
        let version = try runTool(try tool(name), ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("tresnet-kit "), "\(version.stdout)")
        let help = try runTool(try tool(name), ["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("EXAMPLES:\n  \(name) "), "\(help.stdout)")
    }

    @Test("predict --output refuses an existing file without --force, before loading anything")
    func predictOutputNeedsForce() throws {
        let dir = FixturePaths.temporaryDirectory("exit-output")
        let out = dir + "/y.npy"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: out))
        let run = try runTool(try tool("tresnet-predict"), [Self.missing + ".pth", "--input", "x.npy", "--output", out])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("exists (use --force"), "\(run.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "precious")
    }

    @Test("--report PATH is checked before the work: a missing folder fails at once, nothing is written")
    func reportCheckedFirst() throws {
        let dir = FixturePaths.temporaryDirectory("exit-report")
        let run = try runTool(
            try tool("tresnet-validate"),
            [
                Self.weights, "--val-dir", Self.folder, "--img-size", "64",
                "--report", dir + "/no/such/r.json"
            ])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(!run.stderr.contains("images in"), "the validation must not start: \(run.stderr)")
        #expect(run.stderr.contains("r.json"))
        let existing = dir + "/r.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: existing))
        let refused = try runTool(
            try tool("tresnet-verify"),
            [
                Self.weights, "--reference", Self.reference,
                "--report", existing
            ])
        #expect(refused.status == 1 && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "{}")
    }

    @Test("old flag spellings still work as hidden aliases (--input-size, --batch, --top, --size, --squish)")
    func hiddenAliases() throws {
        let run = try runTool(
            try tool("tresnet-predict"),
            [
                Self.weights, Self.image, "--input-size", "64",
                "--batch", "2", "--top", "2", "--squish"
            ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").count == 3, "\(run.stdout)")
        let help = try runTool(try tool("tresnet-predict"), ["--help"])
        #expect(!help.stdout.contains("--input-size") && !help.stdout.contains("--top <"), "\(help.stdout)")
    }
}
