#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a CLI command body: a `TResNetError` becomes one line on stderr, `TOOL: <error.description>`, and the
/// process exits with the error code's exit code (docs/ERRORS.md). Other errors pass through to ArgumentParser.
public func runMain(_ tool: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as TResNetError {
        let line = "\(tool): \(error.description)\n"
        fputs(line, stderr)
        throw ExitCode(error.code.exitCode)
    }
}

/// Writes `text` to standard error.
public func printError(_ text: String) {
    fputs(text + "\n", stderr)
}
