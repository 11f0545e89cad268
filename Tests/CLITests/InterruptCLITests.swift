import Foundation
import Testing
import TestSupport
import TResNetCore

/// SIGINT and SIGTERM during a conversion and a download (issue 20 #4), with real child processes and real
/// signals: the temporary file is removed, one line on stderr says what was interrupted, the exit status is
/// 130 or 143. A temporary of ours left by a killed process (dead pid) is swept by the next run in that folder.
@Suite("interrupts", .serialized)
struct InterruptCLITests {
    /// Starts `tool arguments` with the writers' test pause at 64 KiB; returns once a temporary in `dir` holds
    /// 64 KiB (the process then sleeps there).
    func startPaused(_ tool: String, _ arguments: [String], watching dir: String) throws -> (Process, Pipe, Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(builtTool(tool)))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["TRESNET_TEST_PAUSE_AFTER_BYTES"] = "65536"
        process.environment = env
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            for t in Self.temporaries(dir) {
                if let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/" + t))?[.size] as? Int,
                    size >= 65536
                {
                    return (process, err, true)
                }
            }
            usleep(20_000)
        }
        return (process, err, false)
    }

    static func temporaries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(".tmp-") }
    }

    @Test(
        "SIGINT and SIGTERM mid-conversion: temporary removed, one line, exit 130 / 143",
        arguments: [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")])
    func interruptedConversion(signal: Int32, name: String) throws {
        let dir = FixturePaths.temporaryDirectory("cli-interrupt")
        let output = dir + "/tiny_v2.tw"
        let (process, err, paused) = try startPaused(
            "tresnet-convert", [FixturePaths.tiny("tiny_v2.pth"), output, "--quiet"],
            watching: dir)
        #expect(paused, "the conversion never reached 64 KiB")
        kill(process.processIdentifier, signal)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 128 + signal)
        #expect(
            stderr == "tresnet-convert: interrupted by \(name) while converting (writing \(output); its temporary "
                + "file was removed)\n", "\(stderr)")
        #expect(
            ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).isEmpty,
            "left: \(Self.temporaries(dir))")
    }

    @Test("SIGTERM mid-download: the partial download is removed, one line, exit 143")
    func interruptedFetch() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set(
            ZooCLI.route("timm/tresnet_m.miil_in1k", "model.safetensors"),
            .init(body: [UInt8](repeating: 7, count: 1_000_000)))
        let cache = FixturePaths.temporaryDirectory("cli-interrupt-fetch")
        let folder = cache + "/models--timm--tresnet_m.miil_in1k/blobs"
        let (process, err, paused) = try startPaused(
            "tresnet-zoo",
            ["fetch", "tresnet_m.miil_in1k", "--cache", cache, "--mirror", "http://127.0.0.1:\(server.port)"],
            watching: folder)
        #expect(paused, "the download never reached 64 KiB")
        kill(process.processIdentifier, SIGTERM)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 143)
        #expect(
            stderr.hasPrefix("tresnet-zoo: interrupted by SIGTERM while fetching or converting (writing ")
                && stderr.hasSuffix("model.safetensors.unverified; its temporary file was removed)\n"), "\(stderr)")
        #expect(stderr.split(separator: "\n").count == 1, "\(stderr)")
        #expect(Self.temporaries(folder).isEmpty, "left: \(Self.temporaries(folder))")
        #expect(
            !FileManager.default.fileExists(
                atPath: ZooCLI.cached(cache, "timm/tresnet_m.miil_in1k", "model.safetensors")))
        // and the folders and the lock the fetch had made are gone too: the cache is as it was
        #expect(
            ZooCLI.leftovers(cache, "timm/tresnet_m.miil_in1k").isEmpty,
            "\(ZooCLI.leftovers(cache, "timm/tresnet_m.miil_in1k"))")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).isEmpty)
    }

    /// A validation stalled on an image that does not arrive (a FIFO standing in for a hung network file system):
    /// once the tool is blocked reading it (a non-blocking open of the FIFO's write end succeeds only while a
    /// reader holds it), a real signal ends the run with one line, the documented status and no report file.
    @Test(
        "SIGINT and SIGTERM mid-validation: one line, exit 130 / 143, no report written",
        arguments: [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")])
    func interruptedValidation(signal: Int32, name: String) throws {
        let dir = FixturePaths.temporaryDirectory("cli-interrupt-validate")
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: dir + "/val/" + c, withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(
            atPath: FixturePaths.tiny("images/baseline_97x75.jpg"), toPath: dir + "/val/a/1.jpg")
        let fifo = dir + "/val/b/stalled.jpg"
        #expect(mkfifo(fifo, 0o600) == 0)
        let report = dir + "/report.json"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try tool("tresnet-validate"))
        process.arguments = [
            FixturePaths.tiny("tiny_v1.pth"), "--val-dir", dir + "/val", "--img-size", "64", "--report", report,
            "--quiet"
        ]
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        var writer: Int32 = -1
        let deadline = Date().addingTimeInterval(60)
        while writer < 0, Date() < deadline {
            writer = open(fifo, O_WRONLY | O_NONBLOCK)
            if writer < 0 { usleep(20_000) }
        }
        defer { if writer >= 0 { close(writer) } }
        #expect(writer >= 0, "the validation never opened the stalled image")
        kill(process.processIdentifier, signal)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + signal)
        // the run's header line (what is validated), then the one line of the interruption
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[0].hasPrefix("2 images in 2 classes") && lines[2].isEmpty, "\(stderr)")
        #expect(lines.dropFirst().first == "tresnet-validate: interrupted by \(name) while validating", "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: report))
        #expect(Self.temporaries(dir).isEmpty, "left: \(Self.temporaries(dir))")
    }

    @Test("a stale temporary of ours (dead pid) for another output in the folder is swept by the next write there")
    func staleTemporariesOfOtherOutputsAreSwept() throws {
        let dir = FixturePaths.temporaryDirectory("cli-stale")
        // a pid that does not exist: a child that has exited and been reaped
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let stale = dir + "/.other.tw.tmp-\(dead)-12345"
        let live = dir + "/.other.tw.tmp-\(getpid())-12345"  // a live process's: kept
        let foreign = dir + "/.notes.tmp-x"  // not our pattern: kept
        for p in [stale, live, foreign] { #expect(FileManager.default.createFile(atPath: p, contents: Data([1]))) }
        let run = try runTool(
            try #require(builtTool("tresnet-convert")),
            [FixturePaths.tiny("tiny_v1.pth"), dir + "/tiny_v1.tw", "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale), "the dead process's temporary is swept")
        #expect(FileManager.default.fileExists(atPath: live) && FileManager.default.fileExists(atPath: foreign))
    }
}
