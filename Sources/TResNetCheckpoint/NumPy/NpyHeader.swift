import TResNetCore

/// The header dictionary of a `.npy` file, parsed with a tiny literal grammar — never an evaluator:
///
///     header  := ws '{' ws (item ws ',' ws)* item? ws '}' ws
///     item    := string ws ':' ws value
///     value   := string | 'True' | 'False' | tuple | list
///     tuple   := '(' ws ( int ws ',' ws )* ( int ws )? ')'        (ints: digits, optional Python 2 'L')
///
/// Exactly the keys `descr`, `fortran_order` and `shape` must be present (docs/ROBUSTNESS.md #83).
struct NpyHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    private enum Literal {
        case string(String)
        case bool(Bool)
        case ints([Int])
    }

    /// Parses `text` (the header after the length field). `base` is the file offset of its first byte.
    static func parse(_ bytes: UnsafeRawBufferPointer, base: Int) throws -> NpyHeader {
        var p = LiteralScanner(bytes: bytes, base: base)
        p.skipSpaces()
        try p.expect(UInt8(ascii: "{"), "'{' opening the header dictionary")
        var items: [String: Literal] = [:]
        var order: [String] = []
        while true {
            p.skipSpaces()
            if p.peek == UInt8(ascii: "}") { p.position += 1; break }
            let keyAt = p.position
            guard p.peek == UInt8(ascii: "'") || p.peek == UInt8(ascii: "\"") else {
                throw p.error("expected a quoted key, found \(p.describeNext())")
            }
            let key = try p.string()
            guard items[key] == nil else { throw p.error("duplicate key '\(displaySafe(key))'", at: keyAt) }
            p.skipSpaces()
            try p.expect(UInt8(ascii: ":"), "':' after a key")
            p.skipSpaces()
            items[key] = try value(&p)
            order.append(key)
            p.skipSpaces()
            if p.peek == UInt8(ascii: ",") { p.position += 1; continue }
            try p.expect(UInt8(ascii: "}"), "',' or '}' in the header dictionary")
            break
        }
        p.skipSpaces()
        guard p.position == bytes.count else {
            throw p.error("unexpected \(p.describeNext()) after the header dictionary")
        }

        let expected: Set<String> = ["descr", "fortran_order", "shape"]
        guard Set(order) == expected else {
            let extra = order.filter { !expected.contains($0) }.map { "'\(displaySafe($0))'" }
            let missing = expected.subtracting(order).sorted().map { "'\($0)'" }
            var why: [String] = []
            if !missing.isEmpty { why.append("missing " + missing.joined(separator: ", ")) }
            if !extra.isEmpty { why.append("unexpected " + extra.joined(separator: ", ")) }
            throw p.error(
                "header keys must be exactly descr, fortran_order, shape: " + why.joined(separator: "; "), at: 0)
        }
        guard case .string(let descr) = items["descr"] else { throw p.error("'descr' must be a string", at: 0) }
        guard case .bool(let fortran) = items["fortran_order"] else {
            throw p.error("'fortran_order' must be True or False", at: 0)
        }
        guard case .ints(let shape) = items["shape"] else {
            throw p.error("'shape' must be a tuple of integers", at: 0)
        }
        return NpyHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }

    private static func value(_ p: inout LiteralScanner) throws -> Literal {
        switch p.peek {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try p.string())
        case UInt8(ascii: "("): return .ints(try p.intTuple())
        case UInt8(ascii: "["):
            // A structured dtype's field list: recognised only to refuse it with a clear message.
            throw p.error("list literals (structured dtypes) are not supported")
        default:
            if p.consume("True") { return .bool(true) }
            if p.consume("False") { return .bool(false) }
            throw p.error("expected a literal (string, True, False or a tuple of integers), found \(p.describeNext())")
        }
    }
}

/// A cursor over the header's bytes with the few lexical rules the grammar needs.
private struct LiteralScanner {
    let bytes: UnsafeRawBufferPointer
    let base: Int
    var position = 0

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    func error(_ message: String, at position: Int? = nil) -> TResNetError {
        TResNetError(.malformed, format: "npy", at: .offset(base + (position ?? self.position)), "header: \(message)")
    }

    func describeNext() -> String {
        guard let b = peek else { return "end of header" }
        if b >= 0x21 && b < 0x7f { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + String(b, radix: 16)
    }

    mutating func skipSpaces() {
        while let b = peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard peek == byte else { throw error("expected \(what), found \(describeNext())") }
        position += 1
    }

    mutating func consume(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard bytes.count - position >= w.count else { return false }
        for i in 0..<w.count where bytes[position + i] != w[i] { return false }
        // A keyword must not run into an identifier (`Truex`, `True_`).
        if position + w.count < bytes.count {
            let next = bytes[position + w.count]
            if next == UInt8(ascii: "_") || (next | 0x20 >= UInt8(ascii: "a") && next | 0x20 <= UInt8(ascii: "z"))
                || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9"))
            {
                return false
            }
        }
        position += w.count
        return true
    }

    /// A quoted string of printable ASCII without escapes (every descr and key numpy writes).
    mutating func string() throws -> String {
        let start = position
        guard let quote = peek else { throw error("expected a string") }
        position += 1
        var out = ""
        while true {
            guard let b = peek else { throw error("unterminated string", at: start) }
            position += 1
            if b == quote { return out }
            guard b >= 0x20, b < 0x7f, b != UInt8(ascii: "\\") else {
                throw error(
                    "unsupported character in a string literal (escapes and non-ASCII are not accepted)",
                    at: position - 1)
            }
            guard out.utf8.count < 256 else { throw error("string literal longer than 256 bytes", at: start) }
            out.unicodeScalars.append(Unicode.Scalar(b))
        }
    }

    /// `(d0, d1, …)` with an optional trailing comma; `()` is a 0-d shape. `(3)` is not a tuple in Python and
    /// is refused.
    mutating func intTuple() throws -> [Int] {
        let start = position
        position += 1  // (
        var values: [Int] = []
        var sawComma = false
        while true {
            skipSpaces()
            if peek == UInt8(ascii: ")") {
                position += 1
                break
            }
            values.append(try integer())
            skipSpaces()
            if peek == UInt8(ascii: ",") {
                position += 1
                sawComma = true
                continue
            }
            try expect(UInt8(ascii: ")"), "',' or ')' in the shape tuple")
            break
        }
        guard values.isEmpty || sawComma else { throw error("shape must be a tuple ('(3)' is not one)", at: start) }
        guard values.count <= 64 else { throw error("shape has more than 64 dimensions", at: start) }
        return values
    }

    /// A non-negative decimal integer (no sign, no expression), optionally with Python 2's `L` suffix.
    mutating func integer() throws -> Int {
        let start = position
        if peek == UInt8(ascii: "-") { throw error("negative dimension in shape") }
        var v = 0
        var digits = 0
        while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
            guard let m = Checked.multiply(v, 10), let a = Checked.add(m, Int(b - UInt8(ascii: "0"))) else {
                throw TResNetError(
                    .sizeOverflow, format: "npy", at: .offset(base + start), "header: dimension is too large")
            }
            v = a
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw error("expected an integer dimension, found \(describeNext())") }
        if peek == UInt8(ascii: "L") { position += 1 }
        return v
    }
}
