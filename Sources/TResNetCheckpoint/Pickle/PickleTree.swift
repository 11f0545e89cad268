import TResNetCore

/// The object tree of a pickle as indented text (`tresnet-inspect FILE --tree`): containers with their sizes,
/// opaque objects with their `module.qualname` and how they would have been built, tensors with dtype and shape,
/// scalars. File-supplied text is escaped and cut. A container reached a second time (memo sharing) is shown
/// once and then referred to, so the output is bounded by the number of nodes; it is also cut at `maxLines`.
public enum PickleTree {
    public static func render(_ arena: PickleArena, root: Int, maxLines: Int = 20_000, maxDepth: Int = 64) -> String {
        var lines: [String] = []
        var shown: [Int: Int] = [:]  // container node → the line it was shown at
        var cut = 0
        func emit(_ depth: Int, _ label: String, _ text: String) {
            guard lines.count < maxLines else { cut += 1; return }
            lines.append(String(repeating: "  ", count: depth) + label + text)
        }
        func keyLabel(_ k: Int) -> String {
            switch arena[k] {
            case .string(let s): return "'\(displaySafe(s, limit: 80))'"
            case .int(let i): return String(i)
            default: return arena.summary(k)
            }
        }
        func walk(_ node: Int, _ depth: Int, _ label: String) {
            guard lines.count < maxLines else { cut += 1; return }
            let isContainer: Bool
            switch arena[node] {
            case .tuple(let items): isContainer = !items.isEmpty
            case .list, .set, .dict, .object: isContainer = true
            default: isContainer = false
            }
            if isContainer, let at = shown[node] {
                emit(depth, label, arena.summary(node) + " (shared: shown at line \(at + 1))")
                return
            }
            if isContainer { shown[node] = lines.count }
            guard depth < maxDepth else {
                emit(depth, label, arena.summary(node) + " (deeper than \(maxDepth): not shown)"); return
            }
            switch arena[node] {
            case .tuple(let items):
                emit(depth, label, arena.summary(node))
                for (i, c) in items.enumerated() { walk(c, depth + 1, "[\(i)] ") }
            case .list(let l), .set(let l):
                emit(depth, label, arena.summary(node))
                for (i, c) in arena.lists[l].enumerated() { walk(c, depth + 1, "[\(i)] ") }
            case .dict(let d):
                let dict = arena.dicts[d]
                emit(depth, label, arena.summary(node))
                for (k, v) in zip(dict.keys, dict.values) { walk(v, depth + 1, keyLabel(k) + ": ") }
                for s in dict.attributes { walk(s, depth + 1, "(attributes) ") }
            case .object(let o):
                let obj = arena.objects[o]
                emit(
                    depth, label,
                    "object \(displaySafe(obj.module)).\(displaySafe(obj.name)) (\(obj.builtBy), never constructed)")
                if case .tuple(let a) = arena[obj.arguments], !a.isEmpty {
                    walk(obj.arguments, depth + 1, "(arguments) ")
                }
                for s in obj.states { walk(s, depth + 1, "(state) ") }
                if let d = obj.dictItems { walk(d, depth + 1, "(items) ") }
                if let l = obj.listItems { walk(l, depth + 1, "(items) ") }
            case .tensor(let t):
                emit(depth, label, "tensor \(t.dtype.rawValue) \(formatShape(t.shape))")
            default:
                emit(depth, label, arena.summary(node))
            }
        }
        walk(root, 0, "")
        if cut > 0 { lines.append("… output cut at \(maxLines) lines") }
        return lines.joined(separator: "\n") + "\n"
    }
}
