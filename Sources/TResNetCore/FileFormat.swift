/// The one place that recognises a file's format by its first bytes (never by its extension). Every reader and
/// every tool asks this; the magic numbers are defined here once (docs/ROBUSTNESS.md A.0 #7).
public enum FileFormat: String, Sendable, CaseIterable {
    /// A zip archive with a local header first: a PyTorch zip checkpoint, or an `.npz`.
    case zip
    /// A PyTorch legacy stream (`_use_new_zipfile_serialization=False`).
    case pytorchLegacy = "pytorch-legacy"
    /// A torch ≤ 0.1 tar checkpoint (recognised to be refused by name).
    case legacyTar = "legacy-tar"
    case safetensors
    /// A pickle with no PyTorch header.
    case barePickle = "pickle"
    case numpy = "npy"
    case onnx
    /// The toolkit's own `.tw` format (docs/FORMAT.md).
    case tw
    /// Images (`TResNetImage` decodes them).
    case jpeg, png

    /// `\x89TWF\r\n\x1a\n`, the `.tw` magic (docs/FORMAT.md §2).
    public static let twMagic: [UInt8] = [0x89, 0x54, 0x57, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The legacy stream's LONG1 magic number 0x1950a86a20f9469cfc6c, little-endian.
    public static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    /// `\x93NUMPY`
    public static let numpyMagic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// `\x89PNG\r\n\x1a\n`
    public static let pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// How many leading bytes `recognise` looks at (the tar magic sits at 257).
    public static let headLength = 512

    /// The format of a file whose first bytes are `head` and whose size is `fileSize` (defaults to `head.count`,
    /// i.e. `head` is the whole file); nil when no format matches.
    public static func recognise(_ head: UnsafeRawBufferPointer, fileSize: Int? = nil) -> FileFormat? {
        let b = head
        func starts(_ prefix: [UInt8]) -> Bool { b.starts(with: prefix) }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return .zip }
        // The legacy stream's first pickle: `80 0N 8A 0A <magic> 2E`.
        if b.count >= 15, b[0] == 0x80, b[2] == 0x8A, b[3] == 0x0A, b[14] == 0x2E, b[4..<14].elementsEqual(legacyMagic)
        {
            return .pytorchLegacy
        }
        if b.count >= 262, b[257..<262].elementsEqual(Array("ustar".utf8)) { return .legacyTar }
        if starts(numpyMagic) { return .numpy }
        if starts(twMagic) { return .tw }
        if starts(pngMagic) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if b.count >= 9, b[8] == UInt8(ascii: "{") {
            // u64 LE header length that fits the file
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(b[i]) << (8 * UInt64(i)) }
            if n <= UInt64((fileSize ?? b.count) - 8) { return .safetensors }
        }
        if starts([0x80]), b.count >= 2, b[1] <= 5 { return .barePickle }
        if looksLikeONNX(b) { return .onnx }
        return nil
    }

    /// `recognise` over an array of leading bytes.
    public static func recognise(_ head: [UInt8], fileSize: Int? = nil) -> FileFormat? {
        head.withUnsafeBytes { recognise($0, fileSize: fileSize) }
    }

    /// The format of the file at `path`; nil when it cannot be opened or no format matches (the reader that
    /// follows reports why).
    public static func recognise(path: String) -> FileFormat? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        var head = [UInt8](repeating: 0, count: headLength)
        var filled = 0
        while filled < headLength {
            let n = head.withUnsafeMutableBytes { SystemCall.read(fd, $0.baseAddress! + filled, headLength - filled) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        return recognise(Array(head.prefix(filled)), fileSize: Int(st.st_size))
    }

    /// Like `recognise`, but an unrecognised file is an `.unrecognizedContainer` error that shows the first bytes
    /// and names a likely cause (gzip, 7z, a zip without a local header first).
    public static func require(_ head: UnsafeRawBufferPointer, fileSize: Int? = nil) throws -> FileFormat {
        if let format = recognise(head, fileSize: fileSize) { return format }
        let b = head
        func starts(_ prefix: [UInt8]) -> Bool { b.starts(with: prefix) }
        let first = b.prefix(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        var hint = ""
        if starts([0x1F, 0x8B]) { hint = " (gzip-compressed: decompress it first)" }
        if starts([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { hint = " (a 7z archive)" }
        if starts(Array("PK".utf8)) { hint = " (a zip that does not start with a local header)" }
        throw TResNetError(
            .unrecognizedContainer, at: .offset(0),
            b.isEmpty ? "empty file" : "unrecognised container (first bytes \(first))\(hint)")
    }

    /// Whether `prefix` looks like a serialized ONNX `ModelProto`. ONNX has no magic number; every exporter writes
    /// `ir_version` (field 1, a varint between 1 and 64) first, followed by another ModelProto field with its
    /// proper wire type. The other formats' magics (zip `PK`, pickle `\x80`, safetensors' little-endian length,
    /// NumPy `\x93NUMPY`, `.tw` `\x89TWF`) never start with byte 0x08 followed by this.
    public static func looksLikeONNX(_ prefix: UnsafeRawBufferPointer) -> Bool {
        guard prefix.count >= 3, prefix[0] == 0x08, prefix[1] >= 1, prefix[1] <= 64 else { return false }
        let tag = prefix[2]
        let field = tag >> 3, wire = tag & 7
        switch field {
        case 2, 3, 4, 6, 7, 8, 14, 20, 25, 26: return wire == 2  // strings and messages
        case 5: return wire == 0  // model_version
        default: return false
        }
    }

    /// What the format is, in words, for messages.
    public var description: String {
        switch self {
        case .zip: "zip archive (PyTorch checkpoint or .npz)"
        case .pytorchLegacy: "PyTorch legacy checkpoint"
        case .legacyTar: "torch ≤ 0.1 tar checkpoint"
        case .safetensors: "safetensors file"
        case .barePickle: "bare pickle"
        case .numpy: "NumPy .npy array"
        case .onnx: "ONNX model"
        case .tw: ".tw file"
        case .jpeg: "JPEG image"
        case .png: "PNG image"
        }
    }
}
