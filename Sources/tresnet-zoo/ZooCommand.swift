import Foundation
import TResNetZooFetch
import _CLISupport
import TResNetZoo
import TResNetCore

@main
struct ZooCommand: ParsableCommand {
    static func main() { mainReportingJSON() }

    static let configuration = CommandConfiguration(
        commandName: "tresnet-zoo",
        abstract: "Every published TResNet weight: list, show a card, fetch with full sha256 verification.",
        discussion: """
            Entries are timm tags (tresnet_m.miil_in21k_ft_in1k, …) and the original MIIL checkpoints \
            (miil/tresnet_m, …; their links are dead). Old names work too: timm's deprecated names \
            (tresnet_m_448), bare architecture names (the timm default tag) and original file names \
            (tresnet_l_v2_miil_21k.pth).

            EXAMPLES:
              tresnet-zoo list
              tresnet-zoo list --arch m --dataset in21k --json
              tresnet-zoo show tresnet_m.miil_in21k_ft_in1k
              tresnet-zoo fetch tresnet_m.miil_in1k --convert
            """,
        version: toolkitVersion,
        subcommands: [List.self, Show.self, Fetch.self])
}

extension ZooCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the zoo: tag, architecture, dataset, classes, resolution, top-1, parameters, GMACs.")

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        @Option(help: "Only this architecture (tresnet_m, tresnet_l, tresnet_xl, tresnet_v2_l; or m, l, xl, v2_l).")
        var arch: String?

        @Option(help: "Only this dataset (imagenet-1k / in1k, imagenet-21k-p / in21k); matches pretraining too.")
        var dataset: String?

        func run() throws {
            let entries = ZooCatalog.shared.entries(architecture: arch, dataset: dataset)
            if json {
                try printJSON(entries.map(ZooListing.row))
            } else {
                print(ZooListing.table(entries), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the full card of one entry.")

        @Argument(help: "A tag, alias or original file name.")
        var tag: String

        @Flag(help: "Print the catalog entry as JSON.")
        var json = false

        @Option(
            help: "Hub cache whose pins to show (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub).")
        var cache: String?

        func run() throws {
            try runMain("tresnet-zoo", keepingNewlines: true, json: json) {
                let entry = try ZooCatalog.shared.require(tag)
                if json {
                    try printJSON(entry)
                } else {
                    let pins = (try? PinStore(cacheDirectory: cache ?? ZooFetcher.defaultCacheDirectory).load()) ?? [:]
                    print(ZooListing.card(entry, pins: pins), terminator: "")
                }
            }
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download one entry's file into the cache, verified by size and full sha256.",
            discussion: """
                The cache is the Hugging Face hub cache (CACHE/models--ORG--NAME/blobs, snapshots/REVISION/FILE, \
                refs/main), shared with huggingface_hub. A file is linked there only after its sha256 matched the \
                catalog's published digest, or the digest pinned by an earlier fetch (CACHE/pins.json). A file with \
                neither is pinned on this first fetch (trust on first use; --require-pin refuses it). A cut transfer \
                is resumed with Range. A cached file is re-verified before it is reused, so --offline (or \
                HF_HUB_OFFLINE=1) works from the cache alone. HF_ENDPOINT points the hub's files at a mirror. A \
                failed fetch leaves nothing behind. Progress (MiB, rate, ETA) goes to stderr: redrawn on a \
                terminal, a line every 5 s elsewhere, none with --quiet.
                """)

        @Argument(help: "A tag, alias or original file name.")
        var tag: String

        @Option(help: "Hub cache (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub).")
        var cache: String?

        @Option(help: "Which of the entry's files (default: the first live one, model.safetensors).")
        var file: String?

        @Option(
            help:
                "Fetch from a mirror of the hub: MIRROR/REPO/resolve/main/FILE (HTTPS, or HTTP on loopback); also $HF_ENDPOINT."
        )
        var mirror: String?

        @Flag(help: "Never use the network; succeed only from a verified cached copy (also HF_HUB_OFFLINE=1).")
        var offline = false

        @Flag(help: "Refuse files with no published or pinned sha256 instead of pinning them on first use.")
        var requirePin = false

        @Flag(
            help:
                "Also convert to .tw beside the download (model.safetensors → model.tw), with the zoo's architecture, label set and preprocessing."
        )
        var convert = false

        @Option(help: "Use this catalog JSON (Zoo/catalog.json's schema) instead of the built-in catalog.")
        var catalog: String?

        @Flag(help: "Print only the path.")
        var quiet = false

        @Flag(help: "Print what was fetched (and converted) as JSON on standard output (docs/JSON.md).")
        var json = false

        func run() throws {
            try runMain("tresnet-zoo", keepingNewlines: true, json: json) {
                let entry = try (catalog.map(ZooCatalog.load(path:)) ?? ZooCatalog.shared).require(tag)
                var fetcher = ZooFetcher(cacheDirectory: cache ?? ZooFetcher.defaultCacheDirectory)
                fetcher.offline = offline || HubCache.offline()
                fetcher.requirePin = requirePin
                let progress = ProgressReporter(
                    label: "fetching \(entry.tag)", unit: .bytes,
                    mode: .automatic(quiet: quiet || json))
                fetcher.progress = { received, total in
                    progress.update(received, total: total)
                    if let total, received >= total { progress.finish() }
                }
                let repository = HubCache.repository(of: entry)
                func mirrored(_ file: ZooFile) -> ZooFile { HubCache.source(of: file, in: entry, mirror: mirror) }
                for base in [mirror, HubCache.endpoint()].compactMap({ $0 }) {
                    if let host = URL(string: base)?.host { fetcher.policy.allowedHostSuffixes.append(host) }
                }
                let target = mirrored(try entry.downloadFile(named: file))
                let result = try fetcher.fetch(repository: repository, file: target)
                var report = FetchJSON(
                    tag: entry.tag, repository: repository, revision: result.revision, file: target.name,
                    url: target.url, path: result.path, sizeBytes: result.size, sha256: result.sha256,
                    verification: result.verification.rawValue, fromCache: result.fromCache)
                if quiet, !json {
                    print(result.path)
                } else if !json {
                    let how =
                        switch result.verification {
                        case .catalog: "matches the catalog's published sha256"
                        case .pinned: "matches the sha256 pinned in this cache"
                        case .firstUse:
                            "no published sha256: pinned now (trust on first use) in \(fetcher.cacheDirectory)/pins.json"
                        }
                    print(
                        "\(result.fromCache ? "cached" : "fetched") \(entry.tag)/\(target.name) (\(repository) at \(result.revision))"
                    )
                    print("  path    \(result.path)")
                    print("  size    \(result.size) bytes")
                    print("  sha256  \(result.sha256) (\(how))")
                }
                if convert {
                    // A 21K head's semantic tree is fetched (cached, pinned) and embedded when it can be had.
                    var tree: String?
                    if let treeFile = entry.semanticTreeFile, treeFile.name != target.name {
                        do {
                            tree = try fetcher.fetch(repository: repository, file: mirrored(treeFile)).path
                        } catch let e as TResNetError {
                            printError(
                                "tresnet-zoo: note: the semantic tree \(treeFile.name) was not fetched, the .tw "
                                    + "carries none (predict with --semantic-tree later): \(e.description)")
                        }
                    }
                    // with what the catalog knows: architecture, classes, key spelling, wrapper, labels, preprocessing
                    let summary = try ZooConversion.convert(
                        entry: entry, file: target, path: result.path, semanticTree: tree, revision: result.revision)
                    if !quiet, !json {
                        print("converted to .tw" + (tree == nil ? "" : " (semantic tree embedded)"))
                        for line in summary.lines { print("  " + line) }
                    }
                    report.conversion = summary
                    if !json { print(quiet ? summary.output : "  .tw     \(summary.output)") }
                }
                if json { try printJSON(report) }
            }
        }
    }
}

/// `tresnet-zoo fetch --json` (docs/JSON.md): the file fetched, how it was verified, and the conversion.
struct FetchJSON: Encodable {
    var tag, repository, revision, file, url, path: String
    var sizeBytes: Int
    var sha256, verification: String
    var fromCache: Bool
    /// With `--convert`: `tresnet-convert --json`'s object.
    var conversion: ConversionSummary?
}
