/// A JSON value as parsed by `JSONParser`: objects keep their members in file order, numbers keep the exact
/// integer when the literal is one.
public enum JSONValue: Sendable {
    /// Members in the order they appear. Keys are unique (the parser refuses duplicates).
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(JSONNumber)
    case bool(Bool)
    case null

    /// The members when this is an object.
    public var objectMembers: [(key: String, value: JSONValue)]? {
        if case .object(let m) = self { return m }
        return nil
    }

    public var arrayElements: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as `Int` when it is an integer literal (no fraction, no exponent) that fits exactly.
    public var intValue: Int? {
        if case .number(let n) = self { return n.int }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The first member named `key` of an object.
    public subscript(key: String) -> JSONValue? {
        objectMembers?.first(where: { $0.key == key })?.value
    }

    /// A short name of the kind of value, for error messages: `object`, `array`, `string`, `number`, …
    public var kindName: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .number(let n): return n.isInteger ? "integer" : "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }
}

/// A JSON number: its value as a `Double` and — when the literal is an integer (no `.`, no exponent) — the exact
/// value as `Int` and/or `UInt64`, so offsets up to 2^64 − 1 survive exactly. Kept compact (24 bytes): a
/// header of a million numbers costs no more than a few times its own size.
public struct JSONNumber: Sendable, Equatable {
    private let magnitude: UInt64
    /// The value rounded to the nearest `Double` (finite: the parser refuses literals beyond the range).
    public let double: Double
    private let flags: UInt8
    private static let integerFlag: UInt8 = 1, negativeFlag: UInt8 = 2, exactFlag: UInt8 = 4

    /// Parses a literal already known to match the JSON number grammar; nil when it is beyond `Double`'s range.
    public init?(literal text: String) {
        guard let d = Double(text), d.isFinite else { return nil }
        double = d
        let integer = !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }
        let negative = text.utf8.first == UInt8(ascii: "-")
        var f: UInt8 = 0
        var m: UInt64 = 0
        if integer {
            f |= Self.integerFlag
            if let v = UInt64(negative ? String(text.dropFirst()) : text) {
                m = v
                f |= Self.exactFlag
            }
        }
        if negative && m != 0 { f |= Self.negativeFlag }
        magnitude = m
        flags = f
    }

    /// True when the literal has neither a fraction nor an exponent.
    public var isInteger: Bool { flags & Self.integerFlag != 0 }

    /// The exact value when the literal is a non-negative integer that fits in `UInt64` (`-0` is 0).
    public var uint64: UInt64? {
        flags & Self.exactFlag != 0 && flags & Self.negativeFlag == 0 ? magnitude : nil
    }

    /// The exact value when the literal is an integer that fits in `Int`.
    public var int: Int? {
        guard flags & Self.exactFlag != 0 else { return nil }
        if flags & Self.negativeFlag == 0 { return Int(exactly: magnitude) }
        if magnitude == UInt64(Int.max) + 1 { return Int.min }
        return Int(exactly: magnitude).map { -$0 }
    }

    /// The exact decimal text of an integer that fits in 64 bits; otherwise the `Double`'s shortest text.
    public var text: String {
        guard flags & Self.exactFlag != 0 else { return String(double) }
        return (flags & Self.negativeFlag != 0 ? "-" : "") + String(magnitude)
    }
}

extension JSONValue: Equatable {
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let x), .array(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }
}
