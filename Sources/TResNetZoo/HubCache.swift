import Foundation
import TResNetCore

/// The Hugging Face hub cache layout, shared with `huggingface_hub` (so a file either of them fetched is reused by
/// the other), and the environment that configures it (docs/ZOO.md):
///
///     <root>/models--<org>--<name>/blobs/<sha256>                   the file's bytes, named by their digest
///     <root>/models--<org>--<name>/snapshots/<revision>/<file>      a relative symlink to ../../blobs/<sha256>
///     <root>/models--<org>--<name>/refs/main                        the commit `main` resolved to
///
/// `<root>` is `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`. A `.tw` converted from a
/// snapshot's weights sits beside them in the same snapshot folder (`model.safetensors` → `model.tw`).
/// No network here: `TResNetZooFetch` downloads into this layout.
public struct HubCache: Sendable, Hashable {
    public var root: String

    public init(root: String = HubCache.defaultRoot) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    // MARK: Environment

    /// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (as `huggingface_hub` resolves it).
    public static var defaultRoot: String { defaultRoot(environment: ProcessInfo.processInfo.environment) }

    public static func defaultRoot(environment env: [String: String]) -> String {
        if let d = env["HF_HUB_CACHE"], !d.isEmpty { return d }
        if let h = env["HF_HOME"], !h.isEmpty { return h + "/hub" }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/huggingface/hub" }
        return home + "/.cache/huggingface/hub"
    }

    /// `$HF_ENDPOINT` (a mirror of the hub that serves `/{repo}/resolve/{revision}/{file}`), else huggingface.co.
    public static func endpoint(environment env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let e = env["HF_ENDPOINT"], !e.isEmpty { return e.hasSuffix("/") ? String(e.dropLast()) : e }
        return "https://huggingface.co"
    }

    /// `$HF_HUB_OFFLINE` set to a true value (`1`, `true`, `yes`, `on`): never touch the network.
    public static func offline(environment env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        truthy(env["HF_HUB_OFFLINE"])
    }

    /// `$TRESNET_ALLOW_DOWNLOAD` set to a true value: the tools may download a zoo tag given as WEIGHTS (the same as
    /// `--allow-download`). Off by default: a tag is resolved from the cache only.
    public static func downloadAllowed(environment env: [String: String] = ProcessInfo.processInfo.environment) -> Bool
    {
        truthy(env["TRESNET_ALLOW_DOWNLOAD"])
    }

    static func truthy(_ value: String?) -> Bool {
        guard let v = value?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(v)
    }

    // MARK: Layout

    /// The hub repository an entry's files belong to: its `hub_id`, else its tag (`miil/tresnet_m`), else
    /// `tresnet-kit/<tag>` for a tag without an owner.
    public static func repository(of entry: ZooEntry) -> String {
        if let hub = entry.hubId, !hub.isEmpty { return hub }
        return entry.tag.contains("/") ? entry.tag : "tresnet-kit/" + entry.tag
    }

    /// `<root>/models--<org>--<name>`.
    public func repositoryFolder(_ repository: String) -> String {
        root + "/models--" + repository.split(separator: "/", omittingEmptySubsequences: false).joined(separator: "--")
    }

    /// The commit `refs/<revision>` records, or nil when the cache holds no such ref.
    public func commit(repository: String, revision: String = "main") -> String? {
        let path = repositoryFolder(repository) + "/refs/" + revision
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            Self.isCommit(text)
        else { return nil }
        return text
    }

    /// The revision folder name `revision` resolves to: the commit `refs/<revision>` records, else `revision` (a
    /// revision fetched from a server that named no commit).
    public func resolvedRevision(repository: String, revision: String = "main") -> String {
        commit(repository: repository, revision: revision) ?? revision
    }

    /// Where `file` of `repository` at `revision` is (whether or not it is there):
    /// `snapshots/<resolvedRevision>/<file>`.
    public func snapshotPath(repository: String, file: String, revision: String = "main") -> String {
        repositoryFolder(repository) + "/snapshots/" + resolvedRevision(repository: repository, revision: revision)
            + "/" + file
    }

    /// `snapshotPath` when the file is there (a symlink whose blob exists, or a plain file), else nil.
    public func cachedFile(repository: String, file: String, revision: String = "main") -> String? {
        let path = snapshotPath(repository: repository, file: file, revision: revision)
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? path : nil
    }

    /// The `.tw` converted from `file` (its extension replaced), whether or not it is there.
    public func convertedPath(repository: String, file: String, revision: String = "main") -> String {
        Self.twName(for: snapshotPath(repository: repository, file: file, revision: revision))
    }

    /// `…/model.safetensors` → `…/model.tw`.
    public static func twName(for path: String) -> String {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[slash...].lastIndex(of: "."), dot > slash { return String(path[..<dot]) + ".tw" }
        return path + ".tw"
    }

    /// Where `file` of `entry` is fetched from: `mirror` when given (a server with the hub's
    /// `/<repo>/resolve/<revision>/<file>` layout — every file of the entry, the hub's and its resources, is
    /// looked up there), else `$HF_ENDPOINT` in place of `https://huggingface.co` for the hub's files, else the
    /// catalog's URL.
    public static func source(
        of file: ZooFile, in entry: ZooEntry, mirror: String?, revision: String = "main",
        environment env: [String: String] = ProcessInfo.processInfo.environment
    ) -> ZooFile {
        var file = file
        if let mirror, !mirror.isEmpty {
            let base = mirror.hasSuffix("/") ? String(mirror.dropLast()) : mirror
            file.url = "\(base)/\(repository(of: entry))/resolve/\(revision)/\(file.name)"
            file.status = .live
            return file
        }
        let hub = "https://huggingface.co/"
        let endpoint = endpoint(environment: env)
        if file.url.hasPrefix(hub), endpoint + "/" != hub {
            file.url = endpoint + "/" + file.url.dropFirst(hub.count)
        }
        return file
    }

    /// 40 lower-case hex digits.
    public static func isCommit(_ s: String) -> Bool {
        s.utf8.count == 40 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
