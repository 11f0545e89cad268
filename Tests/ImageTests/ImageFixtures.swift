import Foundation
import TestSupport
import TResNetCheckpoint
import TResNetCore

/// The generator's `.npy` references (uint8 `[3, H, W]`) through main's `NpyArray` reader. The image
/// references `images/ref/<name>.npy` are committed as the members `<name>` of one deflated `images/ref.npz`
/// (Fixtures/compress_references.py), read with main's `NpzArchive`.
enum NPYUInt8 {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String) throws -> (shape: [Int], values: [UInt8]) {
        let tensor: Tensor
        if let r = path.range(of: "/ref/", options: .backwards), path.hasSuffix(".npy") {
            let archive = String(path[..<r.lowerBound]) + "/ref.npz"
            let member = String(path[r.upperBound...].dropLast(4))
            guard let t = try NpzArchive.read(path: archive).first(where: { $0.name == member })?.tensor else {
                throw Failure(description: "\(archive): no member \(member)")
            }
            tensor = t
        } else {
            tensor = try NpyArray.read(path: path)
        }
        guard tensor.dtype == .uint8 else { throw Failure(description: "\(path): \(tensor.dtype), expected uint8") }
        return (tensor.shape, tensor.data.toArray())
    }
}
