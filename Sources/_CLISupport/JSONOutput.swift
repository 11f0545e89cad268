import Foundation
import TResNetCore

/// The one JSON style of every tool (docs/JSON.md): snake_case keys (as timm and Hugging Face write them),
/// units in the key where a value has one (`median_ms`, `images_per_s`, `peak_rss_bytes`), keys sorted, pretty
/// printed, slashes unescaped, non-finite numbers as the strings "inf", "-inf" and "nan".
public enum CLIJSON {
    /// `value` as JSON text plus a newline.
    public static func bytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return Array(try encoder.encode(value)) + [0x0A]
    }
}

/// What a tool prints in `--json` mode when it fails: `{"error": {"code": NAME, "exit_code": N, "message": …}}`,
/// the code names of docs/ERRORS.md.
public struct JSONError: Encodable, Sendable {
    public struct Body: Encodable, Sendable {
        public var code: String
        public var exitCode: Int32
        public var message: String
    }
    public var error: Body

    public init(code: String, exitCode: Int32, message: String) {
        error = Body(code: code, exitCode: exitCode, message: message)
    }

    public init(_ error: TResNetError) {
        self.init(code: error.code.name, exitCode: error.code.exitCode, message: error.description)
    }
}

/// Prints `value` as JSON on standard output (the tools' `--json`).
public func printJSON<T: Encodable>(_ value: T) throws {
    FileHandle.standardOutput.write(Data(try CLIJSON.bytes(value)))
}
