import TResNetCheckpoint
import TResNetCore
import TResNetModel

/// Finds the prefix a training framework put before the model's names (`model.` for a Lightning module holding
/// `self.model`, `net.`, `backbone.`, `module.model.`, …) without a list of known prefixes: the prefix is what
/// stands before a spelling's marker name (`body.conv1.conv.weight`, `body.conv1.0.weight`), i.e. the longest
/// prefix whose removal makes the names bind to the layer tree. It is stripped from every name carrying it and
/// reported (`strippedPrefix`, after any `module.` / `_orig_mod.` the reader stripped). `--prefix` turns
/// detection off.
public enum PrefixDetection {
    /// The prefix before a marker, or nil when the names already bind (or no marker is found). With several
    /// candidates the one most names carry wins (file order breaks ties).
    public static func detect(_ names: [String]) -> String? {
        guard Dialect.detect(names) == nil else { return nil }
        var found: [String] = []
        for name in names {
            for d in Dialect.all where name.hasSuffix("." + d.marker) {
                found.append(String(name.dropLast(d.marker.count)))
            }
        }
        guard !found.isEmpty else { return nil }
        return found.max { a, b in
            let ca = names.count(where: { $0.hasPrefix(a) }), cb = names.count(where: { $0.hasPrefix(b) })
            return ca != cb ? ca < cb : found.firstIndex(of: a)! > found.firstIndex(of: b)!
        }
    }

    /// Strips the detected prefix in place (nothing when the prefix was forced or none is found).
    public static func apply(_ checkpoint: inout LoadedCheckpoint) throws {
        guard !checkpoint.prefixForced, let prefix = detect(checkpoint.stateDict.names) else { return }
        var out = StateDict()
        out.metadata = checkpoint.stateDict.metadata
        for (n, t) in checkpoint.stateDict.entries {
            try out.insert(n.hasPrefix(prefix) ? String(n.dropFirst(prefix.count)) : n, t)
        }
        checkpoint.stateDict = out
        checkpoint.strippedPrefix = (checkpoint.strippedPrefix ?? "") + prefix
    }
}
