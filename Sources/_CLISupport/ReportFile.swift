import Foundation
import TResNetCore

/// `--report PATH`: a JSON report written to a file. The path is checked before the work starts (its folder
/// exists and is writable, it is not a folder, it does not exist unless `--force`), and the file is written
/// atomically when the work is done, so a long run never ends in "cannot write the report", and a failed run
/// leaves nothing partial there.
public struct ReportFile: Sendable {
    public let path: String
    public let overwrite: Bool

    /// Checks `path` now; throws `.io` or `.outputExists`.
    public init(checking path: String, overwrite: Bool) throws {
        self.path = path
        self.overwrite = overwrite
        var info = stat()
        if stat(path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw TResNetError.io(path, "is a folder, not a report file") }
            if !overwrite {
                throw TResNetError(.outputExists, "exists (use --force to replace it)", file: path)
            }
        }
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        guard stat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw TResNetError.io(path, "cannot write the report: no folder \(displaySafe(folder))")
        }
        guard access(folder, W_OK) == 0 else {
            throw TResNetError.io(path, "cannot write the report: folder \(displaySafe(folder)) is not writable")
        }
    }

    /// Writes `value` as JSON (the tools' style) atomically.
    public func write<T: Encodable>(_ value: T) throws {
        try writeFileAtomically(path, try CLIJSON.bytes(value), overwrite: overwrite)
    }
}
