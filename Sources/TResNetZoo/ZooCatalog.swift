import Foundation
import TResNetCore
import TResNetModel

/// One downloadable file of a zoo entry.
public struct ZooFile: Codable, Sendable, Hashable {
    /// Where the file stands: `live` (the timm HF copies), `dead` (MIIL bucket, HTTP 403), `unverified`.
    public enum Status: String, Codable, Sendable { case live, dead, unverified }

    public var name: String
    public var url: String
    /// `safetensors` or `pytorch-zip`.
    public var format: String
    /// Key spelling: `timm` (current, BatchNorm) or `miil` (official / old timm, InPlaceABN — needs the remap).
    public var naming: String
    /// Top-level wrapper key of the original checkpoints (`model`, `state_dict`), nil when bare.
    public var wrapper: String?
    public var status: Status
    public var statusSource: String?
    /// Full sha256, only where a public page states it (`sha256Source`); nil = unknown.
    public var sha256: String?
    public var sha256Source: String?
    /// Why `sha256` is nil for a hub file whose LFS pointer would publish one: what was searched, and when.
    public var sha256Note: String?
    /// The 8-hex sha256 prefix carried in a torch.hub-style file name (weak: 32 bits), with its source.
    public var sha256Prefix: String?
    public var sha256PrefixSource: String?
    /// Exact size in bytes where a source states it; nil = unknown.
    public var size: Int?
    /// Rounded size as a web page shows it (`"126 MB"`), for orientation only.
    public var approxSize: String?
    public var approxSizeSource: String?

    public init(
        name: String, url: String, format: String = "safetensors", naming: String = "timm",
        wrapper: String? = nil, status: Status = .live, statusSource: String? = nil,
        sha256: String? = nil, sha256Source: String? = nil, sha256Prefix: String? = nil,
        sha256PrefixSource: String? = nil, size: Int? = nil, approxSize: String? = nil,
        approxSizeSource: String? = nil
    ) {
        self.name = name
        self.url = url
        self.format = format
        self.naming = naming
        self.wrapper = wrapper
        self.status = status
        self.statusSource = statusSource
        self.sha256 = sha256
        self.sha256Source = sha256Source
        self.sha256Prefix = sha256Prefix
        self.sha256PrefixSource = sha256PrefixSource
        self.size = size
        self.approxSize = approxSize
        self.approxSizeSource = approxSizeSource
    }
}

/// How an image is resized before the network sees it.
public struct ResizePolicy: Codable, Sendable, Hashable {
    /// `shorter-side-then-center-crop` (timm cfg, official 224) or `squash` (official 448 and 21K pipelines).
    public var kind: String
    /// Shorter side target for `shorter-side-then-center-crop`.
    public var resizeShorter: Int?
    /// `[h, w]` for `squash`.
    public var resize: [Int]?
    /// `[h, w]` center crop, nil for `squash`.
    public var crop: [Int]?
    public var description: String
}

/// The catalog's record of a weight's preprocessing: timm's settings under timm's keys (`crop_pct`, `crop_mode`,
/// `interpolation`, `mean`, `std`; the entry holds `input_size`), typed as `PreprocessingConfig` types, and two
/// published facts beside them: `resize` in words, and `officialResize`, what the authors' own scripts did (it
/// differs from timm's cfg for the 448 and 21K weights; docs/IMAGES.md). `ZooEntry.preprocessingConfig` is the
/// settings as the one preprocessing type.
public struct ZooPreprocessing: Codable, Sendable, Hashable {
    public var mean: [Double]
    public var std: [Double]
    /// Always `rgb/255`.
    public var scale: String
    public var cropPct: Double
    public var cropMode: PreprocessingConfig.CropMode
    public var interpolation: Interpolation
    public var resize: ResizePolicy
    public var officialResize: ResizePolicy
}

/// One published TResNet weight: a timm tag (`tresnet_m.miil_in21k_ft_in1k`) or an original MIIL checkpoint
/// (`miil/tresnet_m`). Every fact carries its source in `sources`.
public struct ZooEntry: Codable, Sendable, Hashable, Identifiable {
    public var tag: String
    /// `timm` or `Alibaba-MIIL`.
    public var publisher: String
    /// timm architecture name: `tresnet_m`, `tresnet_l`, `tresnet_xl`, `tresnet_v2_l`.
    public var architecture: String
    /// The dataset of the head: `imagenet-1k` or `imagenet-21k-p`.
    public var dataset: String
    /// The pretraining dataset of a fine-tuned weight (`imagenet-21k-p`), nil otherwise.
    public var pretrainDataset: String?
    public var numClasses: Int
    /// Label set id (`LabelNames.named(_:)`): `imagenet-1k` or `imagenet-21k-miil`.
    public var labelSet: String
    /// Square input side the weight was evaluated at (224 or 448).
    public var inputSize: Int
    /// Hugging Face repository (`timm/<tag>`), nil for MIIL originals.
    public var hubId: String?
    public var preprocessing: ZooPreprocessing
    /// timm's own evaluation (results-imagenet.csv) with the timm cfg preprocessing.
    public var top1: Double?
    public var top5: Double?
    /// The number the authors published.
    public var reportedTop1: Double?
    public var reportedNote: String?
    /// ImageNet-21K-P semantic top-1 (21K heads).
    public var semanticTop1: Double?
    /// For MIIL originals: the timm tag converted from them.
    public var sameWeightsAs: String?
    /// Other names that resolve to this entry: timm deprecated names, bare architecture names (the timm
    /// default tag), original file names.
    public var aliases: [String]
    public var files: [ZooFile]
    /// Other files published beside the weights, fetched and pinned like them: for the ImageNet-21K-P heads,
    /// MIIL's semantic tree (`naming` = `semantic-tree`; docs/SEMANTIC.md). Absent in older catalogs.
    public var resources: [ZooFile]?
    /// Fact name → public source.
    public var sources: [String: String?]
    /// Multi-label weights (docs/MULTILABEL.md): the head, `ml_decoder` or `fc` (nil: a single-label fc head).
    public var head: String?
    /// An ML-Decoder head's queries (G).
    public var groups: Int?
    /// The authors' inference threshold on the sigmoid scores; set exactly for the multi-label weights.
    public var threshold: Double?
    /// The mAP (percent) the authors published.
    public var reportedMap: Double?

    public var id: String { tag }

    /// Sigmoid scores per class (ML-Decoder and ASL weights) rather than a softmax over classes.
    public var isMultiLabel: Bool { threshold != nil }

    /// The model configuration (variant body + this entry's head: an fc of `numClasses`, or the published
    /// ML-Decoder shape with `groups` queries).
    public var configuration: TResNetConfiguration? {
        guard var c = TResNetConfiguration.variant(architecture, numClasses: numClasses) else { return nil }
        if head == "ml_decoder", let groups, groups > 0 {
            // the width and feed-forward size of every published head (Alibaba-MIIL/ML_Decoder's defaults; the
            // conversion reads the actual head off the tensors), and ML-Decoder's own rule for the logits per
            // group: int(classes / groups + 0.999)
            c.mlDecoder = MLDecoderConfiguration(
                groups: groups, embedDim: 768, feedForwardDim: 2048,
                duplicateFactor: Int(Double(numClasses) / Double(groups) + 0.999))
        }
        return c
    }

    /// timm's settings for this weight as the one preprocessing type.
    public var preprocessingConfig: PreprocessingConfig {
        let p = preprocessing
        return PreprocessingConfig(
            inputSize: inputSize, cropPct: p.cropPct, cropMode: p.cropMode, interpolation: p.interpolation,
            mean: p.mean, std: p.std)
    }

    /// Parameters and multiply-accumulates at `inputSize`, computed from the layer tree.
    public var cost: (parameters: Int, macs: Int)? {
        guard let c = configuration else { return nil }
        return ArchitectureCost.of(c, height: inputSize, width: inputSize)
    }

    /// The file `fetch` downloads by default: the first live one (safetensors before pytorch_model.bin), else the
    /// first unverified one (a link no one has checked yet: tried, its digest pinned on the first fetch); never a
    /// dead one.
    public var defaultFile: ZooFile? {
        files.first { $0.status == .live } ?? files.first { $0.status == .unverified }
    }

    /// The file (weights or resource) named `name`.
    public func file(named name: String) -> ZooFile? {
        files.first { $0.name == name } ?? resources?.first { $0.name == name }
    }

    /// The semantic tree published for this head, if any.
    public var semanticTreeFile: ZooFile? { resources?.first { $0.naming == "semantic-tree" } }

    /// The file to download: `name` when given, else the first live one. Throws `.usage` for an unknown name
    /// and `.network` when the entry has no live download (naming the timm tag with the same weights).
    public func downloadFile(named name: String? = nil) throws -> ZooFile {
        if let name {
            guard let f = file(named: name) else {
                throw TResNetError(
                    .usage, format: "zoo",
                    "\(tag) has no file '\(displaySafe(name))' "
                        + "(files: \((files + (resources ?? [])).map(\.name).joined(separator: ", ")))")
            }
            return f
        }
        guard let f = defaultFile else {
            throw TResNetError(
                .network, format: "zoo",
                "\(tag) has no live download"
                    + (sameWeightsAs.map { "; the same weights are published as \($0)" } ?? ""))
        }
        return f
    }
}

/// The catalog of every published TResNet weight (Zoo/catalog.json, embedded at build time).
public struct ZooCatalog: Codable, Sendable {
    public var schema: Int
    public var generatedBy: String
    public var timmVersion: String
    /// Label set id → class count.
    public var labelSets: [String: Int]
    public var entries: [ZooEntry]

    /// The built-in catalog.
    public static let shared: ZooCatalog = {
        do {
            return try ZooCatalog.decode(Data(CatalogData.catalogJSON.utf8))
        } catch {
            // The embedded JSON is checked by the tests; an empty catalog is the non-trapping fallback.
            return ZooCatalog(
                schema: 0, generatedBy: "unavailable: \(error)", timmVersion: "", labelSets: [:], entries: [])
        }
    }()

    public init(
        schema: Int, generatedBy: String, timmVersion: String, labelSets: [String: Int], entries: [ZooEntry]
    ) {
        self.schema = schema
        self.generatedBy = generatedBy
        self.timmVersion = timmVersion
        self.labelSets = labelSets
        self.entries = entries
    }

    /// Reads a catalog JSON file (the schema of Zoo/catalog.json), e.g. a private mirror's catalog.
    public static func load(path: String) throws -> ZooCatalog {
        let store = try ByteStore.map(path: path)
        return try TResNetError.naming(path) { try decode(Data(store.bytes)) }
    }

    /// Decodes catalog JSON (snake_case keys).
    public static func decode(_ data: Data) throws -> ZooCatalog {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(ZooCatalog.self, from: data)
        } catch {
            throw TResNetError(.malformed, format: "zoo catalog", "cannot decode the catalog: \(error)")
        }
    }

    /// The entry whose tag or alias is `name`. Also accepts `timm/<tag>` (the HF repository id) and is
    /// case-insensitive when the exact spelling does not match.
    public func entry(named name: String) -> ZooEntry? {
        var key = name
        if key.hasPrefix("timm/") { key.removeFirst(5) }
        if let e = entries.first(where: { $0.tag == key }) { return e }
        if let e = entries.first(where: { $0.aliases.contains(key) }) { return e }
        let lower = key.lowercased()
        return entries.first { $0.tag.lowercased() == lower || $0.aliases.contains { $0.lowercased() == lower } }
    }

    /// Like `entry(named:)`, throwing a `.usage` error that lists near names when nothing matches.
    public func require(_ name: String) throws -> ZooEntry {
        if let e = entry(named: name) { return e }
        let near = entries.map(\.tag).filter { tag in
            tag.contains(name) || name.contains(tag.split(separator: ".").first.map(String.init) ?? "\u{0}")
        }
        let hint = near.isEmpty ? "run `tresnet-zoo list`" : "did you mean: " + near.prefix(5).joined(separator: ", ")
        throw TResNetError(.usage, format: "zoo", "no zoo entry named '\(displaySafe(name))' (\(hint))")
    }

    /// Entries filtered by architecture (`tresnet_m`, also `m`) and dataset (matches the head's dataset or the
    /// pretraining dataset; `in1k`/`in21k` shorthands accepted).
    public func entries(architecture: String? = nil, dataset: String? = nil) -> [ZooEntry] {
        entries.filter { e in
            if let a = architecture?.lowercased(), e.architecture != a, e.architecture != "tresnet_" + a {
                return false
            }
            if let d = dataset.map(Self.normalizedDataset) {
                return e.dataset == d || e.pretrainDataset == d
            }
            return true
        }
    }

    static func normalizedDataset(_ d: String) -> String {
        switch d.lowercased() {
        case "in1k", "imagenet1k", "imagenet-1k", "1k": return "imagenet-1k"
        case "in21k", "imagenet21k", "imagenet-21k", "imagenet-21k-p", "21k", "in21k-p": return "imagenet-21k-p"
        case "coco", "ms-coco", "mscoco": return "ms-coco-2014"
        case "openimages", "open-images", "oi": return "openimages-v6"
        default: return d.lowercased()
        }
    }
}
