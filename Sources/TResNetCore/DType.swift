/// Element types a checkpoint can hold.
///
/// The raw value is the spelling torch uses (`str(torch.float32)` minus the `torch.` prefix), so a dtype
/// global from a pickle maps by name. Reading supports all of them; computing widens the float types to f32.
public enum DType: String, Sendable, CaseIterable, Codable {
    case float64, float32, float16, bfloat16
    case int64, int32, int16, int8, uint8, uint16, uint32, uint64
    case bool
    case complex64, complex128
    case float8_e4m3fn, float8_e5m2

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64, .uint64, .complex64: return 8
        case .float32, .int32, .uint32: return 4
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .int8, .uint8, .bool, .float8_e4m3fn, .float8_e5m2: return 1
        case .complex128: return 16
        }
    }

    /// True for the types that widen to `Float` exactly or by rounding (f64).
    public var isFloatingPoint: Bool {
        switch self {
        case .float64, .float32, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// The safetensors header spelling (`F32`, `BF16`, …); nil where safetensors has none.
    public var safetensorsName: String? {
        switch self {
        case .float64: return "F64"
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .uint16: return "U16"
        case .uint32: return "U32"
        case .uint64: return "U64"
        case .bool: return "BOOL"
        case .complex64: return "C64"
        case .complex128: return nil
        case .float8_e4m3fn: return "F8_E4M3"
        case .float8_e5m2: return "F8_E5M2"
        }
    }

    public init?(safetensorsName: String) {
        guard let match = DType.allCases.first(where: { $0.safetensorsName == safetensorsName }) else { return nil }
        self = match
    }

    /// Short display name: `f32`, `bf16`, `i64`, …
    public var shortName: String {
        switch self {
        case .float64: return "f64"
        case .float32: return "f32"
        case .float16: return "f16"
        case .bfloat16: return "bf16"
        case .int64: return "i64"
        case .int32: return "i32"
        case .int16: return "i16"
        case .int8: return "i8"
        case .uint8: return "u8"
        case .uint16: return "u16"
        case .uint32: return "u32"
        case .uint64: return "u64"
        case .bool: return "bool"
        case .complex64: return "c64"
        case .complex128: return "c128"
        case .float8_e4m3fn: return "f8e4m3fn"
        case .float8_e5m2: return "f8e5m2"
        }
    }
}
