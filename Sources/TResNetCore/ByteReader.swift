/// A bounded little-endian cursor over bytes. Every read checks the bytes remaining first, so a declared
/// length can never make a reader allocate or read past the input (docs/ROBUSTNESS.md). Errors name the format
/// and the absolute offset.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    /// Offset of `bytes[0]` in the file, for error messages.
    public let baseOffset: Int
    public private(set) var position: Int = 0
    public let format: String

    public init(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0, format: String) {
        self.bytes = bytes
        self.baseOffset = baseOffset
        self.format = format
    }

    public var remaining: Int { bytes.count - position }
    public var isAtEnd: Bool { position >= bytes.count }
    /// Absolute offset of the next byte.
    public var offset: Int { baseOffset + position }

    public func error(_ code: TResNetError.Code = .malformed, at offset: Int? = nil, _ message: String) -> TResNetError
    {
        TResNetError(code, format: format, at: .offset(offset ?? self.offset), message)
    }

    public mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw error(.truncated, "truncated: \(what()) needs \(n) bytes, \(remaining) remain")
        }
    }

    public mutating func seek(to position: Int) throws {
        guard position >= 0, position <= bytes.count else {
            throw error(.truncated, "offset \(baseOffset + position) is outside the \(bytes.count)-byte input")
        }
        self.position = position
    }

    public mutating func skip(_ n: Int, _ what: @autoclosure () -> String = "skip") throws {
        try need(n, what())
        position += n
    }

    public mutating func u8(_ what: @autoclosure () -> String = "byte") throws -> UInt8 {
        try need(1, what())
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func fixed<T: FixedWidthInteger>(_ type: T.Type, _ what: () -> String) throws -> T {
        let n = MemoryLayout<T>.size
        try need(n, what())
        var v = T.zero
        withUnsafeMutableBytes(of: &v) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)]))
        }
        position += n
        return T(littleEndian: v)
    }

    public mutating func u16(_ what: @autoclosure () -> String = "u16") throws -> UInt16 {
        try fixed(UInt16.self, what)
    }
    public mutating func u32(_ what: @autoclosure () -> String = "u32") throws -> UInt32 {
        try fixed(UInt32.self, what)
    }
    public mutating func u64(_ what: @autoclosure () -> String = "u64") throws -> UInt64 {
        try fixed(UInt64.self, what)
    }
    public mutating func i32(_ what: @autoclosure () -> String = "i32") throws -> Int32 { try fixed(Int32.self, what) }
    public mutating func i64(_ what: @autoclosure () -> String = "i64") throws -> Int64 { try fixed(Int64.self, what) }

    /// A u64 that must fit in `Int` (the declared sizes of every format we read).
    public mutating func u64AsInt(_ what: @autoclosure () -> String) throws -> Int {
        let start = offset
        let v = try u64(what())
        guard let i = Int(exactly: v) else { throw error(.sizeOverflow, at: start, "\(what()) \(v) is too large") }
        return i
    }

    /// An IEEE-754 double stored big-endian (pickle BINFLOAT).
    public mutating func f64BigEndian(_ what: @autoclosure () -> String = "f64") throws -> Double {
        let raw = try fixed(UInt64.self, what)  // read as little-endian…
        return Double(bitPattern: raw.byteSwapped)  // …so one swap yields the big-endian value
    }

    /// `n` bytes as a buffer view (no copy).
    public mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try need(n, what())
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    /// `n` bytes decoded as UTF-8; invalid UTF-8 is an error (never silently repaired).
    public mutating func utf8(_ n: Int, _ what: @autoclosure () -> String) throws -> String {
        let start = offset
        let raw = try bytes(n, what())
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw error(at: start, "\(what()) is not valid UTF-8")
        }
        return s
    }

    /// Reads up to and excluding `terminator`, consuming it. At most `limit` bytes are scanned.
    public mutating func line(terminator: UInt8 = 0x0A, limit: Int, _ what: @autoclosure () -> String) throws -> String
    {
        let start = offset
        var end = position
        let stop = min(bytes.count, position + limit)
        while end < stop, bytes[end] != terminator { end += 1 }
        guard end < bytes.count, bytes[end] == terminator else {
            if end >= bytes.count { throw error(.truncated, at: start, "truncated: \(what()) has no terminator") }
            throw error(.limitExceeded, at: start, "\(what()) is longer than \(limit) bytes")
        }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[position..<end])
        position = end + 1
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw error(at: start, "\(what()) is not valid UTF-8")
        }
        return s
    }
}
