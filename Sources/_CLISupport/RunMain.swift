import Foundation
import TResNetCore
import TResNetRuntime

/// Runs a CLI command body: a `TResNetError` becomes one line on stderr, `TOOL: <error.description>`, and the
/// process exits with the error code's exit code (docs/ERRORS.md). Other errors pass through to ArgumentParser.
/// `keepingNewlines`: print the description as it is, for the tools whose reports list one problem per line
/// (`tresnet-convert`'s binding report). `json`: the tool is in `--json` mode, so standard output also gets the
/// error as a JSON object (`JSONError`, docs/JSON.md).
/// SIGINT and SIGTERM remove the temporary files of unfinished outputs, print one line (`TOOL: interrupted by
/// SIGINT while ACTIVITY…`) and exit 130 or 143 (`Interrupts`).
public func runMain(
    _ tool: String, keepingNewlines: Bool = false, json: Bool = false, _ body: () throws -> Void
) throws {
    Interrupts.install(tool: tool, activity: defaultActivity[tool] ?? "running")
    // OpenBLAS's workers spin from load time on; most tools never call it (the direct kernels do not), and on a
    // 2-core machine the spinning takes a core (from the conversion's SHA-256 thread, for example).
    BLASThreads.stopIdleThreads()
    do {
        try body()
    } catch let error as TResNetError {
        let text = "\(tool): \(error.description)"
        writeStderr((keepingNewlines ? text : text.replacingNewlines()) + "\n")
        if json { try? printJSON(JSONError(error)) }
        throw ExitCode(error.code.exitCode)
    }
}

/// What each tool is doing, for the line an interrupt prints.
let defaultActivity = [
    "tresnet-convert": "converting", "tresnet-zoo": "fetching or converting", "tresnet-validate": "validating",
    "tresnet-predict": "predicting", "tresnet-bench": "benchmarking", "tresnet-inspect": "inspecting",
    "tresnet-verify": "verifying"
]

/// Writes `text` to standard error on one line.
public func printError(_ text: String) {
    writeStderr(text.replacingNewlines() + "\n")
}

/// Writes `text` to standard error as it is.
public func writeStderr(_ text: String) {
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

extension String {
    /// The text on one line: newlines and carriage returns become spaces.
    func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
