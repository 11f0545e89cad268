import Foundation
import TResNetKit
import TResNetCheckpoint

/// Locates the committed fixtures (Fixtures/ at the package root) from the test sources, so tests run from any
/// working directory.
public enum FixturePaths {
    /// The package root.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)  // …/Tests/TestSupport/Fixtures.swift
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Fixtures/<relative>`. A reference whose input tensor another committed reference holds (listed in
    /// Fixtures/shared_inputs.json, made by Fixtures/compress_references.py to keep the committed bytes under
    /// budget) comes back as a temporary copy with its `input` member restored, so every test and tool sees a
    /// complete reference.
    public static func path(_ relative: String) -> String {
        SharedInputs.keeper[relative] == nil ? root + "/Fixtures/" + relative : SharedInputs.complete(relative)
    }

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

/// References stored without their input (Fixtures/shared_inputs.json: reference → the reference holding it).
enum SharedInputs {
    static let keeper: [String: String] = {
        guard let data = FileManager.default.contents(atPath: FixturePaths.root + "/Fixtures/shared_inputs.json"),
            let table = try? JSONDecoder().decode([String: String].self, from: data)
        else { return [:] }
        return table
    }()

    private static let lock = NSLock()
    nonisolated(unsafe) private static var completed: [String: String] = [:]
    private static let folder = FixturePaths.temporaryDirectory("shared-inputs")

    /// The reference with the keeper's `input` first (as numpy.savez wrote it), written once per process.
    static func complete(_ relative: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let done = completed[relative] { return done }
        let base = FixturePaths.root + "/Fixtures/"
        let out = folder + "/" + relative.replacingOccurrences(of: "/", with: "__")
        do {
            let arrays = try NpzArchive.read(path: base + relative)
            let keeperArrays = try NpzArchive.read(path: base + keeper[relative]!)
            guard let input = keeperArrays.first(where: { $0.name == "input" }) else {
                fatalError("Fixtures/shared_inputs.json: \(keeper[relative]!) has no input member")
            }
            try NpzWriter.write([input] + arrays.filter { $0.name != "input" }, to: out)
        } catch {
            fatalError("cannot complete the shared-input reference \(relative): \(error)")
        }
        completed[relative] = out
        return out
    }
}
