import TResNetCore
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
        if TResNetConfiguration.variant(entry.architecture) != nil { o.variant = entry.architecture }
        o.numClasses = entry.numClasses
        o.dialect = file.naming
        o.key = file.wrapper
        o.labelSet = entry.labelSet
        o.preprocessing = ModelPreprocessing(zoo: entry.preprocessing, inputSize: entry.inputSize)
        o.overwrite = true
        return o
    }

    /// Where the `.tw` goes: beside the download, its extension replaced (`…/model.safetensors` → `…/model.tw`).
    public static func outputPath(forDownload path: String) -> String {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[slash...].lastIndex(of: "."), dot > slash { return String(path[..<dot]) + ".tw" }
        return path + ".tw"
    }

    /// Converts the downloaded `path` (a file of `entry`) to `.tw` beside it, replacing an earlier conversion;
    /// `semanticTree` (the entry's downloaded tree file) is read, checked against the head and embedded.
    public static func convert(entry: ZooEntry, file: ZooFile, path: String, semanticTree: String? = nil) throws
        -> ConversionSummary
    {
        var o = options(entry: entry, file: file)
        if let semanticTree { o.semanticTree = try SemanticTreeFile.read(path: semanticTree, numClasses: entry.numClasses) }
        return try Conversion.convert(source: path, output: outputPath(forDownload: path), options: o)
    }
}
