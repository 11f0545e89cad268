import TResNetCore

/// A pickled `nn.Module` (`torch.save(model)`) read as the inert object tree it is: every module instance is an
/// opaque object whose state holds `_parameters`, `_buffers`, `_non_persistent_buffers_set` and `_modules`.
/// Walking it in PyTorch's order (a module's parameters, then its persistent buffers, then each child under
/// `child.`) gives exactly the names `model.state_dict()` would give. Wrappers need nothing special:
/// DataParallel / DistributedDataParallel hold the model as child `module`, torch.compile's OptimizedModule as
/// `_orig_mod`, and those prefixes are stripped like any other.
enum ModuleTree {
    static let maxDepth = 256

    /// True when `node` is an opaque object carrying the attributes of an `nn.Module`.
    static func isModule(_ node: Int, in arena: PickleArena) -> Bool {
        guard let o = arena.object(node) else { return false }
        return o.attribute("_modules", in: arena) != nil && o.attribute("_parameters", in: arena) != nil
    }

    /// `(name, tensor)` in `state_dict()` order. `remaining` is a visit budget shared with other walks (a module
    /// graph sharing sub-modules through the memo is expanded at most that far, never further).
    static func stateDict(of root: Int, in arena: PickleArena, remaining: inout Int) throws -> [(String, TensorRef)] {
        var out: [(String, TensorRef)] = []
        func fail(_ message: String) -> TResNetError { TResNetError(.limitExceeded, format: "pickle", message) }
        func visit() throws {
            remaining -= 1
            guard remaining >= 0 else {
                throw fail("the module tree expands beyond the walk budget (shared-reference bomb?)")
            }
        }
        func walk(_ node: Int, _ prefix: String, _ depth: Int) throws {
            guard depth <= maxDepth else { throw fail("modules nest deeper than \(maxDepth)") }
            guard let module = arena.object(node) else { return }
            let skipped: Set<String> = {
                guard let s = module.attribute("_non_persistent_buffers_set", in: arena) else { return [] }
                switch arena[s] {
                case .set(let l), .list(let l): return Set(arena.lists[l].compactMap { arena.string($0) })
                default: return []
                }
            }()
            for (attribute, skip) in [("_parameters", Set<String>()), ("_buffers", skipped)] {
                guard let d = module.attribute(attribute, in: arena).flatMap({ arena.dict($0) }) else { continue }
                for (k, v) in zip(d.keys, d.values) {
                    try visit()
                    guard let name = arena.string(k), !skip.contains(name), let t = arena.tensor(v) else { continue }
                    out.append((prefix + name, t))
                }
            }
            guard let children = module.attribute("_modules", in: arena).flatMap({ arena.dict($0) }) else { return }
            for (k, v) in zip(children.keys, children.values) {
                try visit()
                guard let name = arena.string(k) else { continue }
                try walk(v, prefix + name + ".", depth + 1)
            }
        }
        try walk(root, "", 0)
        return out
    }
}
