import Foundation
import TestSupport
import Testing

/// Runs the built `tresnet-zoo` (beside the test bundle in the build folder).
enum ZooCLI {
    static var binary: String {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while !url.path.isEmpty, url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("tresnet-zoo").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return FixturePaths.root + "/.build/debug/tresnet-zoo"
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }
}

@Suite(.serialized) struct ZooCLITests {
    @Test func listTableAndJSON() throws {
        let table = try ZooCLI.run(["list"])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("tag") == true)
        #expect(lines.filter { $0.hasPrefix("tresnet_") || $0.hasPrefix("miil/") }.count == 18)

        let json = try ZooCLI.run(["list", "--json", "--arch", "v2_l", "--dataset", "in21k"])
        #expect(json.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["tag"] as? String }) == [
            "tresnet_v2_l.miil_in21k_ft_in1k", "tresnet_v2_l.miil_in21k", "miil/tresnet_l_v2_miil_21k",
        ])
        #expect(rows.allSatisfy { $0["num_classes"] as? Int == 1000 || $0["num_classes"] as? Int == 11221 })
    }

    @Test func showResolvesAliases() throws {
        let card = try ZooCLI.run(["show", "tresnet_m_448"])
        #expect(card.status == 0)
        #expect(card.stdout.hasPrefix("tresnet_m.miil_in1k_448\n"))
        #expect(card.stdout.contains("resize to 448x448 ignoring aspect ratio"))
        let json = try ZooCLI.run(["show", "--json", "tresnet_l_v2_miil_21k.pth"])
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(entry["tag"] as? String == "miil/tresnet_l_v2_miil_21k")
        #expect(entry["num_classes"] as? Int == 11221)

        let missing = try ZooCLI.run(["show", "tresnet_q"])
        #expect(missing.status == 1 && missing.stderr.contains("no zoo entry named 'tresnet_q'"))
    }

    @Test func fetchFromALocalMirror() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        server.set("/tresnet_m.miil_in1k/model.safetensors", .init(body: body))
        server.set("/tresnet_l.miil_in1k/model.safetensors", .init(body: body))
        let cache = FixturePaths.temporaryDirectory("zoo-cli")
        let mirror = "http://127.0.0.1:\(server.port)"

        // No published sha256 for this file: pinned on first use.
        let first = try ZooCLI.run(["fetch", "tresnet_m.miil_in1k", "--cache", cache, "--mirror", mirror])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("trust on first use"))
        let path = "\(cache)/tresnet_m.miil_in1k/model.safetensors"
        #expect(FileManager.default.contents(atPath: path) == Data(body))

        // Reused offline from the cache, verified against the pin.
        let offline = try ZooCLI.run(["fetch", "tresnet_m", "--cache", cache, "--offline", "--quiet"])
        #expect(offline.status != 0, "bare tresnet_m is the in21k_ft_in1k tag, which is not cached")
        let again = try ZooCLI.run(["fetch", "tresnet_m.miil_in1k", "--cache", cache, "--offline", "--quiet"])
        #expect(again.status == 0 && again.stdout == path + "\n")

        // The catalog publishes a sha256 for tresnet_l.miil_in1k: the mirror's bytes are refused.
        let refused = try ZooCLI.run(["fetch", "tresnet_l", "--cache", cache, "--mirror", mirror])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("checksum mismatch for tresnet_l.miil_in1k/model.safetensors"))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "\(cache)/tresnet_l.miil_in1k")) ?? []
        #expect(leftovers.filter { !$0.hasSuffix(".lock") }.isEmpty)
    }

    @Test func deadLinksAndConvertFailClearly() throws {
        let dead = try ZooCLI.run(["fetch", "miil/tresnet_m", "--cache", FixturePaths.temporaryDirectory("zoo-cli-dead")])
        #expect(dead.status == 1 && dead.stderr.contains("tresnet_m.miil_in1k"))
        // Until the conversion pipeline is in this build, --convert fails before any download.
        let cache = FixturePaths.temporaryDirectory("zoo-cli-convert")
        let convert = try ZooCLI.run(["fetch", "tresnet_m", "--convert", "--cache", cache])
        #expect(convert.status == 2 && convert.stderr.contains("--convert is not available yet"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).isEmpty)
    }
}
