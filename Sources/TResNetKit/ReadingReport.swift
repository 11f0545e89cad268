import TResNetCheckpoint
import TResNetCore

/// How the weights were found in a file, for the inspect and convert summaries: the kind of container, the
/// entry taken and the other candidates, the prefix (detected or forced), the opaque classes the pickle holds
/// (never constructed) and, for a hub folder, what its config supplied.
public struct ReadingReport: Sendable, Codable {
    public var container: String
    public var key: String?
    public var otherCandidates: [String]
    public var prefix: String?
    public var prefixForced: Bool
    public var opaqueClasses: [String]
    public var labelNames: Int

    public init(_ c: LoadedCheckpoint, hub: HubFolder? = nil) {
        container = c.containerKind
        key = c.wrapper
        otherCandidates = c.otherCandidates
        prefix = c.strippedPrefix
        prefixForced = c.prefixForced
        opaqueClasses = c.opaqueClasses
        labelNames = hub?.labelNames.count ?? 0
    }

    /// The rows of the summary as (label, text), for the convert and inspect reports.
    public var rows: [(label: String, text: String)] {
        var out: [(String, String)] = []
        if !container.isEmpty {
            let under = key.map { "; state dict under '\(displaySafe($0))'" } ?? ""
            let others = otherCandidates.prefix(8).map { "'\(displaySafe($0))'" }.joined(separator: ", ")
            out.append(
                ("container", container + under + (otherCandidates.isEmpty ? "" : " (other candidates: \(others))")))
        }
        let how = prefixForced ? "forced (--prefix)" : "detected"
        out.append(("prefix", prefix.map { "'\(displaySafe($0))' \(how) and stripped" } ?? "none"))
        if !opaqueClasses.isEmpty {
            let n = opaqueClasses.count
            let names = opaqueClasses.prefix(12).map { displaySafe($0) }.joined(separator: ", ") + (n > 12 ? ", …" : "")
            out.append(("opaque", "\(n) class\(n == 1 ? "" : "es") kept inert, never constructed: " + names))
        }
        if labelNames > 0 { out.append(("labels", "\(labelNames) class names from config.json")) }
        return out
    }

    /// Summary lines aligned with the conversion summary's.
    public var lines: [String] {
        rows.map { $0.label + ":" + String(repeating: " ", count: max(1, 13 - $0.label.count)) + $0.text }
    }
}
