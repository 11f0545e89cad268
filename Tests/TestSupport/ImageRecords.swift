import Foundation

// The generator's records of the image fixtures, shared by the image and CLI tests.

/// Fixtures/tiny/images/images.json, written by Fixtures/gen_images.py.
public struct ImageManifest: Decodable {
    public struct Policy: Decodable {
        public let img_size: Int
        public let crop_pct: Double
        public let crop_mode: String
        public let interpolation: String
        public let timm_call: String
    }

    public struct TinyResult: Decodable {
        public let logits: [Double]
        public let top5: [Int]
        public let softmax_top5: [Double]
        public let min_gap_top6: Double
    }

    public struct Image: Decodable {
        public let file: String
        public let description: String
        public let format: String
        public let mode: String
        public let stored_size: [Int]
        public let orientation: Int
        public let width: Int
        public let height: Int
        public let rgb_sha256: String
        public let references: [String: String]
        public let tiny_v1: TinyResult
    }

    public struct Broken: Decodable {
        public let file: String
        public let pil_error: String
    }

    public struct DecodeOnly: Decodable {
        public let file: String
        public let description: String
        public let width: Int
        public let height: Int
        public let rgb_sha256: String
    }

    public let pillow: String
    /// The fixture model the references were computed with (`tiny_v1.pth`).
    public let model: String
    /// Small PNG corner cases checked by their decoded pixels only.
    public let decode_only: [DecodeOnly]
    public let policies: [String: Policy]
    public let model_policy: String
    public let images: [Image]
    public let broken: [Broken]
    /// `[w, h, W, H, interpolation, sha256 of PIL's resize of the test card]`.
    public let resample_cases: [[ResampleCaseField]]

    public enum ResampleCaseField: Decodable {
        case int(Int)
        case text(String)

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .text(try c.decode(String.self)) }
        }

        public var int: Int? { if case .int(let i) = self { return i } else { return nil } }
        public var text: String? { if case .text(let t) = self { return t } else { return nil } }
    }

    public static let folder = FixturePaths.tiny("images")

    public static func load() throws -> ImageManifest {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/images.json"))
        return try JSONDecoder().decode(ImageManifest.self, from: data)
    }
}

/// The tiny model's PyTorch validation run on Fixtures/tiny/imagefolder (imagefolder.expected.json).
public struct FolderExpectation: Decodable {
    public struct Unreadable: Decodable {
        public let path: String
        public let error: String
    }

    public struct PerImage: Decodable {
        public let path: String
        public let target: Int
        public let predicted: [Int]
        public let logits: [Double]
    }

    public let classes: [String]
    public let policy: String
    public let model: String
    public let images: Int
    public let unreadable: [Unreadable]
    public let top1_correct: Int
    public let top5_correct: Int
    public let top1: Double
    public let top5: Double
    public let per_image: [PerImage]

    public static func load() throws -> FolderExpectation {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("imagefolder.expected.json")))
        return try JSONDecoder().decode(FolderExpectation.self, from: data)
    }
}
