/// A strict RFC 8259 JSON parser for headers of untrusted files (safetensors, …).
///
/// Strict where lenient parsers differ (the JSON-parser differential of TOB-SFTN-7): duplicate object keys are
/// an error naming the key; UTF-8 is validated (no overlongs, no surrogates, nothing above U+10FFFF); unpaired
/// `\u` surrogate escapes are an error; control characters in strings must be escaped; nesting deeper than
/// `maxDepth` is an error (no stack exhaustion); nothing but whitespace may follow the value. Every error is a
/// `TResNetError(.malformed)` naming the format and the absolute byte offset.
public enum JSONParser {
    /// The nesting limit for arrays and objects.
    public static let maxDepth = 128

    /// Parses `bytes` as one JSON value.
    /// - Parameters:
    ///   - format: the format named in errors (`safetensors`, …).
    ///   - baseOffset: the file offset of `bytes[0]`, so errors give absolute offsets.
    ///   - maxArrayLength: the most elements one array may hold (a `.limitExceeded` error beyond). A parsed value
    ///     takes about 12 times the bytes of its shortest spelling (`1,` → a 24-byte `JSONValue`), so a caller
    ///     whose arrays are short by nature (shapes, offset pairs) caps them to keep memory near the input size.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, format: String, baseOffset: Int = 0, maxArrayLength: Int = .max
    ) throws -> JSONValue {
        var p = Parser(bytes: bytes, format: format, baseOffset: baseOffset, maxArrayLength: maxArrayLength)
        p.skipWhitespace()
        let value = try p.value(depth: 0)
        p.skipWhitespace()
        guard p.position == bytes.count else { throw p.error("unexpected \(p.describeNext()) after the JSON value") }
        return value
    }

    /// Parses the UTF-8 bytes of `text` (tests, small literals).
    public static func parse(_ text: String, format: String = "json") throws -> JSONValue {
        var copy = text
        return try copy.withUTF8 { try parse(UnsafeRawBufferPointer($0), format: format) }
    }
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    let format: String
    let baseOffset: Int
    let maxArrayLength: Int
    var position = 0

    func error(_ message: String, at position: Int? = nil) -> TResNetError {
        TResNetError(
            .malformed, format: format, at: .offset(baseOffset + (position ?? self.position)),
            "invalid JSON: \(message)")
    }

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    func describeNext() -> String {
        guard let b = peek else { return "end of input" }
        if b >= 0x21 && b < 0x7f { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + String(b, radix: 16)
    }

    mutating func skipWhitespace() {
        while let b = peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard peek == byte else { throw error("expected \(what), found \(describeNext())") }
        position += 1
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard let b = peek else { throw error("expected a value, found end of input") }
        switch b {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "t"): try keyword("true"); return .bool(true)
        case UInt8(ascii: "f"): try keyword("false"); return .bool(false)
        case UInt8(ascii: "n"): try keyword("null"); return .null
        default: throw error("expected a value, found \(describeNext())")
        }
    }

    mutating func keyword(_ word: StaticString) throws {
        let start = position
        let n = word.utf8CodeUnitCount
        let ok = n <= bytes.count - position && (0..<n).allSatisfy { bytes[position + $0] == word.utf8Start[$0] }
        guard ok else { throw error("invalid literal (expected '\(word)')", at: start) }
        position += n
    }

    mutating func object(depth: Int) throws -> JSONValue {
        guard depth <= JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth) levels") }
        position += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            let keyStart = position
            guard peek == UInt8(ascii: "\"") else { throw error("expected a string key, found \(describeNext())") }
            let key = try string()
            guard seen.insert(key).inserted else {
                throw error("duplicate key '\(displaySafe(key))'", at: keyStart)
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after an object key")
            skipWhitespace()
            let v = try value(depth: depth)
            members.append((key, v))
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return .object(members)
        }
    }

    mutating func array(depth: Int) throws -> JSONValue {
        guard depth <= JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth) levels") }
        let start = position
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            guard elements.count < maxArrayLength else {
                throw TResNetError(
                    .limitExceeded, format: format, at: .offset(baseOffset + start),
                    "JSON array longer than \(maxArrayLength) elements")
            }
            elements.append(try value(depth: depth))
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "]"), "',' or ']' in an array")
            return .array(elements)
        }
    }

    mutating func number() throws -> JSONNumber {
        let start = position
        func digits(_ p: inout Parser) -> Int {
            let s = p.position
            while let b = p.peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { p.position += 1 }
            return p.position - s
        }
        if peek == UInt8(ascii: "-") { position += 1 }
        if peek == UInt8(ascii: "0") {
            position += 1
            if let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                throw error("number with a leading zero", at: start)
            }
        } else if digits(&self) == 0 {
            throw error("'-' not followed by a digit", at: start)
        }
        if peek == UInt8(ascii: ".") {
            position += 1
            guard digits(&self) > 0 else { throw error("no digit after the decimal point", at: start) }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            position += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
            guard digits(&self) > 0 else { throw error("no digit in the exponent", at: start) }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let n = JSONNumber(literal: text) else {
            throw error("number \(displaySafe(text, limit: 40)) is out of range", at: start)
        }
        return n
    }

    mutating func hex4() throws -> UInt32 {
        guard bytes.count - position >= 4 else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in a \\u escape")
            }
            v = v << 4 | d
            position += 1
        }
        return v
    }

    /// A string starting at the opening quote; validates UTF-8 and escapes.
    mutating func string() throws -> String {
        position += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard let b = peek else { throw error("unterminated string") }
            switch b {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: out, as: UTF8.self)  // validated byte by byte below
            case UInt8(ascii: "\\"):
                try escape(into: &out)
            case 0..<0x20:
                throw error("unescaped control character 0x\(String(b, radix: 16)) in a string")
            case 0x20..<0x80:
                out.append(b)
                position += 1
            default:
                let n = try utf8SequenceLength()
                out.append(contentsOf: bytes[position..<(position + n)])
                position += n
            }
        }
    }

    mutating func escape(into out: inout [UInt8]) throws {
        let start = position
        position += 1  // backslash
        guard let c = peek else { throw error("unterminated escape", at: start) }
        position += 1
        switch c {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else {
                    throw error("unpaired high surrogate in a \\u escape", at: start)
                }
                position += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("high surrogate not followed by a low surrogate", at: start)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("unpaired low surrogate in a \\u escape", at: start)
            }
            guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape", at: start) }
            out.append(contentsOf: String(Character(u)).utf8)
        default:
            throw error("invalid escape '\\\(displaySafe(String(decoding: [c], as: UTF8.self)))'", at: start)
        }
    }

    /// Length of the well-formed UTF-8 sequence at `position` (lead byte ≥ 0x80), or an error (Unicode 15
    /// table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
    func utf8SequenceLength() throws -> Int {
        let b0 = bytes[position]
        let n: Int
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: n = 2
        case 0xE0: n = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: n = 3
        case 0xED: n = 3; hi = 0x9F
        case 0xF0: n = 4; lo = 0x90
        case 0xF1...0xF3: n = 4
        case 0xF4: n = 4; hi = 0x8F
        default: throw error("invalid UTF-8 (byte 0x\(String(b0, radix: 16)))")
        }
        guard bytes.count - position >= n else { throw error("invalid UTF-8 (truncated sequence)") }
        let b1 = bytes[position + 1]
        guard b1 >= lo && b1 <= hi else {
            throw error("invalid UTF-8 (byte 0x\(String(b1, radix: 16)))", at: position + 1)
        }
        for i in 2..<n {
            let b = bytes[position + i]
            guard b >= 0x80 && b <= 0xBF else {
                throw error("invalid UTF-8 (byte 0x\(String(b, radix: 16)))", at: position + i)
            }
        }
        return n
    }
}
