import Foundation
import Testing
import TestSupport
import TResNetCore

/// The platform shim (Sources/TResNetCore/Platform.swift) is the only source file that names a platform module
/// or a field whose spelling is Linux's alone; everything else goes through it, so the package compiles for
/// Darwin as written (docs/ARCHITECTURE.md, "Platform").
@Suite("Platform shim")
struct PlatformShimTests {
    /// Linux-only spellings: the platform modules, glibc's unions and `st_mtim`.
    static let platformSpellings = [
        "import Glibc", "import Darwin", "Glibc.", "Darwin.", "__sigaction_handler", "_sifields", "st_mtim.",
        "__rusage_who_t", "SOCK_STREAM.rawValue"
    ]

    @Test func onlyThePlatformShimNamesThePlatform() throws {
        var offenders: [String] = []
        for folder in ["Sources", "Tests", "Fuzz/Sources", "Examples"] {
            let root = FixturePaths.root + "/" + folder
            let files = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
            for file in files
            where file.hasSuffix(".swift") && !file.contains(".build/") && !file.contains("/Generated/")
                && file != "TResNetCore/Platform.swift" && !file.hasSuffix("PlatformShimTests.swift")
            {
                let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
                for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where Self.platformSpellings.contains(where: { line.contains($0) }) {
                    offenders.append("\(folder)/\(file):\(n + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(offenders.isEmpty, "platform spelled outside the shim:\n\(offenders.joined(separator: "\n"))")
    }

    @Test func shimReadsWhatTheCLibraryReads() throws {
        let path = FixturePaths.temporaryDirectory("platform-shim") + "/file"
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: path))
        var st = stat()
        #expect(stat(path, &st) == 0)
        let modified = try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        let seconds = Double(Platform.modificationNanoseconds(st)) / 1e9
        #expect(abs(seconds - modified.timeIntervalSince1970) < 1e-3)
        #expect(Platform.peakRSSBytes() > 1 << 20)
        #expect(Platform.symbol("getpid", as: (@convention(c) () -> Int32).self)?() == getpid())
        #expect(Platform.symbol("no_such_symbol_here", as: (@convention(c) () -> Int32).self) == nil)
    }
}
