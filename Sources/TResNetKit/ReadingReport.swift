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
            out.append(
                (
                    "container",
                    container
                        + (key.map { "; state dict under '\(displaySafe($0))'" } ?? "")
                        + (otherCandidates.isEmpty
                            ? ""
                            : " (other candidates: "
                                + otherCandidates.prefix(8).map { "'\(displaySafe($0))'" }.joined(separator: ", ") + ")")
                ))
        }
        out.append(
            (
                "prefix",
                prefix.map { "'\(displaySafe($0))' \(prefixForced ? "forced (--prefix)" : "detected") and stripped" }
                    ?? "none"
            ))
        if !opaqueClasses.isEmpty {
            out.append(
                (
                    "opaque",
                    "\(opaqueClasses.count) class\(opaqueClasses.count == 1 ? "" : "es") kept inert, never constructed: "
                        + opaqueClasses.prefix(12).map { displaySafe($0) }.joined(separator: ", ")
                        + (opaqueClasses.count > 12 ? ", …" : "")
                ))
        }
        if labelNames > 0 { out.append(("labels", "\(labelNames) class names from config.json")) }
        return out
    }

    /// Summary lines aligned with the conversion summary's.
    public var lines: [String] {
        rows.map { $0.label + ":" + String(repeating: " ", count: max(1, 13 - $0.label.count)) + $0.text }
    }
}
