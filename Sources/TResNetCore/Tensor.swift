/// A dense, row-major (C-order), little-endian tensor whose bytes live in a `ByteStore` — a slice of a
/// memory-mapped file when a reader could hand out the bytes as they are, a fresh allocation otherwise.
///
/// Shapes are in PyTorch order (`[out, in, kh, kw]` for a conv weight). Tensors are values: cheap to copy,
/// immutable, `Sendable`.
public struct Tensor: Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let data: ByteSlice

    /// Wraps `data`; `data.count` must equal the element count × element size (readers check before).
    public init(dtype: DType, shape: [Int], data: ByteSlice) {
        precondition(
            Checked.byteCount(shape, elementSize: dtype.byteSize) == data.count, "tensor bytes do not match shape")
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { data.count }
    public var rank: Int { shape.count }

    /// A new f32 tensor holding `values`.
    public init(shape: [Int], floats values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "values do not match shape")
        let store = values.withUnsafeBytes { ByteStore.copying($0) }
        self.init(dtype: .float32, shape: shape, data: ByteSlice(store: store))
    }

    /// Element `i` (flat, row-major) widened to Double; nil for non-numeric types.
    public func scalar(at i: Int) -> Double? {
        let b = data.bytes
        let o = i * dtype.byteSize
        func load<T>(_: T.Type) -> T { b.loadUnaligned(fromByteOffset: o, as: T.self) }
        switch dtype {
        case .float32: return Double(Float(bitPattern: UInt32(littleEndian: load(UInt32.self))))
        case .float64: return Double(bitPattern: UInt64(littleEndian: load(UInt64.self)))
        case .float16: return Double(Float(half: UInt16(littleEndian: load(UInt16.self))))
        case .bfloat16: return Double(Float(bfloat16: UInt16(littleEndian: load(UInt16.self))))
        case .int64: return Double(Int64(littleEndian: load(Int64.self)))
        case .int32: return Double(Int32(littleEndian: load(Int32.self)))
        case .int16: return Double(Int16(littleEndian: load(Int16.self)))
        case .int8: return Double(load(Int8.self))
        case .uint8: return Double(load(UInt8.self))
        case .uint16: return Double(UInt16(littleEndian: load(UInt16.self)))
        case .uint32: return Double(UInt32(littleEndian: load(UInt32.self)))
        case .uint64: return Double(UInt64(littleEndian: load(UInt64.self)))
        case .bool: return load(UInt8.self) != 0 ? 1 : 0
        case .complex64, .complex128, .float8_e4m3fn, .float8_e5m2: return nil
        }
    }

    /// All elements widened to `Float` (f32, f16, bf16 exactly; f64 rounded). Other types are an error.
    public func floats() throws -> [Float] {
        let n = elementCount
        var out = [Float](repeating: 0, count: n)
        let b = data.bytes
        switch dtype {
        case .float32:
            out.withUnsafeMutableBytes { dst in if n > 0 { dst.copyMemory(from: b) } }
        case .float16:
            for i in 0..<n {
                out[i] = Float(half: UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bfloat16:
            for i in 0..<n {
                out[i] = Float(bfloat16: UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .float64:
            for i in 0..<n {
                out[i] = Float(
                    Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        default:
            throw TResNetError(.unsupported, "\(dtype.rawValue) tensor cannot be read as floating point")
        }
        return out
    }

    /// This tensor converted to `target` (f32, f16 or bf16; narrowing rounds to nearest even).
    public func converted(to target: DType) throws -> Tensor {
        if target == dtype { return self }
        guard [.float32, .float16, .bfloat16].contains(target) else {
            throw TResNetError(.unsupported, "cannot convert to \(target.rawValue)")
        }
        let values = try floats()
        let store = ByteStore.allocate(count: values.count * target.byteSize) { dst in
            switch target {
            case .float32:
                values.withUnsafeBytes { dst.copyMemory(from: $0) }
            case .float16:
                for (i, v) in values.enumerated() {
                    dst.storeBytes(of: v.halfBits.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
            case .bfloat16:
                for (i, v) in values.enumerated() {
                    dst.storeBytes(of: v.bfloat16Bits.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
            default:
                break
            }
        }
        return Tensor(dtype: target, shape: shape, data: ByteSlice(store: store))
    }

    /// Materialises a strided view of `storage` (element `idx` at `offset + Σ idx[d]·strides[d]`, all in
    /// elements) as a dense row-major tensor. Contiguous views are returned without copying.
    /// The caller has validated that every addressed element lies inside `storage`.
    public static func gather(storage: ByteSlice, dtype: DType, shape: [Int], strides: [Int], offset: Int) -> Tensor {
        let es = dtype.byteSize
        let n = shape.reduce(1, *)
        if n == 0 || isContiguous(shape: shape, strides: strides) {
            let byteOffset = offset * es
            let slice =
                n == 0
                ? ByteSlice(store: storage.store, offset: storage.offset, count: 0)
                : storage.slice(byteOffset..<(byteOffset + n * es))
            return Tensor(dtype: dtype, shape: shape, data: slice)
        }
        let src = storage.bytes
        let store = ByteStore.allocate(count: n * es) { dst in
            var index = [Int](repeating: 0, count: shape.count)
            var srcElement = offset
            for i in 0..<n {
                (dst.baseAddress! + i * es).copyMemory(from: src.baseAddress! + srcElement * es, byteCount: es)
                // advance the multi-index, innermost first
                var d = shape.count - 1
                while d >= 0 {
                    index[d] += 1
                    srcElement += strides[d]
                    if index[d] < shape[d] { break }
                    srcElement -= strides[d] * shape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
        return Tensor(dtype: dtype, shape: shape, data: ByteSlice(store: store))
    }

    /// True when `strides` are the row-major strides of `shape` (size-1 dimensions may have any stride).
    public static func isContiguous(shape: [Int], strides: [Int]) -> Bool {
        var expected = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            if shape[d] != 1 && strides[d] != expected { return false }
            expected *= shape[d]
        }
        return true
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "\(dtype.shortName)\(shape)" }
}

/// Formats a shape the PyTorch way: `[64, 48, 3, 3]`.
public func formatShape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
