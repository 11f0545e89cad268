import Foundation
import TResNetCore
import TResNetZoo

/// `--allow-download` and `--cache` for every tool that takes WEIGHTS: a zoo tag there is resolved by
/// `ZooModelSource` (the library) to the cached `.tw`; a download, when allowed, is `tresnet-zoo fetch --convert`
/// run beside this tool (so the tools other than tresnet-zoo never load the network stack).
public struct ZooSourceOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "When WEIGHTS is a zoo tag (tresnet_m.miil_in1k) that is not cached, download it (also "
                + "TRESNET_ALLOW_DOWNLOAD=1). Offline by default."))
    public var allowDownload = false

    @Option(
        name: .customLong("cache"),
        help: ArgumentHelp(
            "The Hugging Face hub cache a zoo tag is looked up in (default: $HF_HUB_CACHE, "
                + "$HF_HOME/hub, ~/.cache/huggingface/hub)."))
    public var cache: String?

    public init() {}

    /// `weights` itself, or for a zoo tag the path of its cached `.tw`.
    public func resolve(_ weights: String) throws -> String {
        let hub = HubCache(root: cache ?? HubCache.defaultRoot)
        let allowed = allowDownload || HubCache.downloadAllowed()
        let root = hub.root
        var source = ZooModelSource(cache: hub)
        if allowed { source.download = { entry in try Self.fetch(entry, cache: root) } }
        return try source.resolve(weights)
    }

    /// Runs `tresnet-zoo fetch TAG --convert --quiet --cache CACHE` (the executable beside this one).
    static func fetch(_ entry: ZooEntry, cache: String) throws {
        let me = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let dir = me.resolvingSymlinksInPath().deletingLastPathComponent().path
        let zoo = dir + "/tresnet-zoo"
        guard FileManager.default.isExecutableFile(atPath: zoo) else {
            throw TResNetError(
                .network, format: "zoo",
                "cannot download \(entry.tag): tresnet-zoo is not installed "
                    + "beside this tool (\(dir))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: zoo)
        process.arguments = ["fetch", entry.tag, "--convert", "--quiet", "--cache", cache]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let lines = text.split(separator: "\n").map(String.init)
            let why =
                lines.first { !$0.contains(": note:") } ?? lines.last ?? "exit status \(process.terminationStatus)"
            let prefix = "tresnet-zoo: "
            throw TResNetError(
                process.terminationStatus == 2 ? .malformed : .network, format: "zoo",
                "downloading \(entry.tag) failed: "
                    + (why.hasPrefix(prefix) ? String(why.dropFirst(prefix.count)) : why))
        }
    }
}
