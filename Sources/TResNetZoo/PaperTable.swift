import Foundation

/// The authors' published speed/accuracy tables (Zoo/paper_table.json): the TResNet paper's Table 1 and the
/// ImageNet21K model zoo table, V100, mixed precision, 224 px. Cells are numbers, strings or null.
public struct PaperTable: Sendable {
    public struct Table: Sendable {
        public let source: String
        public let columns: [String]
        /// Each cell rendered as text ("-" for a missing value).
        public let rows: [[String]]
    }

    public let note: String
    public let tables: [(name: String, table: Table)]

    /// The built-in table (nil only if the embedded JSON were unreadable, which the tests rule out).
    public static let shared: PaperTable? = {
        guard
            let root = try? JSONSerialization.jsonObject(with: Data(CatalogData.paperTableJSON.utf8))
                as? [String: Any]
        else { return nil }
        var tables: [(String, Table)] = []
        for name in ["tresnet_paper", "imagenet21k_model_zoo"] {
            guard let t = root[name] as? [String: Any], let source = t["source"] as? String,
                let columns = t["columns"] as? [String], let rows = t["rows"] as? [[Any]]
            else { return nil }
            let text = rows.map { row in
                row.map { cell -> String in
                    switch cell {
                    case let s as String: return s
                    case let n as NSNumber: return n.stringValue
                    default: return "-"
                    }
                }
            }
            tables.append((name, Table(source: source, columns: columns, rows: text)))
        }
        return PaperTable(note: root["note"] as? String ?? "", tables: tables)
    }()
}
