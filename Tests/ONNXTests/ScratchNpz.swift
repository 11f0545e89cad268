import Foundation
import TResNetCore

/// A scratch reader for the committed `*.reference.npz` files (np.savez: stored zip members holding v1 `.npy`
/// little-endian f4 arrays), used only until the project's own npz reader lands on main. It trusts the fixture
/// (these are our own generated files) but still checks every length it reads.
enum ScratchNpz {
    struct Bad: Error, CustomStringConvertible { let description: String }

    static func read(_ path: String) throws -> [String: Tensor] {
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        func u16(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        var out: [String: Tensor] = [:]
        var o = 0
        while o + 30 <= data.count, u32(o) == 0x0403_4b50 {
            guard u16(o + 8) == 0 else { throw Bad(description: "\(path): compressed member") }
            var size = u32(o + 18)
            let nameLength = u16(o + 26), extraLength = u16(o + 28)
            if size == 0xFFFF_FFFF {  // numpy writes zip64 local headers: sizes in the 0x0001 extra field
                let e = o + 30 + nameLength
                guard extraLength >= 20, e + 20 <= data.count, u16(e) == 1 else { throw Bad(description: "\(path): zip64") }
                size = u32(e + 12) | u32(e + 16) << 32
            }
            let start = o + 30 + nameLength + extraLength
            guard start + size <= data.count else { throw Bad(description: "\(path): truncated member") }
            var name = String(decoding: data[(o + 30)..<(o + 30 + nameLength)], as: UTF8.self)
            if name.hasSuffix(".npy") { name.removeLast(4) }
            out[name] = try npy(Array(data[start..<(start + size)]), name: name)
            o = start + size
        }
        return out
    }

    static func npy(_ b: [UInt8], name: String) throws -> Tensor {
        guard b.count > 10, b[0] == 0x93, b[6] == 1 else { throw Bad(description: "\(name): not a v1 .npy") }
        let headerLength = Int(b[8]) | Int(b[9]) << 8
        guard 10 + headerLength <= b.count else { throw Bad(description: "\(name): short header") }
        let header = String(decoding: b[10..<(10 + headerLength)], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False"),
              let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else {
            throw Bad(description: "\(name): unsupported header \(header)")
        }
        let shape = header[header.index(after: open)..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let body = Array(b[(10 + headerLength)...])
        guard body.count == count * 4 else { throw Bad(description: "\(name): \(body.count) bytes for \(shape)") }
        let store = body.withUnsafeBytes { ByteStore.copying($0) }
        return Tensor(dtype: .float32, shape: shape, data: ByteSlice(store: store))
    }
}
