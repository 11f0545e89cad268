import Foundation
import Testing
import TestSupport

/// `make readme-check`: the README's examples run as written, on the committed tiny fixtures, and print what
/// the README shows, so the README cannot drift from the tools again.
///
/// A code block preceded by `<!-- readme-check -->` is checked: each `$ tool args…` line is run (`out/` is a
/// scratch folder holding `tiny_v1.tw` and `tiny_v1_miil.tw`, converted first as `make demo` does) and its
/// standard output must equal the lines under it. In an expected line `…` stands for any text; a line that
/// starts with `…` stands for any number of lines. `<!-- readme-check: numbers vary -->` compares with every
/// number replaced by `#` and runs of spaces collapsed (kernel rounding differs between CPUs).
@Suite("README examples (make readme-check)", .serialized)
struct ReadmeCheckTests {
    struct Example: CustomTestStringConvertible, Sendable {
        var command: String
        var expected: [String]
        var numbersVary: Bool
        var testDescription: String { command }
    }

    static func examples() throws -> [Example] {
        let text = try String(contentsOfFile: FixturePaths.root + "/README.md", encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        var result: [Example] = []
        var i = 0
        while i < lines.count {
            defer { i += 1 }
            guard lines[i].hasPrefix("<!-- readme-check"), i + 1 < lines.count, lines[i + 1].hasPrefix("```") else {
                continue
            }
            let vary = lines[i].contains("numbers vary")
            i += 2
            var current: Example?
            while i < lines.count, !lines[i].hasPrefix("```") {
                if lines[i].hasPrefix("$ ") {
                    if let c = current { result.append(c) }
                    current = Example(command: String(lines[i].dropFirst(2)), expected: [], numbersVary: vary)
                } else {
                    current?.expected.append(lines[i])
                }
                i += 1
            }
            if let c = current { result.append(c) }
        }
        return result.map { e in
            var e = e
            while e.expected.last?.isEmpty == true { e.expected.removeLast() }
            return e
        }
    }

    static let scratch: String = {
        let dir = FixturePaths.temporaryDirectory("readme")
        for name in ["tiny_v1", "tiny_v1_miil"] {
            _ = try? runTool(
                builtTool("tresnet-convert") ?? "", [FixturePaths.tiny(name + ".pth"), "\(dir)/\(name).tw"])
        }
        return dir
    }()

    static func localize(_ text: String) -> String {
        text.replacingOccurrences(of: "out/", with: scratch + "/")
            .replacingOccurrences(of: "Fixtures/", with: FixturePaths.root + "/Fixtures/")
    }

    static func normalize(_ line: String, numbers: Bool) -> String {
        guard numbers else { return line }
        let digits = line.replacingOccurrences(of: #"-?\d+(\.\d+)?(e[+-]\d+)?"#, with: "#", options: .regularExpression)
        return digits.replacingOccurrences(of: #" +"#, with: " ", options: .regularExpression)
    }

    /// `expected` line with `…` wildcards against `actual`.
    static func lineMatches(_ expected: String, _ actual: String) -> Bool {
        let parts = expected.components(separatedBy: "…")
        guard parts.count > 1 else { return expected == actual }
        guard actual.hasPrefix(parts[0]), actual.hasSuffix(parts[parts.count - 1]) else { return false }
        var rest = Substring(actual.dropFirst(parts[0].count))
        for part in parts.dropFirst().dropLast() {
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return rest.count >= parts[parts.count - 1].count
    }

    static func matches(_ expected: ArraySlice<String>, _ actual: ArraySlice<String>) -> Bool {
        guard let first = expected.first else { return actual.isEmpty }
        if first.hasPrefix("…") {  // any number of lines
            return (actual.startIndex...actual.endIndex).contains { matches(expected.dropFirst(), actual[$0...]) }
        }
        guard let line = actual.first, lineMatches(first, line) else { return false }
        return matches(expected.dropFirst(), actual.dropFirst())
    }

    @Test("each checked README example prints what the README shows", arguments: try examples())
    func example(_ e: Example) throws {
        let words = Self.localize(e.command).split(separator: " ").map(String.init)
        let run = try runTool(try tool(words[0]), Array(words.dropFirst()))
        let actual = run.stdout.components(separatedBy: "\n").dropLast(run.stdout.hasSuffix("\n") ? 1 : 0)
            .map { Self.normalize($0, numbers: e.numbersVary) }
        let expected = e.expected.map { Self.normalize(Self.localize($0), numbers: e.numbersVary) }
        let report =
            "README: \(e.command)\n--- expected\n\(expected.joined(separator: "\n"))\n--- got (exit "
            + "\(run.status))\n\(actual.joined(separator: "\n"))\n\(run.stderr)"
        #expect(Self.matches(expected[...], actual[...]), "\(report)")
    }

    @Test("the README has checked examples for predict, validate and verify")
    func coverage() throws {
        let commands = try Self.examples().map(\.command)
        for tool in ["tresnet-predict", "tresnet-validate", "tresnet-verify"] {
            #expect(commands.contains { $0.hasPrefix(tool + " ") }, "\(tool)")
        }
    }
}
