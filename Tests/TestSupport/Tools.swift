import Foundation

/// A finished run of one of the package's executables.
public struct ToolRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Finds a built executable of this package next to the test bundle (`.build/<config>/`).
public func builtTool(_ name: String) -> String? {
    var candidates: [URL] = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        Bundle.main.bundleURL.deletingLastPathComponent(),
        Bundle.main.bundleURL
    ]
    for config in ["debug", "release"] {
        candidates.append(URL(fileURLWithPath: FixturePaths.root + "/.build/" + config))
    }
    for dir in candidates {
        let p = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

/// Runs the executable at `path` with `arguments`; returns its exit status, stdout and stderr.
/// - Parameter environment: variables set for the tool on top of this process's environment.
public func runTool(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ToolRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ToolRun(
        status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
        stderr: String(decoding: e, as: UTF8.self))
}

/// Runs the package's executable `name` (built by `swift build`).
public func runBuiltTool(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ToolRun {
    guard let path = builtTool(name) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "build \(name) first"])
    }
    return try runTool(path, arguments, environment: environment)
}
