import TResNetCheckpoint
import TResNetCore
import TResNetModel

/// A model folder as timm's `push_to_hub` / `save_for_hf` writes it: `config.json` (`architecture`,
/// `num_classes`, `label_names`, `pretrained_cfg` with the preprocessing) beside `model.safetensors` or
/// `pytorch_model.bin`. The weights are read like any checkpoint; the config supplies what the weights cannot
/// say: preprocessing and class names, recorded in the `.tw`.
public struct HubFolder: Sendable {
    public static let weightNames = ["model.safetensors", "pytorch_model.bin"]

    public var folder: String
    public var weightsPath: String
    public var architecture: String
    public var numClasses: Int?
    public var preprocessing: PreprocessingConfig
    public var labelNames: [String]

    /// The folder `path` names when it is one (a directory holding `config.json`, or `config.json` itself).
    public static func folder(for path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        if st.st_mode & S_IFMT == S_IFDIR {
            return access(path + "/config.json", R_OK) == 0 ? path : nil
        }
        if path == "config.json" { return "." }
        if path.hasSuffix("/config.json") { return String(path.dropLast("/config.json".count)) }
        return nil
    }

    public static func open(_ folder: String) throws -> HubFolder {
        let configPath = folder + "/config.json"
        func fail(_ field: String, _ message: String) -> TResNetError {
            TResNetError(.malformed, format: "config.json", at: .field(field), message, file: configPath)
        }
        let store = try TResNetError.naming(configPath) { try ByteStore.map(path: configPath) }
        guard store.count <= 64 << 20 else {
            throw TResNetError(.limitExceeded, format: "config.json", "larger than 64 MiB", file: configPath)
        }
        let json = try TResNetError.naming(configPath) { try JSONParser.parse(store.bytes, format: "config.json") }
        guard json.objectMembers != nil else { throw fail("(root)", "is a \(json.kindName), not an object") }
        guard let architecture = json["architecture"]?.stringValue else {
            throw fail("architecture", "is missing or not a string")
        }
        guard architecture.hasPrefix("tresnet") else {
            throw TResNetError(
                .unsupported, format: "config.json", at: .field("architecture"),
                "architecture '\(displaySafe(architecture))' is not a TResNet", file: configPath)
        }
        guard let weights = weightNames.map({ folder + "/" + $0 }).first(where: { access($0, R_OK) == 0 }) else {
            throw TResNetError(.io, "no \(weightNames.joined(separator: " or ")) beside config.json", file: folder)
        }
        var p = PreprocessingConfig.tresnetDefault
        if let cfg = json["pretrained_cfg"], cfg.objectMembers != nil {
            func doubles(_ k: String) throws -> [Double]? {
                guard let v = cfg[k] else { return nil }
                if case .null = v { return nil }
                guard let a = v.arrayElements, case let d = a.compactMap(\.doubleValue), d.count == a.count else {
                    throw fail("pretrained_cfg.\(k)", "must be an array of numbers")
                }
                return d
            }
            var size = p.timmInputSize
            if let v = try doubles("input_size") {
                guard v.allSatisfy({ $0 == $0.rounded() && $0 >= 1 && $0 <= 1e9 }) else {
                    throw fail("pretrained_cfg.input_size", "must hold integers")
                }
                size = v.map { Int($0) }
            }
            p = try PreprocessingConfig(
                checking: size, cropPct: cfg["crop_pct"]?.doubleValue ?? p.cropPct,
                cropMode: cfg["crop_mode"]?.stringValue ?? p.cropMode.rawValue,
                interpolation: cfg["interpolation"]?.stringValue ?? p.interpolation.rawValue,
                mean: try doubles("mean") ?? p.mean, std: try doubles("std") ?? p.std,
                fail: { fail("pretrained_cfg.\($0)", $1) })
        }
        var labels: [String] = []
        if let names = json["label_names"] ?? json["pretrained_cfg"]?["label_names"] {
            if let a = names.arrayElements {
                labels = try a.enumerated().map { i, v in
                    guard let s = v.stringValue else { throw fail("label_names[\(i)]", "must be a string") }
                    return s
                }
            } else if let m = names.objectMembers {
                // {"0": "name", …} with possible gaps: a dense list, gaps empty.
                var byIndex: [Int: String] = [:]
                for (k, v) in m {
                    guard let i = Int(k), i >= 0, i < 1 << 20, let s = v.stringValue else {
                        throw fail("label_names", "must map class indices to strings")
                    }
                    byIndex[i] = s
                }
                labels = (0..<((byIndex.keys.max() ?? -1) + 1)).map { byIndex[$0] ?? "" }
            }
        }
        let numClasses = json["num_classes"]?.intValue
        if let n = numClasses, !labels.isEmpty, labels.count != n {
            throw fail("label_names", "has \(labels.count) names for \(n) classes")
        }
        return HubFolder(
            folder: folder, weightsPath: weights, architecture: architecture, numClasses: numClasses,
            preprocessing: p, labelNames: labels)
    }
}

extension JSONValue {
    fileprivate var doubleValue: Double? {
        if case .number(let n) = self { return n.double }
        return nil
    }
}
