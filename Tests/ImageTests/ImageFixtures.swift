import Foundation
import TestSupport
import TResNetCheckpoint
import TResNetCore

/// Fixtures/tiny/images/images.json, written by Fixtures/gen_images.py.
struct ImageManifest: Decodable {
    struct Policy: Decodable {
        let img_size: Int
        let crop_pct: Double
        let crop_mode: String
        let interpolation: String
        let timm_call: String
    }

    struct TinyResult: Decodable {
        let logits: [Double]
        let top5: [Int]
        let softmax_top5: [Double]
        let min_gap_top6: Double
    }

    struct Image: Decodable {
        let file: String
        let description: String
        let format: String
        let mode: String
        let stored_size: [Int]
        let orientation: Int
        let width: Int
        let height: Int
        let rgb_sha256: String
        let references: [String: String]
        let tiny_v1: TinyResult
    }

    struct Broken: Decodable {
        let file: String
        let pil_error: String
    }

    struct DecodeOnly: Decodable {
        let file: String
        let description: String
        let width: Int
        let height: Int
        let rgb_sha256: String
    }

    let pillow: String
    /// Small PNG corner cases checked by their decoded pixels only.
    let decode_only: [DecodeOnly]
    let policies: [String: Policy]
    let model_policy: String
    let images: [Image]
    let broken: [Broken]
    /// `[w, h, W, H, interpolation, sha256 of PIL's resize of the test card]`.
    let resample_cases: [[ResampleCaseField]]

    enum ResampleCaseField: Decodable {
        case int(Int)
        case text(String)

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .text(try c.decode(String.self)) }
        }

        var int: Int? { if case .int(let i) = self { return i } else { return nil } }
        var text: String? { if case .text(let t) = self { return t } else { return nil } }
    }

    static let folder = FixturePaths.tiny("images")

    static func load() throws -> ImageManifest {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/images.json"))
        return try JSONDecoder().decode(ImageManifest.self, from: data)
    }
}

/// The tiny model's PyTorch validation run on Fixtures/tiny/imagefolder (imagefolder.expected.json).
struct FolderExpectation: Decodable {
    struct Unreadable: Decodable {
        let path: String
        let error: String
    }

    struct PerImage: Decodable {
        let path: String
        let target: Int
        let predicted: [Int]
        let logits: [Double]
    }

    let classes: [String]
    let policy: String
    let images: Int
    let unreadable: [Unreadable]
    let top1_correct: Int
    let top5_correct: Int
    let top1: Double
    let top5: Double
    let per_image: [PerImage]

    static func load() throws -> FolderExpectation {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("imagefolder.expected.json")))
        return try JSONDecoder().decode(FolderExpectation.self, from: data)
    }
}

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
