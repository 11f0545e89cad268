import _CLISupport

/// `fetch --convert`: the conversion pipeline (`TResNetKit.Conversion`) is not in this build yet, so the flag
/// fails fast, before any download, with a clear message.
enum ZooConvert {
    static func checkAvailable() throws {
        throw TResNetError(.unsupported, format: "zoo",
                           "--convert is not available yet: this build has no conversion pipeline "
                           + "(TResNetKit.Conversion); fetch without --convert, then run tresnet-convert on the file")
    }

    static func convert(entry: ZooEntry, file: ZooFile, path: String) throws -> String {
        try checkAvailable()
        return path
    }
}
