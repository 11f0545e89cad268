import TResNetCore

/// Constants of the `.tw` format, version 1 (docs/FORMAT.md §2).
public enum TWLayout {
    /// `\x89TWF\r\n\x1a\n` (defined once, in `FileFormat`, which recognises every format).
    public static let magic = FileFormat.twMagic
    public static let version: UInt32 = 1
    public static let headerLength = 64
    public static let alignment = 64
    public static let checksumFieldOffset = 56

    // Limits (FORMAT.md §2.2, §2.3).
    public static let maxMetadataCount = 4096
    public static let maxTensorCount = 1 << 20
    public static let maxKeyLength = 256
    public static let maxStringLength = 1 << 20
    public static let maxArrayCount = 65_536
    public static let maxNameLength = 1024
    public static let maxRank = 8
    public static let maxDim = 1 << 40

    /// The stable dtype numbering (FORMAT.md §2.4).
    static let dtypeCodes: [DType: UInt8] = [.float32: 1, .float16: 2, .bfloat16: 3]

    public static func code(of dtype: DType) -> UInt8? { dtypeCodes[dtype] }

    public static func dtype(code: UInt8) -> DType? { dtypeCodes.first { $0.value == code }?.key }

    /// Whether `byte` may appear in a metadata key: `[a-z0-9_.]`.
    static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5f || byte == 0x2e
    }

    /// The header checksum: XXH64 of `[64, indexEnd)` seeded with XXH64 of `[0, 56)`.
    static func headerChecksum(_ bytes: UnsafeRawBufferPointer, indexEnd: Int) -> UInt64 {
        let seed = XXH64.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<checksumFieldOffset]))
        return XXH64.hash(UnsafeRawBufferPointer(rebasing: bytes[headerLength..<indexEnd]), seed: seed)
    }
}

/// A typed metadata value (FORMAT.md §2.2).
public enum TWValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case string(String)
    case ints([Int64])
    case doubles([Double])
    case strings([String])

    var tag: UInt8 {
        switch self {
        case .int: return 1
        case .double: return 2
        case .bool: return 3
        case .string: return 4
        case .ints: return 5
        case .doubles: return 6
        case .strings: return 7
        }
    }

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .bool(let v): return String(v)
        case .string(let v): return "\"\(displaySafe(v))\""
        case .ints(let v): return Self.list(v.map(String.init))
        case .doubles(let v): return Self.list(v.map { String($0) })
        case .strings(let v): return Self.list(v.map { "\"\(displaySafe($0))\"" })
        }
    }

    /// `[a, b, c]`; a long array (a semantic tree's 11221 synsets) shows its first items and its length.
    static func list(_ items: [String], limit: Int = 16) -> String {
        guard items.count > limit else { return "[" + items.joined(separator: ", ") + "]" }
        return "[" + items.prefix(limit).joined(separator: ", ") + ", …] (\(items.count) entries)"
    }

    public var intValue: Int64? { if case .int(let v) = self { return v } else { return nil } }
    public var doubleValue: Double? { if case .double(let v) = self { return v } else { return nil } }
    public var boolValue: Bool? { if case .bool(let v) = self { return v } else { return nil } }
    public var stringValue: String? { if case .string(let v) = self { return v } else { return nil } }
    public var intsValue: [Int64]? { if case .ints(let v) = self { return v } else { return nil } }
    public var doublesValue: [Double]? { if case .doubles(let v) = self { return v } else { return nil } }
    public var stringsValue: [String]? { if case .strings(let v) = self { return v } else { return nil } }
}

/// One tensor index entry (FORMAT.md §2.3).
public struct TWTensorInfo: Sendable, Hashable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Offset relative to the data section.
    public var offset: Int
    public var length: Int
    public var checksum: UInt64
}
