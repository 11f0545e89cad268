import Foundation
import Testing
import TestSupport

/// File-supplied text in error messages (issue 20 #2): an ONNX node's op type, its name and its domain carry
/// control bytes, an ANSI colour code, an OSC title sequence, BEL, a newline, bytes that are not UTF-8 and 10 kB;
/// `tresnet-inspect` and `tresnet-convert` must print one escaped, cut line.
@Suite("hostile text in messages", .serialized)
struct HostileTextCLITests {
    /// ESC [31m, OSC 0;title BEL, a newline, a carriage return, a lone 0xFF, then 10,000 characters.
    static let hostile: [UInt8] =
        Array("\u{1b}[31m\u{1b}]0;pwned\u{07}\n\r".utf8) + [0xFF, 0xC3]
        + Array(String(repeating: "B", count: 10_000).utf8)

    // MARK: a minimal protobuf rewriter: replace one string field of the first matching node

    static func varint(_ bytes: [UInt8], _ i: inout Int) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = bytes[i]; i += 1
            v |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
        }
    }

    static func encodeVarint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        repeat {
            var b = UInt8(v & 0x7f); v >>= 7
            if v != 0 { b |= 0x80 }
            out.append(b)
        } while v != 0
        return out
    }

    /// The fields of a message: (field number, wire type, raw value bytes; for length-delimited, the payload).
    static func fields(_ bytes: [UInt8]) -> [(Int, Int, [UInt8])] {
        var i = 0, out: [(Int, Int, [UInt8])] = []
        while i < bytes.count {
            let key = varint(bytes, &i)
            let field = Int(key >> 3), wire = Int(key & 7)
            let start = i
            switch wire {
            case 0: _ = varint(bytes, &i); out.append((field, wire, Array(bytes[start..<i])))
            case 1: i += 8; out.append((field, wire, Array(bytes[start..<i])))
            case 5: i += 4; out.append((field, wire, Array(bytes[start..<i])))
            default:
                let n = Int(varint(bytes, &i))
                out.append((field, wire, Array(bytes[i..<(i + n)])))
                i += n
            }
        }
        return out
    }

    static func encode(_ fields: [(Int, Int, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for (field, wire, value) in fields {
            out += encodeVarint(UInt64(field << 3 | wire))
            if wire == 2 { out += encodeVarint(UInt64(value.count)) }
            out += value
        }
        return out
    }

    /// The model with field `nodeField` (4 op_type, 3 name, 7 domain) of graph node number `nodeIndex` set to `value`.
    static func patchedModel(_ model: [UInt8], nodeIndex: Int, nodeField: Int, value: [UInt8]) -> [UInt8] {
        var top = fields(model)
        let g = top.firstIndex { $0.0 == 7 }!
        var graph = fields(top[g].2)
        let nodes = graph.indices.filter { graph[$0].0 == 1 }
        var node = fields(graph[nodes[nodeIndex]].2)
        node.removeAll { $0.0 == nodeField }
        node.append((nodeField, 2, value))
        graph[nodes[nodeIndex]].2 = encode(node)
        top[g].2 = encode(graph)
        return encode(top)
    }

    func expectOneSafeLine(_ run: ToolRun, _ tool: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let err = run.stderr
        #expect(run.status == 2, "\(tool): status \(run.status)", sourceLocation: sourceLocation)
        #expect(
            err.hasSuffix("\n") && err.dropLast().split(separator: "\n", omittingEmptySubsequences: false).count == 1,
            "\(tool): \(err.prefix(400))", sourceLocation: sourceLocation)
        #expect(
            !err.utf8.contains { ($0 < 0x20 && $0 != 0x0A) || $0 == 0x7F }, "raw control byte: \(err.prefix(400))",
            sourceLocation: sourceLocation)
        #expect(
            err.contains("\\x1b[31m\\x1b]0;pwned\\x07\\x0a\\x0d"), "\(err.prefix(400))", sourceLocation: sourceLocation)
        #expect(err.utf8.count < 1200, "\(tool): \(err.utf8.count) bytes", sourceLocation: sourceLocation)
        #expect(err.contains("more)"), "the 10 kB text is cut: \(err.prefix(400))", sourceLocation: sourceLocation)
    }

    @Test(
        "an ONNX op type (alone, with the node's name, with its domain) with escapes: one escaped, cut line",
        arguments: [[4], [4, 3], [4, 7]])
    func hostileONNXNode(fields: [Int]) throws {
        let model = try #require(FileManager.default.contents(atPath: FixturePaths.tiny("tiny_v1.ts.onnx"))).map { $0 }
        let dir = FixturePaths.temporaryDirectory("hostile-onnx")
        let path = dir + "/hostile.onnx"
        // node 1 is the space-to-depth Reshape, the first op the walker meets
        var patched = model
        for field in fields {
            patched = Self.patchedModel(patched, nodeIndex: 1, nodeField: field, value: Self.hostile)
        }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(patched)))
        for (tool, args) in [("tresnet-inspect", [path]), ("tresnet-convert", [path, dir + "/out.tw"])] {
            let run = try runTool(try #require(builtTool(tool)), args)
            expectOneSafeLine(run, tool)
            #expect(run.stderr.hasPrefix("\(tool): \(path): onnx"), "\(run.stderr.prefix(300))")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.tw"))
    }
}
