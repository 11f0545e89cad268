import Foundation
import TResNetKit

/// Locates the committed fixtures (Fixtures/ at the package root) from the test sources, so tests run from any
/// working directory.
public enum FixturePaths {
    /// The package root.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)  // …/Tests/TestSupport/Fixtures.swift
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Fixtures/<relative>`.
    public static func path(_ relative: String) -> String { root + "/Fixtures/" + relative }

    /// `Fixtures/tiny/<name>`.
    public static func tiny(_ name: String) -> String { path("tiny/" + name) }

    /// Full-size generated fixtures (`make fixtures-full`), nil when absent (they are never committed).
    public static func full(_ name: String) -> String? {
        let p = path("full/" + name)
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// A fresh empty temporary folder.
    public static func temporaryDirectory(_ tag: String = "t") -> String {
        let dir = NSTemporaryDirectory() + "tresnet-kit-tests-\(tag)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// The fixture manifest written by Fixtures/generate.py: per file its sha256 and, per tensor, name, dtype,
/// shape and sampled values exactly as PyTorch wrote them.
public struct FixtureManifest: Decodable, Sendable {
    public struct TensorRecord: Decodable, Sendable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        /// `[flat index, value]` pairs.
        public let samples: [[Double]]
    }

    public struct Architecture: Decodable, Sendable {
        public let layout: String
        public let layers: [Int]
        public let planes: Int
        public let num_classes: Int
    }

    public struct FileRecord: Decodable, Sendable {
        public let sha256: String
        public let bytes: Int
        public let container: String
        public let wrapper: String?
        public let prefix: String?
        public let dialect: String?
        public let arch: Architecture?
        public let reference: String?
        public let tensors: [TensorRecord]?
        public let non_tensor_entries: [String]?
        public let hostile: Bool?
        public let marker: String?
        /// For MIIL fixtures: timm's checkpoint_filter_fn output (BN weights) as `[index, value]` samples.
        public let expected_timm: [String: [[Double]]]?
    }

    public let torch: String
    public let timm: String
    public let files: [String: FileRecord]

    public static func load() throws -> FixtureManifest {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny("manifest.json")))
        return try JSONDecoder().decode(FixtureManifest.self, from: data)
    }
}
