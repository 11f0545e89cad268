import TResNetCore
import TResNetZoo

/// A zoo tag where a WEIGHTS argument is taken (`tresnet-predict tresnet_m.miil_in1k photo.jpg`): the tag resolves
/// to the `.tw` converted from the entry's default file in the hub cache (`HubCache`), converted once and then
/// reused. The download itself is not done here (this library does not link the network stack): `download` is
/// given by the caller when the user allowed it (`--allow-download`, `TRESNET_ALLOW_DOWNLOAD=1`); without it a tag
/// that is not cached is an error that says how to fetch it.
public struct ZooModelSource: Sendable {
    public var cache: HubCache
    public var catalog: ZooCatalog
    /// Fetches `entry`'s default file (and its semantic tree) into `cache`; nil when downloading is not allowed.
    public var download: (@Sendable (ZooEntry) throws -> Void)?

    public init(
        cache: HubCache = HubCache(), catalog: ZooCatalog = .shared,
        download: (@Sendable (ZooEntry) throws -> Void)? = nil
    ) {
        self.cache = cache
        self.catalog = catalog
        self.download = download
    }

    /// The path to load for `argument`: `argument` itself unless it is a zoo tag (an existing file or folder
    /// always wins); for a tag, the cached `.tw` (converted from the cached download on first use, after
    /// downloading it when `download` is set).
    public func resolve(_ argument: String) throws -> String {
        guard !argument.isEmpty, access(argument, F_OK) != 0, let entry = catalog.entry(named: argument) else {
            return argument
        }
        let repository = HubCache.repository(of: entry)
        let file = try entry.downloadFile()
        var converted = cache.convertedPath(repository: repository, file: file.name)
        if access(converted, R_OK) == 0 { return converted }
        if cache.cachedFile(repository: repository, file: file.name) == nil {
            guard let download else {
                throw TResNetError(
                    .network, format: "zoo",
                    "'\(displaySafe(argument))' is the zoo tag \(entry.tag), which is not in the cache "
                        + "\(cache.root): fetch it with `tresnet-zoo fetch \(entry.tag)`, or allow downloading "
                        + "with --allow-download (or TRESNET_ALLOW_DOWNLOAD=1)")
            }
            try download(entry)
            converted = cache.convertedPath(repository: repository, file: file.name)  // refs/main may be new
            // A download that converted (`tresnet-zoo fetch --convert`) leaves the .tw: nothing more to do.
            if access(converted, R_OK) == 0 { return converted }
        }
        guard let weights = cache.cachedFile(repository: repository, file: file.name) else {
            throw TResNetError(
                .network, format: "zoo",
                "\(entry.tag): \(file.name) is not in the cache \(cache.root) "
                    + "after the download")
        }
        let tree = entry.semanticTreeFile.flatMap { cache.cachedFile(repository: repository, file: $0.name) }
        _ = try ZooConversion.convert(
            entry: entry, file: file, path: weights, semanticTree: tree,
            revision: cache.resolvedRevision(repository: repository))
        return converted
    }
}
