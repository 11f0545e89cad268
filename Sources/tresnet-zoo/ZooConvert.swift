import _CLISupport
import TResNetZoo

/// `fetch --convert`: the downloaded file converted to `.tw` beside it (`TResNetKit.ZooConversion`), with the
/// catalog's architecture, classes, key spelling, wrapper, label set and preprocessing.
enum ZooConvert {
    /// Converts and returns the summary (its `output` is the `.tw` path), printing it unless `quiet`.
    static func convert(
        entry: ZooEntry, file: ZooFile, path: String, semanticTree: String? = nil,
        revision: String, quiet: Bool
    ) throws -> ConversionSummary {
        let summary = try ZooConversion.convert(
            entry: entry, file: file, path: path, semanticTree: semanticTree,
            revision: revision)
        if !quiet {
            print("converted to .tw" + (semanticTree == nil ? "" : " (semantic tree embedded)"))
            for line in summary.lines { print("  " + line) }
        }
        return summary
    }
}
