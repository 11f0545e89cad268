import TResNetCore

/// Finds the state dict inside a checkpoint object the way timm's `load_state_dict` does: a plain dict of
/// tensors, else the first of `state_dict_ema`, `model_ema`, `state_dict`, `model` that is a dict of tensors;
/// then strips `module.` (DataParallel) and `_orig_mod.` (torch.compile) prefixes. Everything else is reported
/// as a non-tensor entry, never fatal.
enum StateDictLocator {
    static let wrapperKeys = ["state_dict_ema", "model_ema", "state_dict", "model"]
    static let prefixes = ["module.", "_orig_mod."]
    /// Visits allowed, in total, when summarising nested values (a shared-reference bomb is refused, not expanded).
    static let walkBudget = 1_000_000

    struct Located {
        var stateDict: StateDict
        var wrapper: String?
        var strippedPrefix: String?
        var nonTensorEntries: [(name: String, summary: String)]
    }

    static func fail(_ code: TResNetError.Code, _ message: String) -> TResNetError {
        TResNetError(code, format: "checkpoint", message)
    }

    static func locate(_ object: TorchObject, key: String?) throws -> Located {
        let arena = object.arena
        guard let root = arena.dict(object.root) else {
            throw fail(.noStateDict, "the checkpoint holds a \(arena.summary(object.root)), not a dict of tensors")
        }
        let items = Array(zip(root.keys, root.values))
        func name(_ k: Int) -> String? { arena.string(k) }
        func tensorCount(_ dictNode: Int) -> Int {
            guard let d = arena.dict(dictNode) else { return 0 }
            return d.values.reduce(0) { $0 + (arena.tensor($1) == nil ? 0 : 1) }
        }

        var chosen = object.root
        var wrapper: String?
        if let key {
            guard let item = items.first(where: { name($0.0) == key }) else {
                let keys = items.compactMap { name($0.0) }.prefix(20).map { "'\(displaySafe($0))'" }.joined(separator: ", ")
                throw fail(.noStateDict, "no entry '\(displaySafe(key))' at the top level (entries: \(keys))")
            }
            guard tensorCount(item.1) > 0 else {
                throw fail(.noStateDict, "entry '\(displaySafe(key))' is a \(arena.summary(item.1)), not a dict of tensors")
            }
            chosen = item.1
            wrapper = key
        } else if tensorCount(object.root) == 0 {
            for k in wrapperKeys {
                if let item = items.first(where: { name($0.0) == k }), tensorCount(item.1) > 0 {
                    chosen = item.1
                    wrapper = k
                    break
                }
            }
            guard wrapper != nil else {
                let keys = items.prefix(20).map { arena.summary($0.0) }.joined(separator: ", ")
                throw fail(.noStateDict, "no dict of tensors found at the top level or under "
                           + wrapperKeys.joined(separator: "/") + " (top-level keys: \(keys))")
            }
        }

        var nonTensor: [(name: String, summary: String)] = []
        var walkRemaining = walkBudget  // shared by every summary, so many entries cannot multiply it
        func describe(_ node: Int) throws -> String {
            let tensors = try arena.flattenTensors(from: node, remaining: &walkRemaining).count
            let base = arena.summary(node)
            return tensors > 0 ? "\(base), \(tensors) tensor\(tensors == 1 ? "" : "s")" : base
        }
        func keyText(_ k: Int) -> String {
            switch arena[k] {
            case .string(let s): return s
            case .int(let i): return String(i)
            default: return arena.summary(k)
            }
        }
        if wrapper != nil {
            for (k, v) in items where k != items.first(where: { $0.1 == chosen })?.0 {
                nonTensor.append((keyText(k), try describe(v)))
            }
        }

        // The state dict: string keys → tensors; other entries are reported.
        guard let dict = arena.dict(chosen) else { throw fail(.noStateDict, "state dict is not a dict") }
        var pairs: [(String, Int, TensorRef)] = []
        for (k, v) in zip(dict.keys, dict.values) {
            guard let t = arena.tensor(v), let n = arena.string(k) else {
                nonTensor.append(((wrapper.map { $0 + "." } ?? "") + keyText(k), try describe(v)))
                continue
            }
            pairs.append((n, v, t))
        }

        // Prefixes shared by every key.
        var stripped = ""
        for prefix in prefixes where !pairs.isEmpty && pairs.allSatisfy({ $0.0.hasPrefix(prefix) }) {
            pairs = pairs.map { (String($0.0.dropFirst(prefix.count)), $0.1, $0.2) }
            stripped += prefix
        }
        var stateDict = StateDict()
        var copyBudget = object.copyBudget
        for (n, _, ref) in pairs {
            let tensor = try object.tensor(ref, name: n, copyBudget: &copyBudget)
            do { try stateDict.insert(n, tensor) } catch var e as TResNetError {
                e.format = object.format
                throw e
            }
        }
        return Located(stateDict: stateDict, wrapper: wrapper, strippedPrefix: stripped.isEmpty ? nil : stripped,
                       nonTensorEntries: nonTensor)
    }
}
