extension ONNXModel {
    /// Whether `prefix` (the first bytes of a file) looks like an ONNX ModelProto. ONNX has no magic number;
    /// every exporter writes `ir_version` (field 1, a varint between 1 and 64) first, followed by another
    /// ModelProto field with its proper wire type. Other formats' magics (zip `PK`, pickle `\x80`, safetensors'
    /// little-endian length, NumPy `\x93NUMPY`) never start with byte 0x08 followed by this.
    public static func sniff(_ prefix: [UInt8]) -> Bool {
        guard prefix.count >= 3, prefix[0] == 0x08, prefix[1] >= 1, prefix[1] <= 64 else { return false }
        let tag = prefix[2]
        let field = tag >> 3, wire = tag & 7
        switch field {
        case 2, 3, 4, 6, 7, 8, 14, 20, 25, 26: return wire == 2  // strings and messages
        case 5: return wire == 0  // model_version
        default: return false
        }
    }
}
