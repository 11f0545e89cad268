import Foundation
import TResNetCheckpoint
import TResNetCore

/// A scratch walker for the committed `*.reference.npz` files (np.savez: stored zip members with zip64 local
/// headers), used only until the project's npz reader (on `ZipArchive`) lands on main; each member is parsed by
/// the project's `NpyArray.read`. It trusts the fixture (our own generated files) but checks every length.
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
            guard o + 30 + nameLength + extraLength <= data.count else { throw Bad(description: "\(path): truncated header") }
            if size == 0xFFFF_FFFF {  // numpy writes zip64 local headers: sizes in the 0x0001 extra field
                let e = o + 30 + nameLength
                guard extraLength >= 20, e + 20 <= data.count, u16(e) == 1 else { throw Bad(description: "\(path): zip64") }
                size = u32(e + 12) | u32(e + 16) << 32
            }
            let start = o + 30 + nameLength + extraLength
            guard start + size <= data.count else { throw Bad(description: "\(path): truncated member") }
            var name = String(decoding: data[(o + 30)..<(o + 30 + nameLength)], as: UTF8.self)
            if name.hasSuffix(".npy") { name.removeLast(4) }
            let member = data[start..<(start + size)].withUnsafeBytes { ByteStore.copying($0) }
            out[name] = try NpyArray.read(ByteSlice(store: member), name: name)
            o = start + size
        }
        return out
    }
}
