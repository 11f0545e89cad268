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

/// A JSON number: its literal text, its value as a `Double`, and — when the literal is an integer (no `.`,
/// no exponent) — the exact value as `Int` and/or `UInt64` (so offsets up to 2^64 − 1 survive exactly).
public struct JSONNumber: Sendable, Equatable {
    /// The literal exactly as written.
    public let text: String
    /// The value rounded to the nearest `Double` (finite: the parser refuses literals beyond the range).
    public let double: Double
    /// True when the literal has neither a fraction nor an exponent.
    public let isInteger: Bool
    /// The exact value when the literal is an integer that fits in `Int`.
    public let int: Int?
    /// The exact value when the literal is a non-negative integer that fits in `UInt64`.
    public let uint64: UInt64?

    public init?(literal text: String) {
        guard let d = Double(text), d.isFinite else { return nil }
        self.text = text
        self.double = d
        let integer = !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
        self.isInteger = integer
        // "-0" is the integer 0.
        self.int = integer ? Int(text) ?? (text == "-0" ? 0 : nil) : nil
        self.uint64 = integer ? UInt64(text) ?? (text == "-0" ? 0 : nil) : nil
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
