import TResNetCore

/// Turns an ONNX TensorProto into a `Tensor`, from whichever storage it uses: `raw_data`, the typed repeated
/// fields (`float_data`, `int32_data` holding f16/bf16/int bit patterns, `int64_data`, `double_data`,
/// `uint64_data`) or external data (docs/ONNX.md). Every size is checked against the bytes present before
/// anything is allocated (docs/ROBUSTNESS.md A.5 #71, #72, #75).
struct TensorDecoder {
    let external: ExternalDataFiles

    /// ONNX `TensorProto.DataType` → our dtype (nil: not a type this reader accepts).
    static func dtype(_ code: Int32) -> DType? {
        switch code {
        case 1: return .float32
        case 2: return .uint8
        case 3: return .int8
        case 4: return .uint16
        case 5: return .int16
        case 6: return .int32
        case 7: return .int64
        case 9: return .bool
        case 10: return .float16
        case 11: return .float64
        case 12: return .uint32
        case 13: return .uint64
        case 16: return .bfloat16
        default: return nil
        }
    }

    static func code(_ dtype: DType) -> Int32? {
        (Int32(1)...16).first { TensorDecoder.dtype($0) == dtype }
    }

    func decode(_ t: ProtoTensor) throws -> Tensor {
        let name = t.name
        func fail(_ code: TResNetError.Code, _ message: String) -> TResNetError {
            TResNetError(code, format: "onnx", at: .tensor(name), message)
        }
        guard let dtype = TensorDecoder.dtype(t.dataType) else {
            let what = t.dataType == 0 ? "UNDEFINED" : t.dataType == 8 ? "STRING" : "\(t.dataType)"
            throw fail(.unsupported, "data type \(what) is not a numeric type this reader supports")
        }
        var shape: [Int] = []
        for d in t.dims {
            guard d >= 0, let v = Int(exactly: d), v <= Int(Int32.max) else {
                throw fail(.malformed, "dimension \(d) is negative or too large")
            }
            shape.append(v)
        }
        guard shape.count <= 8 else { throw fail(.malformed, "\(shape.count) dimensions (at most 8 are accepted)") }
        guard let count = Checked.product(shape), let bytes = Checked.multiply(count, dtype.byteSize) else {
            throw fail(.sizeOverflow, "element count of \(formatShape(shape)) overflows")
        }
        if t.dataLocation == 1 {
            return try decodeExternal(t, dtype: dtype, shape: shape, bytes: bytes, fail: fail)
        }
        guard t.dataLocation == 0 else { throw fail(.malformed, "unknown data_location \(t.dataLocation)") }
        guard t.external.isEmpty else { throw fail(.malformed, "external_data entries on a tensor stored inline") }
        if let raw = t.raw {
            guard raw.count == bytes else {
                throw fail(
                    .malformed,
                    "raw_data holds \(raw.count) bytes; \(formatShape(shape)) \(dtype.shortName) "
                        + "needs \(bytes)")
            }
            return Tensor(dtype: dtype, shape: shape, data: ByteSlice(store: raw))
        }
        return try decodeTyped(t, dtype: dtype, shape: shape, count: count, fail: fail)
    }

    private func decodeTyped(
        _ t: ProtoTensor, dtype: DType, shape: [Int], count: Int,
        fail: (TResNetError.Code, String) -> TResNetError
    ) throws -> Tensor {
        func check(_ n: Int, _ field: String) throws {
            guard n == count else {
                throw fail(.malformed, "\(field) holds \(n) values; \(formatShape(shape)) needs \(count)")
            }
        }
        let store: ByteStore
        switch dtype {
        case .float32:
            try check(t.floatData.count, "float_data")
            store = t.floatData.withUnsafeBytes { ByteStore.copying($0) }
        case .float64:
            try check(t.doubleData.count, "double_data")
            store = t.doubleData.withUnsafeBytes { ByteStore.copying($0) }
        case .int64:
            try check(t.int64Data.count, "int64_data")
            store = t.int64Data.withUnsafeBytes { ByteStore.copying($0) }
        case .uint32, .uint64:
            try check(t.uint64Data.count, "uint64_data")
            let size = dtype.byteSize
            var bad = false
            store = ByteStore.allocate(count: count * size) { dst in
                for (i, v) in t.uint64Data.enumerated() {
                    if size == 4 {
                        guard let u = UInt32(exactly: v) else { bad = true; return }
                        dst.storeBytes(of: u.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                    } else {
                        dst.storeBytes(of: v.littleEndian, toByteOffset: 8 * i, as: UInt64.self)
                    }
                }
            }
            if bad { throw fail(.malformed, "uint64_data value out of range for uint32") }
        default:
            // int32, int16, int8, uint16, uint8, bool, float16, bfloat16: one element per int32 (bit patterns).
            try check(t.int32Data.count, "int32_data")
            let size = dtype.byteSize
            var bad = false
            store = ByteStore.allocate(count: count * size) { dst in
                for (i, v) in t.int32Data.enumerated() {
                    switch dtype {
                    case .int32: dst.storeBytes(of: v.littleEndian, toByteOffset: 4 * i, as: Int32.self)
                    case .int16:
                        guard let x = Int16(exactly: v) else { bad = true; return }
                        dst.storeBytes(of: x.littleEndian, toByteOffset: 2 * i, as: Int16.self)
                    case .uint16, .float16, .bfloat16:
                        guard let x = UInt16(exactly: v) else { bad = true; return }
                        dst.storeBytes(of: x.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                    case .int8:
                        guard let x = Int8(exactly: v) else { bad = true; return }
                        dst.storeBytes(of: x, toByteOffset: i, as: Int8.self)
                    case .uint8, .bool:
                        guard let x = UInt8(exactly: v), dtype != .bool || x <= 1 else { bad = true; return }
                        dst.storeBytes(of: x, toByteOffset: i, as: UInt8.self)
                    default: bad = true; return
                    }
                }
            }
            if bad { throw fail(.malformed, "int32_data value out of range for \(dtype.rawValue)") }
        }
        return Tensor(dtype: dtype, shape: shape, data: ByteSlice(store: store))
    }

    private func decodeExternal(
        _ t: ProtoTensor, dtype: DType, shape: [Int], bytes: Int, fail: (TResNetError.Code, String) -> TResNetError
    ) throws -> Tensor {
        let name = t.name
        guard t.raw == nil else { throw fail(.malformed, "external tensor also has raw_data") }
        var fields: [String: [UInt8]] = [:]
        for (key, value) in t.external {
            // Unknown keys (checksum, basepath, …) are ignored; none is ever mapped onto our state.
            let key = String(decoding: key, as: UTF8.self)
            guard ["location", "offset", "length"].contains(key) else { continue }
            guard fields.updateValue(value, forKey: key) == nil else {
                throw fail(.malformed, "external_data has two '\(key)' entries")
            }
        }
        guard let location = fields["location"] else { throw fail(.malformed, "external tensor without a 'location'") }
        let path = try ExternalDataFiles.validate(location: location, tensor: name)
        func decimal(_ text: [UInt8]?, _ key: String) throws -> Int? {
            guard let text else { return nil }
            guard !text.isEmpty, text.count <= 19, text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let v = Int(String(decoding: text, as: UTF8.self))
            else {
                throw fail(
                    .malformed,
                    "external_data '\(displaySafe(key))' is not a non-negative decimal number: "
                        + "'\(displaySafe(String(decoding: text, as: UTF8.self)))'")
            }
            return v
        }
        let offset = try decimal(fields["offset"], "offset") ?? 0
        let length = try decimal(fields["length"], "length") ?? bytes
        guard length == bytes else {
            throw fail(
                .malformed,
                "external_data length \(length) ≠ \(bytes) bytes for \(formatShape(shape)) "
                    + "\(dtype.shortName)")
        }
        let store = try external.bytes(location: path, tensor: name)
        guard let end = Checked.add(offset, length), end <= store.count else {
            throw fail(
                .truncated,
                "external data [\(offset), +\(length)) runs past the end of "
                    + "'\(displaySafe(path))' (\(store.count) bytes)")
        }
        try external.claim(location: path, range: offset..<end, tensor: name)
        return Tensor(dtype: dtype, shape: shape, data: ByteSlice(store: store, offset: offset, count: length))
    }
}
