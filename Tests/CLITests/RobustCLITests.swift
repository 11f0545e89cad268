import Foundation
import Testing
import TestSupport
import TResNetCore

/// Hostile names in CLI errors, the documented exit codes, and a conversion killed midway
/// (docs/ROBUSTNESS.md A.0 #9, A.7 #94; issue 7 items 5–6; docs/ERRORS.md, docs/ROBUSTNESS.md).
@Suite("CLI robustness", .serialized)
struct RobustCLITests {
    static let escape = "\u{1b}[31m\u{1b}]0;pwned\u{07}"
    static let hostileName = escape + String(repeating: "A", count: 10_000)

    func tool(_ name: String) throws -> String { try #require(builtTool(name), "build \(name) first") }

    /// A safetensors file whose one tensor has the hostile name and an unknown dtype, so the error names it.
    func hostileSafetensors(_ dir: String, fileName: String = "hostile.safetensors") throws -> String {
        let key = Self.hostileName.unicodeScalars.map {
            $0.value < 0x20 ? String(format: "\\u%04x", $0.value) : String($0)
        }
        .joined()
        let header = "{\"\(key)\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.utf8.count) >> (8 * UInt64($0))) }
        bytes += Array(header.utf8) + [0, 0, 0, 0]
        let path = dir + "/" + fileName
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    /// A bare pickle whose GLOBAL names `os.<hostile name>`.
    func hostilePickle(_ dir: String) throws -> String {
        let bytes: [UInt8] =
            [0x80, 0x02, 0x63] + Array("os\n".utf8) + Array((Self.hostileName + "\n").utf8) + [0x29, 0x52, 0x2E]
        let path = dir + "/hostile.pkl"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    /// One line on stderr, no raw control byte, the escape shown as text, the 10 KB name cut.
    func expectOneSafeLine(_ run: ToolRun, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let err = run.stderr
        #expect(
            err.hasSuffix("\n") && err.dropLast().split(separator: "\n", omittingEmptySubsequences: false).count == 1,
            "\(err.prefix(300))", sourceLocation: sourceLocation)
        #expect(
            !err.utf8.contains { $0 < 0x20 && $0 != 0x0A }, "raw control byte in: \(err.prefix(300))",
            sourceLocation: sourceLocation)
        #expect(err.contains("\\x1b[31m"), "\(err.prefix(300))", sourceLocation: sourceLocation)
        #expect(err.utf8.count < 1200, "\(err.utf8.count) bytes", sourceLocation: sourceLocation)
        #expect(err.contains("more)"), "the long name is cut: \(err.prefix(300))", sourceLocation: sourceLocation)
        for f in fragments { #expect(err.contains(f), "\(f) in \(err.prefix(400))", sourceLocation: sourceLocation) }
    }

    @Test("a hostile tensor name in safetensors: inspect and convert print one escaped, cut line, exit 2")
    func hostileSafetensorsName() throws {
        let dir = FixturePaths.temporaryDirectory("cli-hostile")
        let path = try hostileSafetensors(dir)
        for (tool, args) in [("tresnet-inspect", [path]), ("tresnet-convert", [path, dir + "/out.tw"])] {
            let run = try runTool(try self.tool(tool), args)
            #expect(run.status == 2, "\(tool): \(run.stderr.prefix(300))")
            expectOneSafeLine(run, ["\(tool): ", path, "safetensors", "F99"])
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.tw"))
    }

    @Test("a hostile global name in a pickle: one escaped, cut line naming the offset, exit 2")
    func hostileGlobalName() throws {
        let dir = FixturePaths.temporaryDirectory("cli-hostile")
        let path = try hostilePickle(dir)
        let run = try runTool(try tool("tresnet-inspect"), [path])
        #expect(run.status == 2)
        expectOneSafeLine(run, ["tresnet-inspect: ", path, "pickle offset ", "'os.\\x1b[31m"])
    }

    @Test("a file name with control characters is escaped in the error line")
    func hostileFileName() throws {
        let dir = FixturePaths.temporaryDirectory("cli-hostile")
        let path = try hostileSafetensors(dir, fileName: "evil\u{1b}[2J\u{07}.safetensors")
        let run = try runTool(try tool("tresnet-inspect"), [path])
        #expect(run.status == 2)
        expectOneSafeLine(run, ["evil\\x1b[2J\\x07.safetensors: safetensors"])
    }

    @Test("exit codes: 64 usage, 1 I/O, 2 bad input, 3 parity (docs/ERRORS.md)")
    func exitCodes() throws {
        let dir = FixturePaths.temporaryDirectory("cli-exit")
        let inspect = try tool("tresnet-inspect"), convert = try tool("tresnet-convert"),
            verify = try tool("tresnet-verify")
        // A command line ArgumentParser rejects and usage errors the tools find: EX_USAGE (docs/ERRORS.md).
        #expect(try runTool(convert, ["--no-such-flag"]).status == 64)
        let usage = try runTool(verify, [FixturePaths.tiny("tiny_v1.pth"), "--reference", "r.npz", "--atol=-1"])
        #expect(usage.status == 64, "\(usage.stderr)")
        #expect(usage.stderr.contains("--atol") && usage.stderr.split(separator: "\n").count == 1)
        let missing = try runTool(inspect, [dir + "/missing.pth"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("missing.pth") && missing.stderr.split(separator: "\n").count == 1)
        let unusable = try runTool(convert, [FixturePaths.tiny("tiny_v1.pth"), dir + "/no/such/folder/out.tw"])
        #expect(unusable.status == 1, "\(unusable.stderr)")
        let truncated = dir + "/cut.pth"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("tiny_v1.pth")))
        #expect(FileManager.default.createFile(atPath: truncated, contents: bytes.prefix(bytes.count / 2)))
        let bad = try runTool(convert, [truncated, dir + "/out.tw"])
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("cut.pth: zip") && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
        // The v1 weights against the MIIL-trained model's activations: a parity failure, not bad input.
        let parity = try runTool(
            verify,
            [
                FixturePaths.tiny("tiny_v1.pth"),
                "--reference", FixturePaths.tiny("tiny_v1_miil.reference.npz")
            ])
        #expect(parity.status == 3, "\(parity.stderr)")
        #expect(parity.stderr.contains("parity failed"), "\(parity.stderr)")
    }

    @Test("a write that fails midway (file-size limit, as on a full disk) exits 1, one line, nothing left behind")
    func writeFailsMidway() throws {
        let dir = FixturePaths.temporaryDirectory("cli-efbig")
        let output = dir + "/tiny_v2.tw"
        // SIGXFSZ ignored, so the write past 64 KiB fails with EFBIG instead of killing the process.
        let script = "trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$1\" \"$2\""
        let run = try runTool(
            "/bin/sh", ["-c", script, try tool("tresnet-convert"), FixturePaths.tiny("tiny_v2.pth"), output])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("tiny_v2.tw: write failed: File too large"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).isEmpty, "the temporary is removed")
    }

    /// Starts `tresnet-convert` of tiny_v2.pth into `dir` with the writer's test pause at 64 KiB and waits until
    /// it has paused there (its temporary holds ≥ 64 KiB). Returns the running process and the temporary's size.
    func pausedConversion(into dir: String) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try tool("tresnet-convert"))
        process.arguments = [FixturePaths.tiny("tiny_v2.pth"), dir + "/tiny_v2.tw", "--quiet"]
        var env = ProcessInfo.processInfo.environment
        env["TRESNET_TEST_PAUSE_AFTER_BYTES"] = "65536"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let t = Self.temporaries(dir).first,
                let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/" + t))?[.size] as? Int,
                size >= 65536
            {
                return (process, size)
            }
            usleep(20_000)
        }
        return (process, 0)
    }

    static func temporaries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(".tiny_v2.tw.tmp-") }
    }

    #if os(Linux)
    @Test(
        "a conversion runs without OpenBLAS's worker threads (they spin for ~0.1 s and took a core from the SHA-256 thread)"
    )
    func conversionStopsBLASWorkers() throws {
        let dir = FixturePaths.temporaryDirectory("cli-blas-threads")
        let (process, size) = try pausedConversion(into: dir)
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        #expect(size >= 65536, "the conversion never reached 64 KiB")
        // OpenBLAS's workers keep the process's name; libdispatch names its threads after their queues.
        let tasks = "/proc/\(process.processIdentifier)/task"
        let names = try FileManager.default.contentsOfDirectory(atPath: tasks).map {
            (try? String(contentsOfFile: "\(tasks)/\($0)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        #expect(names.filter { $0 == "tresnet-convert" }.count == 1, "threads: \(names)")
    }
    #endif

    @Test("a conversion killed with SIGKILL midway leaves nothing at the output; the next run sweeps its temporary")
    func killedConversion() throws {
        let dir = FixturePaths.temporaryDirectory("cli-kill")
        let output = dir + "/tiny_v2.tw"
        func temporaries() -> [String] { Self.temporaries(dir) }
        let (process, temporarySize) = try pausedConversion(into: dir)
        #expect(temporarySize >= 65536, "the conversion never reached 64 KiB")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(!FileManager.default.fileExists(atPath: output), "a killed conversion left a file at the output path")
        let left = temporaries()
        #expect(left.count == 1, "the killed writer's temporary remains (nothing can remove it at SIGKILL): \(left)")
        // The next conversion to the same output removes the dead process's temporary and writes the file.
        let again = try runTool(try tool("tresnet-convert"), [FixturePaths.tiny("tiny_v2.pth"), output, "--quiet"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: output))
        #expect(temporaries().isEmpty, "stale temporaries: \(temporaries())")
    }
}
