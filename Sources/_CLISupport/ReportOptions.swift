/// The output options of every tool that reports (docs/JSON.md): `--json` prints the report as JSON on
/// standard output (and a failure as a JSON error object); `--report PATH` also writes it to a file, checked
/// before the work starts.
public struct ReportOptions: ParsableArguments {
    @Flag(help: "Print the report as JSON on standard output instead of text (docs/JSON.md).")
    public var json = false

    @Option(
        help: ArgumentHelp(
            "Also write the JSON report to PATH (checked before the work starts; an existing "
                + "file needs --force).", valueName: "path"))
    public var report: String?

    public init() {}

    /// Checks `--report` now (before any work), or nil without it.
    public func reportFile(force: Bool) throws -> ReportFile? {
        try report.map { try ReportFile(checking: $0, overwrite: force) }
    }

    /// Writes `value` to `file` (the checked `--report`, if any), then prints it as JSON with `--json`, else
    /// runs `text`.
    public func emit<T: Encodable>(_ value: T, to file: ReportFile?, text: () -> Void) throws {
        try file?.write(value)
        if json { try printJSON(value) } else { text() }
    }
}
