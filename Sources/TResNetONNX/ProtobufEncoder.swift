/// A minimal protobuf wire-format encoder for the messages `ONNXWriter` emits (varints, fixed32 floats,
/// length-delimited strings, bytes and nested messages). Repeated scalars are written unpacked, which every
/// protobuf parser accepts for proto2 fields such as ONNX's `dims` and `ints`.
struct ProtobufEncoder {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func int(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func int(_ field: Int, _ value: Int) { int(field, Int64(value)) }

    mutating func float(_ field: Int, _ value: Float) {
        tag(field, 5)
        let b = value.bitPattern
        for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: b >> UInt32(s))) }
    }

    mutating func bytes(_ field: Int, _ data: UnsafeRawBufferPointer) {
        tag(field, 2)
        varint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    mutating func string(_ field: Int, _ text: String) {
        var copy = text
        copy.withUTF8 { bytes(field, UnsafeRawBufferPointer($0)) }
    }

    mutating func message(_ field: Int, _ build: (inout ProtobufEncoder) throws -> Void) rethrows {
        var inner = ProtobufEncoder()
        try build(&inner)
        inner.bytes.withUnsafeBytes { bytes(field, $0) }
    }
}
