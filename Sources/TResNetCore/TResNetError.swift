/// The one error type every module throws (swift-nio `FileSystemError` shape): a stable code, a message, and
/// where the problem is — the file, the format, the place inside it (byte offset, zip entry, tensor, graph
/// node) — plus an optional cause.
///
/// `description` is the one readable line the CLIs print: `FILE: FORMAT LOCATION: MESSAGE`, with
/// attacker-controlled text escaped and cut (see `displaySafe`).
public struct TResNetError: Error, Sendable, CustomStringConvertible {
    /// A stable, extensible error code. `exitCode` is what the CLIs exit with (docs/ERRORS.md).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let exitCode: Int32
        public init(_ name: String, exitCode: Int32) {
            self.name = name
            self.exitCode = exitCode
        }
        public var description: String { name }

        // Usage: exit 64 (EX_USAGE, as for a command line ArgumentParser rejects)
        public static let usage = Code("usage", exitCode: 64)
        // I/O: exit 1
        public static let io = Code("io", exitCode: 1)
        public static let outputExists = Code("output-exists", exitCode: 1)
        public static let network = Code("network", exitCode: 1)
        // Bad input: exit 2
        public static let truncated = Code("truncated", exitCode: 2)
        public static let malformed = Code("malformed", exitCode: 2)
        public static let unsupported = Code("unsupported", exitCode: 2)
        public static let unrecognizedContainer = Code("unrecognized-container", exitCode: 2)
        public static let disallowedGlobal = Code("disallowed-global", exitCode: 2)
        public static let limitExceeded = Code("limit-exceeded", exitCode: 2)
        public static let sizeOverflow = Code("size-overflow", exitCode: 2)
        public static let checksumMismatch = Code("checksum-mismatch", exitCode: 2)
        public static let pathEscape = Code("path-escape", exitCode: 2)
        public static let binding = Code("binding", exitCode: 2)
        public static let noStateDict = Code("no-state-dict", exitCode: 2)
        public static let unsupportedGraph = Code("unsupported-graph", exitCode: 2)
        // Parity: exit 3
        public static let parity = Code("parity", exitCode: 3)
    }

    /// Where inside the input the problem is.
    public enum Location: Sendable, CustomStringConvertible {
        case offset(Int)
        case entry(String)
        case tensor(String)
        case node(String)
        case field(String)

        public var description: String {
            switch self {
            case .offset(let o): return "offset \(o)"
            case .entry(let e): return "entry '\(displaySafe(e))'"
            case .tensor(let t): return "tensor '\(displaySafe(t))'"
            case .node(let n): return "node '\(displaySafe(n))'"
            case .field(let f): return "field '\(displaySafe(f))'"
            }
        }
    }

    public var code: Code
    /// The format or layer that found the problem: `pickle`, `zip`, `safetensors`, `tw`, `npy`, `onnx`, …
    public var format: String?
    public var location: Location?
    public var message: String
    /// The file the problem is in; the outermost reader fills it in.
    public var file: String?
    public var cause: String?

    public init(
        _ code: Code, format: String? = nil, at location: Location? = nil, _ message: String,
        file: String? = nil, cause: String? = nil
    ) {
        self.code = code
        self.format = format
        self.location = location
        self.message = message
        self.file = file
        self.cause = cause
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(displaySafe(file)) }
        var place = format ?? ""
        if let location { place += place.isEmpty ? location.description : " \(location)" }
        if !place.isEmpty { parts.append(place) }
        var text = message
        if let cause { text += " (\(cause))" }
        parts.append(text)
        // every piece was escaped where it was quoted; this catches one that was not (newlines stay for reports)
        return escapingControls(parts.joined(separator: ": "))
    }

    /// Returns a copy naming `file`, unless a file is already named.
    public func inFile(_ path: String) -> TResNetError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }

    public static func io(_ path: String, _ message: String) -> TResNetError {
        TResNetError(.io, message, file: path)
    }
}

extension TResNetError {
    /// Runs `body`, attaching `path` to any `TResNetError` it throws.
    public static func naming<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as TResNetError { throw e.inFile(path) }
    }
}

/// Escapes non-printable characters (`\u{1b}` → `\x1b`) and cuts text longer than `limit` characters, so a
/// name taken from a hostile file cannot move the cursor, ring the bell or flood the terminal.
public func displaySafe(_ text: String, limit: Int = 200) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count >= limit {
            out += "…(\(text.unicodeScalars.count - limit) more)"
            break
        }
        appendEscaped(scalar, to: &out)
        count += 1
    }
    return out
}

/// `text` with the escaping of `displaySafe` but not cut, newlines kept: the last line of defence applied to every
/// error message (`TResNetError.description`), so file-supplied text that reached a message without going
/// through `displaySafe` still cannot drive the terminal. Text already escaped passes unchanged.
public func escapingControls(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        if scalar == "\n" { out.unicodeScalars.append(scalar) } else { appendEscaped(scalar, to: &out) }
    }
    return out
}

private func appendEscaped(_ scalar: Unicode.Scalar, to out: inout String) {
    switch scalar.value {
    case 0x20..<0x7f: out.unicodeScalars.append(scalar)
    case 0..<0x20, 0x7f..<0xa0:
        out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
    default:
        if scalar.properties.generalCategory == .format || scalar.properties.generalCategory == .control
            || scalar.properties.generalCategory == .lineSeparator
            || scalar.properties.generalCategory == .paragraphSeparator
        {
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
