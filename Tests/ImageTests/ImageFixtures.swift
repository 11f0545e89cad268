import Foundation
import TestSupport
import TResNetCheckpoint
import TResNetCore

/// The generator's `.npy` references (uint8 `[3, H, W]`) through main's `NpyArray` reader.
enum NPYUInt8 {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String) throws -> (shape: [Int], values: [UInt8]) {
        let tensor = try NpyArray.read(path: path)
        guard tensor.dtype == .uint8 else { throw Failure(description: "\(path): \(tensor.dtype), expected uint8") }
        return (tensor.shape, tensor.data.toArray())
    }
}
