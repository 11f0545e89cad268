import TResNetCore

/// Container detection by magic bytes (docs/ROBUSTNESS.md A.0 #7).
enum ContainerSniffer {
    enum Kind: Equatable {
        case pytorchZip, pytorchLegacy, safetensors, barePickle, legacyTar, onnx, numpy, tw
    }

    /// The `.tw` magic (`TWLayout.magic` in TResNetFormat, which this module does not depend on).
    static let twMagic: [UInt8] = [0x89, 0x54, 0x57, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    static func sniff(_ b: UnsafeRawBufferPointer) throws -> Kind {
        func starts(_ prefix: [UInt8]) -> Bool { b.count >= prefix.count && b.prefix(prefix.count).elementsEqual(prefix) }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return .pytorchZip }
        if LegacyCheckpoint.matches(b) { return .pytorchLegacy }
        if b.count >= 262, b[257..<262].elementsEqual(Array("ustar".utf8)) { return .legacyTar }
        if starts([0x93] + Array("NUMPY".utf8)) { return .numpy }
        if starts(twMagic) { return .tw }
        if b.count >= 9, b[8] == UInt8(ascii: "{") {
            // u64 LE header length that fits the file
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(b[i]) << (8 * UInt64(i)) }
            if n <= UInt64(b.count - 8) { return .safetensors }
        }
        if starts([0x80]), b.count >= 2, b[1] <= 5 { return .barePickle }
        // ONNX ModelProto: field 1 (ir_version, varint) first, then another small field.
        if b.count >= 3, b[0] == 0x08, b[1] > 0, b[1] < 0x40, [0x12, 0x1A, 0x22, 0x2A, 0x3A, 0x42].contains(b[2]) {
            return .onnx
        }
        let head = b.prefix(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        var hint = ""
        if starts([0x1F, 0x8B]) { hint = " (gzip-compressed: decompress it first)" }
        if starts([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { hint = " (a 7z archive)" }
        if starts(Array("PK".utf8)) { hint = " (a zip that does not start with a local header)" }
        throw TResNetError(.unrecognizedContainer, at: .offset(0),
                           b.isEmpty ? "empty file" : "unrecognised container (first bytes \(head))\(hint)")
    }
}
