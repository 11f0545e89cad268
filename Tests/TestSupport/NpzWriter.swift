import Foundation
import TResNetKit
import TResNetCheckpoint
import TResNetCore

/// A minimal `.npz` writer for tests: a stored (uncompressed) zip of `.npy` members, each the bytes
/// `NpyArray.write` produces (byte-identical to `numpy.save`), with real CRC-32s. What `numpy.savez` writes,
/// minus its timestamps and zip64 extras.
public enum NpzWriter {
    public static func write(_ arrays: [(name: String, tensor: Tensor)], to path: String) throws {
        let scratch = FixturePaths.temporaryDirectory("npz")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var out: [UInt8] = []
        var central: [UInt8] = []
        for (i, (name, tensor)) in arrays.enumerated() {
            let npyPath = scratch + "/\(i).npy"
            try NpyArray.write(tensor, to: npyPath)
            let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: npyPath)))
            let member = Array((name + ".npy").utf8)
            let crc = crc32(data)
            let offset = UInt32(out.count)
            out +=
                le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc)
                + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(UInt16(member.count)) + le16(0)
            out += member + data
            central +=
                le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc)
                + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(UInt16(member.count)) + le16(0) + le16(0)
                + le16(0) + le16(0) + le32(0) + le32(offset)
            central += member
        }
        let centralOffset = UInt32(out.count)
        out += central
        out +=
            le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(arrays.count)) + le16(UInt16(arrays.count))
            + le32(UInt32(central.count)) + le32(centralOffset) + le16(0)
        try Data(out).write(to: URL(fileURLWithPath: path))
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    /// CRC-32 (IEEE 802.3, reflected, as zip uses).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var table = [UInt32](repeating: 0, count: 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            table[i] = c
        }
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
