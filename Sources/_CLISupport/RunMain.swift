#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a CLI command body: a `TResNetError` becomes one line on stderr, `TOOL: <error.description>`, and the
/// process exits with the error code's exit code (docs/ERRORS.md). Other errors pass through to ArgumentParser.
public func runMain(_ tool: String, _ body: () throws -> Void) throws {
    // OpenBLAS's workers spin from load time on; most tools never call it (the direct kernels do not).
    BLASThreads.stopIdleThreads()
    do {
        try body()
    } catch let error as TResNetError {
        printError("\(tool): \(error.description)")
        throw ExitCode(error.code.exitCode)
    }
}

/// Writes `text` to standard error.
public func printError(_ text: String) {
    let line = text.replacingNewlines() + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

extension String {
    /// The text on one line: newlines and carriage returns become spaces.
    func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
