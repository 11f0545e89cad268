import TResNetCore

/// NumPy `.npy` arrays (format versions 1.0, 2.0 and 3.0): a strict reader and a writer.
///
/// Reading follows docs/ROBUSTNESS.md A.6: the magic and version are checked, the header length is bounded (10,000
/// bytes, numpy's `max_header_size`) before the header is touched, the header dictionary is parsed with a
/// literal grammar (never evaluated) and must hold exactly `descr`, `fortran_order` and `shape`, object and
/// structured dtypes are refused, and the data must be exactly Π(shape) × itemsize bytes — no fewer, no
/// trailing bytes. Big-endian arrays are byte-swapped; Fortran-order arrays are converted to C order.
public enum NpyArray {
    /// numpy's `max_header_size` default.
    public static let maxHeaderSize = 10_000

    static let magic = FileFormat.numpyMagic  // \x93NUMPY

    /// Reads the array in `slice` (a whole `.npy` file or an `.npz` member). Errors name `name` as the file
    /// and give offsets relative to the start of `slice`. Little-endian C-order data is not copied.
    public static func read(_ slice: ByteSlice, name: String) throws -> Tensor {
        try TResNetError.naming(name) { try read(slice) }
    }

    /// Maps the file at `path` and reads it.
    public static func read(path: String) throws -> Tensor {
        let store = try ByteStore.map(path: path)
        return try read(ByteSlice(store: store), name: path)
    }

    static func read(_ slice: ByteSlice) throws -> Tensor {
        var r = ByteReader(slice.bytes, format: "npy")
        guard slice.count >= 8 else {
            throw r.error(
                .truncated, at: 0, "truncated: the magic and version need 8 bytes, the input has \(slice.count)")
        }
        let m = try r.bytes(6, "magic")
        guard m.elementsEqual(magic) else { throw r.error(.unrecognizedContainer, at: 0, "bad magic (not \\x93NUMPY)") }
        let major = try r.u8("major version")
        let minor = try r.u8("minor version")
        guard (1...3).contains(major), minor == 0 else {
            throw r.error(.unsupported, at: 6, "format version \(major).\(minor) is not 1.0, 2.0 or 3.0")
        }
        let headerLength = major == 1 ? Int(try r.u16("header length")) : Int(try r.u32("header length"))
        guard headerLength <= maxHeaderSize else {
            throw r.error(
                .limitExceeded, at: 8,
                "header length \(headerLength) exceeds the \(maxHeaderSize)-byte limit")
        }
        let headerStart = r.offset
        let headerBytes = try r.bytes(headerLength, "header")
        let header = try NpyHeader.parse(headerBytes, base: headerStart)

        let (dtype, bigEndian) = try dtypeOf(header.descr, at: headerStart)
        guard let byteCount = Checked.byteCount(header.shape, elementSize: dtype.byteSize) else {
            throw r.error(
                .sizeOverflow, at: headerStart,
                "shape \(formatShape(header.shape)) × \(dtype.byteSize) bytes overflows")
        }
        let dataStart = r.position
        let remaining = r.remaining
        guard byteCount <= remaining else {
            throw r.error(
                .truncated, at: dataStart,
                "truncated: shape \(formatShape(header.shape)) '\(displaySafe(header.descr, limit: 40))' "
                    + "needs \(byteCount) bytes of data, \(remaining) remain")
        }
        guard byteCount == remaining else {
            throw r.error(at: dataStart + byteCount, "\(remaining - byteCount) trailing bytes after the array data")
        }
        var data = slice.slice(dataStart..<(dataStart + byteCount))
        if bigEndian && dtype.byteSize > 1 { data = byteSwapped(data, elementSize: dtype.byteSize) }
        guard header.fortranOrder else { return Tensor(dtype: dtype, shape: header.shape, data: data) }
        // Fortran order: element idx lives at Σ idx[d]·Π(shape[..<d]); gather it into row-major order.
        var strides: [Int] = []
        var s = 1
        for d in header.shape {
            strides.append(s)
            s *= d  // ≤ the checked element count
        }
        return Tensor.gather(storage: data, dtype: dtype, shape: header.shape, strides: strides, offset: 0)
    }

    /// The descr spellings read (`|`, `<`, `>`, `=` byte orders) and written.
    static let typeCodes: [String: DType] = [
        "f2": .float16, "f4": .float32, "f8": .float64,
        "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
        "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64,
        "b1": .bool
    ]

    /// Maps a descr to a dtype and whether the data is big-endian.
    static func dtypeOf(_ descr: String, at offset: Int) throws -> (DType, bigEndian: Bool) {
        func refuse(_ message: String) -> TResNetError {
            TResNetError(.unsupported, format: "npy", at: .offset(offset), message)
        }
        let chars = Array(descr.utf8)
        guard let order = chars.first,
            [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "|"), UInt8(ascii: "=")]
                .contains(order), chars.count >= 2
        else {
            throw refuse("dtype '\(displaySafe(descr, limit: 40))' is not supported")
        }
        let kind = chars[1]
        if kind == UInt8(ascii: "O") {
            throw refuse("object arrays need pickle; refused (dtype '\(displaySafe(descr))')")
        }
        let code = String(decoding: chars[1...], as: UTF8.self)
        guard let dtype = typeCodes[code] else {
            let what: String
            switch kind {
            case UInt8(ascii: "U"), UInt8(ascii: "S"), UInt8(ascii: "a"): what = "string arrays are"
            case UInt8(ascii: "V"): what = "void/structured arrays are"
            case UInt8(ascii: "M"), UInt8(ascii: "m"): what = "datetime arrays are"
            case UInt8(ascii: "c"): what = "complex arrays are"
            default: what = "this dtype is"
            }
            throw refuse("dtype '\(displaySafe(descr, limit: 40))': \(what) not supported")
        }
        return (dtype, order == UInt8(ascii: ">"))
    }

    static func byteSwapped(_ data: ByteSlice, elementSize: Int) -> ByteSlice {
        let src = data.bytes
        let store = ByteStore.allocate(count: data.count) { dst in
            for e in stride(from: 0, to: data.count, by: elementSize) {
                for k in 0..<elementSize { dst[e + k] = src[e + elementSize - 1 - k] }
            }
        }
        return ByteSlice(store: store)
    }

    /// The little-endian descr numpy writes for `dtype` (`<f4`, `|u1`, …); nil when numpy has none (bf16, f8).
    public static func descr(for dtype: DType) -> String? {
        guard let code = typeCodes.first(where: { $0.value == dtype })?.key else { return nil }
        return (dtype.byteSize == 1 ? "|" : "<") + code
    }

    /// The complete `.npy` v1.0 preamble (magic, version, length, header) numpy writes for a C-order array:
    /// the dictionary with numpy's spare space after it, padded with spaces and a newline so the data starts at
    /// a multiple of 64.
    static func preamble(descr: String, shape: [Int]) throws -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first {
            header += String(repeating: " ", count: max(0, 21 - String(first).count))  // GROWTH_AXIS_MAX_DIGITS
        }
        let body = Array(header.utf8)
        let hlen = body.count + 1
        let padding = 64 - (10 + hlen) % 64
        guard let total = UInt16(exactly: hlen + padding) else {
            throw TResNetError(.unsupported, format: "npy", "header of \(hlen) bytes is too long for format 1.0")
        }
        var out = magic + [1, 0]
        out.append(UInt8(total & 0xFF))
        out.append(UInt8(total >> 8))
        out += body
        out += [UInt8](repeating: UInt8(ascii: " "), count: padding)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// Writes `tensor` as a C-order `.npy` (format 1.0, byte-identical to `numpy.save` of the same array),
    /// atomically. f32 and every dtype numpy has (f16, f64, integers, bool) are written; bf16 and f8 are not.
    public static func write(_ tensor: Tensor, to path: String, overwrite: Bool = true) throws {
        guard let d = descr(for: tensor.dtype) else {
            throw TResNetError(.unsupported, format: "npy", "numpy has no \(tensor.dtype.rawValue) dtype", file: path)
        }
        let head = try preamble(descr: d, shape: tensor.shape)
        try TResNetError.naming(path) {
            try AtomicFile.writing(to: path, overwrite: overwrite) { file in
                try file.write(head)
                try file.write(tensor.data.bytes)
            }
        }
    }
}
