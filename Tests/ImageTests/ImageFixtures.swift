import Foundation
import TestSupport
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

    let pillow: String
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

/// A minimal reader for the generator's `.npy` references: version 1/2/3 headers, dtype `|u1`, C order.
enum NPYUInt8 {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String) throws -> (shape: [Int], values: [UInt8]) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count >= 10, bytes[0] == 0x93, bytes[1...5].elementsEqual("NUMPY".utf8) else {
            throw Failure(description: "\(path): not an .npy file")
        }
        let headerLength: Int, start: Int
        if bytes[6] == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        } else {
            guard bytes.count >= 12 else { throw Failure(description: "\(path): short header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        }
        guard start + headerLength <= bytes.count,
              let header = String(bytes: bytes[start..<(start + headerLength)], encoding: .ascii) else {
            throw Failure(description: "\(path): bad header")
        }
        guard header.contains("'descr': '|u1'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")")
        else { throw Failure(description: "\(path): expected a C-order uint8 array, header \(header)") }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let values = Array(bytes[(start + headerLength)...])
        guard values.count == shape.reduce(1, *) else { throw Failure(description: "\(path): size mismatch") }
        return (shape, values)
    }
}
