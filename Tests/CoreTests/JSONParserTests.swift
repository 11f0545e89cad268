import Testing
import TResNetCore

@Suite("JSONParser")
struct JSONParserTests {
    /// Parses `bytes`, expecting an error; returns it for inspection.
    func failure(_ bytes: [UInt8], baseOffset: Int = 0) -> TResNetError? {
        do {
            _ = try bytes.withUnsafeBytes { try JSONParser.parse($0, format: "test", baseOffset: baseOffset) }
            return nil
        } catch let e as TResNetError {
            return e
        } catch {
            return nil
        }
    }

    func failure(_ text: String) -> TResNetError? { failure(Array(text.utf8)) }

    func expectMalformed(
        _ text: String, _ fragment: String, at offset: Int? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let e = failure(text)
        #expect(e?.code == .malformed, "\(text) should be refused", sourceLocation: sourceLocation)
        #expect(
            e?.message.contains(fragment) == true, "message: \(e?.message ?? "none")", sourceLocation: sourceLocation)
        #expect(e?.format == "test", sourceLocation: sourceLocation)
        if let offset, case .offset(let k)? = e?.location {
            #expect(k == offset, "offset of \(text)", sourceLocation: sourceLocation)
        } else if offset != nil {
            Issue.record("no offset location for \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func parsesEveryKindAndKeepsMemberOrder() throws {
        let v = try JSONParser.parse(#" { "z": [1, -2.5e3, true, false, null], "a": {"b": "c"}, "m": "" } "#)
        let members = try #require(v.objectMembers)
        #expect(members.map(\.key) == ["z", "a", "m"])
        let z = try #require(v["z"]?.arrayElements)
        #expect(z.count == 5)
        #expect(z[0].intValue == 1)
        if case .number(let n) = z[1] {
            #expect(n.double == -2500)
            #expect(!n.isInteger)
            #expect(n.int == nil)
        } else {
            Issue.record("not a number")
        }
        #expect(z[2] == .bool(true))
        #expect(z[3] == .bool(false))
        #expect(z[4] == .null)
        #expect(v["a"]?["b"]?.stringValue == "c")
        #expect(v["m"]?.stringValue == "")
    }

    @Test func bigIntegersAreExact() throws {
        // 2^53 + 1 is not representable as a Double; the integer must survive exactly.
        let v = try JSONParser.parse("[9007199254740993, 18446744073709551615, -9223372036854775808, -0, 1.0]")
        let a = try #require(v.arrayElements)
        guard case .number(let n0) = a[0], case .number(let n1) = a[1], case .number(let n2) = a[2],
            case .number(let n3) = a[3], case .number(let n4) = a[4]
        else {
            Issue.record("not numbers")
            return
        }
        #expect(n0.int == 9_007_199_254_740_993)
        #expect(n0.uint64 == 9_007_199_254_740_993)
        #expect(n1.int == nil)
        #expect(n1.uint64 == UInt64.max)
        #expect(n2.int == Int.min)
        #expect(n2.uint64 == nil)
        #expect(n3.int == 0)
        #expect(n4.isInteger == false)
        #expect(n4.int == nil)
        #expect(n4.double == 1)
    }

    @Test func escapesAndSurrogatePairs() throws {
        let v = try JSONParser.parse(#"["\"\\\/\b\f\n\r\t", "\u00e9\u20AC", "\ud83d\ude00", "é€😀"]"#)
        let a = try #require(v.arrayElements)
        #expect(a[0].stringValue == "\"\\/\u{08}\u{0C}\n\r\t")
        #expect(a[1].stringValue == "é€")
        #expect(a[2].stringValue == "😀")
        #expect(a[3].stringValue == "é€😀")
    }

    @Test func duplicateKeysAreRefusedByName() {
        expectMalformed(#"{"w": 1, "x": 2, "w": 3}"#, "duplicate key 'w'", at: 17)
        expectMalformed(#"{"a": {"k": 1, "k": 1}}"#, "duplicate key 'k'")
        // Escapes are decoded before comparing: "\u0077" is "w".
        expectMalformed(#"{"w": 1, "\u0077": 2}"#, "duplicate key 'w'")
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        _ = try JSONParser.parse(ok)
        expectMalformed(
            String(repeating: "[", count: 129) + String(repeating: "]", count: 129), "nesting deeper than 128")
        // Far deeper input must not exhaust the stack.
        expectMalformed(String(repeating: "{\"a\":", count: 100_000), "nesting deeper than 128")
    }

    @Test func invalidUTF8IsRefused() {
        // overlong '/', lone continuation byte, UTF-16 surrogate encoded in UTF-8, above U+10FFFF, truncated.
        let cases: [[UInt8]] = [
            [0x22, 0xC0, 0xAF, 0x22], [0x22, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x82]
        ]
        for c in cases {
            let e = failure(c)
            #expect(e?.code == .malformed)
            #expect(e?.message.contains("invalid UTF-8") == true, "\(c): \(e?.message ?? "accepted")")
        }
        // Offsets are absolute: baseOffset + position.
        let e = failure([0x22, 0x61, 0xFF, 0x22], baseOffset: 8)
        if case .offset(let k)? = e?.location { #expect(k == 10) } else { Issue.record("no offset") }
    }

    @Test func loneSurrogateEscapesAreRefused() {
        expectMalformed(#""\ud83d""#, "unpaired high surrogate")
        expectMalformed(#""\ude00""#, "unpaired low surrogate")
        expectMalformed(#""\ud83d\u0041""#, "not followed by a low surrogate")
    }

    @Test func grammarErrors() {
        expectMalformed(#"{"a": 1} x"#, "after the JSON value", at: 9)
        expectMalformed("", "expected a value")
        expectMalformed("[1,]", "expected a value")
        expectMalformed(#"{"a": 1,}"#, "expected a string key")
        expectMalformed("[01]", "leading zero")
        expectMalformed("[1.]", "decimal point")
        expectMalformed("[1e]", "exponent")
        expectMalformed("[-]", "not followed by a digit")
        expectMalformed("[+1]", "expected a value")
        expectMalformed("[NaN]", "expected a value")
        expectMalformed("[1e999]", "out of range")
        expectMalformed("[tru]", "invalid literal")
        expectMalformed("\"a\tb\"", "unescaped control character")
        expectMalformed(#""\x41""#, "invalid escape")
        expectMalformed(#""\u12G4""#, "invalid hex digit")
        expectMalformed(#""abc"#, "unterminated string")
        expectMalformed(#"{"a" 1}"#, "expected ':'")
        expectMalformed("[1 2]", "expected ',' or ']'")
        expectMalformed("{'a': 1}", "expected a string key")
    }

    @Test func whitespaceAroundTheValueIsAllowed() throws {
        let v = try JSONParser.parse(" \t\r\n{}\n  \t")
        #expect(v.objectMembers?.isEmpty == true)
    }
}

@Suite("JSONParser limits")
struct JSONParserLimitTests {
    @Test func arrayLengthLimit() throws {
        let ok = "[1,2,3]"
        _ = try Array(ok.utf8).withUnsafeBytes { try JSONParser.parse($0, format: "t", maxArrayLength: 3) }
        do {
            _ = try Array("[[1,2,3,4]]".utf8).withUnsafeBytes {
                try JSONParser.parse($0, format: "t", maxArrayLength: 3)
            }
            Issue.record("accepted")
        } catch let e as TResNetError {
            #expect(e.code == .limitExceeded)
            #expect(e.message.contains("longer than 3 elements"))
            if case .offset(let k)? = e.location { #expect(k == 1) } else { Issue.record("no offset") }
        }
    }
}
