import TResNetCore

/// Finds the state dict inside a checkpoint object: a plain dict of tensors; a whole pickled module (its object
/// tree walked into `state_dict()` names, `ModuleTree`); else the top-level entry holding tensors, preferring
/// `state_dict`, `model`, `state_dict_ema`, `model_ema` in that order (timm's `load_checkpoint` takes
/// `state_dict` unless asked for the EMA weights); `--key` / `--ema` choose explicitly. Then `module.`
/// (DataParallel) and `_orig_mod.` (torch.compile) are stripped when every name carries them; any other prefix
/// (Lightning's `model.`, `net.`, `backbone.`) is detected against the layer tree one level up
/// (`PrefixDetection`, a layer above). Every other entry is reported as a non-tensor entry, never fatal.
enum StateDictLocator {
    static let preferredKeys = ["state_dict", "model", "state_dict_ema", "model_ema"]
    static let emaKeys = ["state_dict_ema", "model_ema"]
    static let prefixes = ["module.", "_orig_mod."]
    /// Visits allowed, in total, when summarising nested values (a shared-reference bomb is refused, not expanded).
    static let walkBudget = 1_000_000

    struct Located {
        var stateDict: StateDict
        var wrapper: String?
        var strippedPrefix: String?
        var nonTensorEntries: [(name: String, summary: String)]
        var containerKind: String
        var otherCandidates: [String]
    }

    static func fail(_ code: TResNetError.Code, _ message: String) -> TResNetError {
        TResNetError(code, format: "checkpoint", message)
    }

    static func locate(_ object: TorchObject, options: CheckpointReadOptions) throws -> Located {
        let arena = object.arena
        var walkRemaining = walkBudget  // shared by every walk and summary, so many entries cannot multiply it
        func tensorCount(_ node: Int) -> Int {
            guard let d = arena.dict(node) else { return 0 }
            return d.values.reduce(0) { $0 + (arena.tensor($1) == nil ? 0 : 1) }
        }
        func holdsWeights(_ node: Int) -> Bool { tensorCount(node) > 0 || ModuleTree.isModule(node, in: arena) }
        func keyText(_ k: Int) -> String {
            switch arena[k] {
            case .string(let s): return s
            case .int(let i): return String(i)
            default: return arena.summary(k)
            }
        }

        // 1. Which node holds the weights.
        var chosen = object.root
        var wrapper: String?
        var items: [(Int, Int)] = []
        var candidates: [String] = []
        if ModuleTree.isModule(object.root, in: arena) {
            if options.key != nil || options.ema {
                throw fail(
                    .usage,
                    "--key and --ema choose a top-level entry, but this file is a whole pickled module "
                        + "(\(displaySafe(arena.object(object.root)!.qualifiedName)))")
            }
        } else {
            guard let root = arena.dict(object.root) else {
                throw fail(
                    .noStateDict,
                    "the checkpoint holds a \(arena.summary(object.root)), not a dict of tensors or a module")
            }
            items = Array(zip(root.keys, root.values))
            candidates = items.filter { arena.string($0.0) != nil && holdsWeights($0.1) }.map { arena.string($0.0)! }
            func entry(_ k: String) -> Int? { items.first { arena.string($0.0) == k }?.1 }
            var requested = options.key
            if options.ema, requested == nil {
                guard let k = emaKeys.first(where: { entry($0) != nil }) else {
                    throw fail(
                        .noStateDict,
                        "--ema: no \(emaKeys.joined(separator: " or ")) entry at the top level"
                            + (candidates.isEmpty ? "" : " (entries with weights: \(quoted(candidates)))"))
                }
                requested = k
            }
            if let key = requested {
                guard let node = entry(key) else {
                    let keys = items.compactMap { arena.string($0.0) }.prefix(20).map { "'\(displaySafe($0))'" }.joined(
                        separator: ", ")
                    throw fail(.noStateDict, "no entry '\(displaySafe(key))' at the top level (entries: \(keys))")
                }
                guard holdsWeights(node) else {
                    throw fail(
                        .noStateDict, "entry '\(displaySafe(key))' is a \(arena.summary(node)), not a dict of tensors")
                }
                chosen = node
                wrapper = key
            } else if tensorCount(object.root) == 0 {
                let pick = preferredKeys.first { k in entry(k).map(holdsWeights) == true } ?? candidates.first
                guard let pick, let node = entry(pick) else {
                    let keys = items.prefix(20).map { arena.summary($0.0) }.joined(separator: ", ")
                    throw fail(
                        .noStateDict,
                        "no dict of tensors or module found at the top level or under "
                            + preferredKeys.joined(separator: "/") + " (top-level keys: \(keys))")
                }
                chosen = node
                wrapper = pick
            }
        }

        func describe(_ node: Int) throws -> String {
            let tensors = try arena.flattenTensors(from: node, remaining: &walkRemaining).count
            let base = arena.summary(node)
            return tensors > 0 ? "\(base), \(tensors) tensor\(tensors == 1 ? "" : "s")" : base
        }
        var nonTensor: [(name: String, summary: String)] = []
        if wrapper != nil {
            for (k, v) in items where k != items.first(where: { $0.1 == chosen })?.0 {
                nonTensor.append((keyText(k), try describe(v)))
            }
        }

        // 2. The named tensors: a module tree walked, or a dict's string-keyed tensors (other entries reported).
        var pairs: [(String, TensorRef)] = []
        if ModuleTree.isModule(chosen, in: arena) {
            pairs = try ModuleTree.stateDict(of: chosen, in: arena, remaining: &walkRemaining)
        } else {
            guard let dict = arena.dict(chosen) else { throw fail(.noStateDict, "state dict is not a dict") }
            for (k, v) in zip(dict.keys, dict.values) {
                guard let t = arena.tensor(v), let n = arena.string(k) else {
                    nonTensor.append(((wrapper.map { $0 + "." } ?? "") + keyText(k), try describe(v)))
                    continue
                }
                pairs.append((n, t))
            }
        }

        // 3. Prefixes: the forced one, else wrapper prefixes shared by every name.
        var stripped = ""
        if let forced = options.prefix {
            guard !forced.isEmpty, pairs.contains(where: { $0.0.hasPrefix(forced) }) else {
                throw fail(
                    .noStateDict,
                    "--prefix '\(displaySafe(forced))': no tensor name starts with it"
                        + (pairs.first.map { " (first name: '\(displaySafe($0.0))')" } ?? ""))
            }
            pairs = pairs.map { ($0.0.hasPrefix(forced) ? String($0.0.dropFirst(forced.count)) : $0.0, $0.1) }
            stripped = forced
        } else {
            for prefix in prefixes where !pairs.isEmpty && pairs.allSatisfy({ $0.0.hasPrefix(prefix) }) {
                pairs = pairs.map { (String($0.0.dropFirst(prefix.count)), $0.1) }
                stripped += prefix
            }
        }
        var stateDict = StateDict()
        var copyBudget = object.copyBudget
        for (n, ref) in pairs {
            let tensor = try object.tensor(ref, name: n, copyBudget: &copyBudget)
            do { try stateDict.insert(n, tensor) } catch var e as TResNetError {
                e.format = object.format
                throw e
            }
        }
        return Located(
            stateDict: stateDict, wrapper: wrapper, strippedPrefix: stripped.isEmpty ? nil : stripped,
            nonTensorEntries: nonTensor,
            containerKind: containerKind(
                arena, root: object.root, chosen: chosen, wrapper: wrapper,
                keys: items.compactMap { arena.string($0.0) }),
            otherCandidates: candidates.filter { $0 != wrapper })
    }

    /// The kind of container, in words, from its top-level layout.
    static func containerKind(_ arena: PickleArena, root: Int, chosen: Int, wrapper: String?, keys: [String]) -> String
    {
        let module = arena.object(chosen).map { "whole pickled module \(displaySafe($0.qualifiedName))" }
        guard let wrapper else { return module ?? "plain state dict" }
        let set = Set(keys)
        var kind: String
        if set.contains("pytorch-lightning_version")
            || (set.contains("state_dict")
                && !set.isDisjoint(with: ["optimizer_states", "lr_schedulers", "loops", "callbacks"]))
        {
            kind = "Lightning checkpoint"
        } else if set.contains("state_dict"), set.contains("epoch"), !set.isDisjoint(with: ["arch", "args"]) {
            kind = "timm training checkpoint (CheckpointSaver)"
        } else {
            kind = "wrapped state dict"
        }
        if let module { kind += ", \(module) under '\(displaySafe(wrapper))'" }
        return kind
    }

    /// Strips `prefix` from every name that carries it (`--prefix` on a format without a pickle).
    static func strip(_ prefix: String, from sd: StateDict) throws -> (StateDict, String) {
        guard !prefix.isEmpty, sd.names.contains(where: { $0.hasPrefix(prefix) }) else {
            throw fail(.noStateDict, "--prefix '\(displaySafe(prefix))': no tensor name starts with it")
        }
        var out = StateDict()
        out.metadata = sd.metadata
        for (n, t) in sd.entries { try out.insert(n.hasPrefix(prefix) ? String(n.dropFirst(prefix.count)) : n, t) }
        return (out, prefix)
    }

    static func quoted(_ names: [String]) -> String { names.map { "'\(displaySafe($0))'" }.joined(separator: ", ") }
}
