import Foundation
import TResNetCore
import TResNetKit

/// The version every tool prints for `--version`.
public let toolkitVersion = "tresnet-kit " + ModelFileMetadata.currentConverterVersion

extension ParsableCommand {
    /// The tools' `main`: ArgumentParser's, except that a command line it rejects (an unknown option, a missing
    /// argument, a value `validate()` refuses) is one line on stderr, `TOOL: MESSAGE (see TOOL --help)`, exit 64
    /// (docs/ERRORS.md), and in `--json` mode also a JSON error object with code `usage` on stdout (docs/JSON.md).
    public static func mainReportingJSON() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard !(error is ExitCode), code != .success else { exit(withError: error) }
            var message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            let tool = configuration.commandName ?? "tresnet"
            printError("\(tool): \(message) (see \(tool) --help)")
            if CommandLine.arguments.dropFirst().contains("--json") {
                try? printJSON(JSONError(code: TResNetError.Code.usage.name, exitCode: code.rawValue, message: message))
            }
            Foundation.exit(code.rawValue)
        }
    }
}
