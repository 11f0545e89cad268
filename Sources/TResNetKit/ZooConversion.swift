import TResNetCore
import TResNetFormat
import TResNetModel
import TResNetZoo

/// `tresnet-zoo fetch --convert`: a downloaded zoo file converted to `.tw` with what the catalog knows about it
/// (architecture, classes, key spelling, wrapper key, label set, preprocessing) rather than what can be guessed.
public enum ZooConversion {
    /// The conversion options for `file` of `entry`. A known zoo architecture (`tresnet_m`, …) is forced, with
    /// the entry's class count; an architecture the toolkit has no variant for (a private catalog's entry) is
    /// inferred from the file, still with the entry's class count. Strict binding either way.
    public static func options(entry: ZooEntry, file: ZooFile) -> Conversion.Options {
        var o = Conversion.Options()
        if TResNetConfiguration.variant(entry.architecture) != nil {
            o.variant = entry.architecture
            o.variantSource = "the zoo catalog's architecture for \(entry.tag)"
        }
        o.numClasses = entry.numClasses
        o.dialect = file.naming
        o.key = file.wrapper
        o.labelSet = entry.labelSet
        o.preprocessing = entry.preprocessingConfig
        if let threshold = entry.threshold { o.multiLabel = MultiLabelCard(threshold: threshold) }
        o.overwrite = true
        return o
    }

    /// Where the `.tw` goes: beside the download, its extension replaced (`…/model.safetensors` → `…/model.tw`).
    public static func outputPath(forDownload path: String) -> String { HubCache.twName(for: path) }

    /// Converts the downloaded `path` (a file of `entry`, fetched at `revision`) to `.tw` beside it, replacing an
    /// earlier conversion; `semanticTree` (the entry's downloaded tree file) is read, checked against the head and
    /// embedded. The `.tw` records the tag, the hub repository and the revision. When the catalog publishes the
    /// file's sha256, the digest of the bytes converted must equal it (else no `.tw` is left).
    public static func convert(
        entry: ZooEntry, file: ZooFile, path: String, semanticTree: String? = nil,
        revision: String = "main"
    ) throws -> ConversionSummary {
        var o = options(entry: entry, file: file)
        o.zoo = ZooOrigin(tag: entry.tag, hubID: HubCache.repository(of: entry), revision: revision)
        if let semanticTree {
            o.semanticTree = try SemanticTreeFile.read(path: semanticTree, numClasses: entry.numClasses)
        }
        let output = outputPath(forDownload: path)
        let summary = try Conversion.convert(source: path, output: output, options: o)
        if let published = file.sha256?.lowercased() {
            let recorded = try ModelFileMetadata(TWFile.open(path: output, verifyChecksums: false)).sourceSHA256
            guard recorded == published else {
                unlink(output)
                throw TResNetError(
                    .checksumMismatch, format: "zoo",
                    "the cached \(file.name) of \(entry.tag) has sha256 "
                        + "\(recorded), the catalog publishes \(published); remove it and fetch again",
                    file: path)
            }
        }
        return summary
    }
}
