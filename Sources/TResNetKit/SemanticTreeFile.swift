import TResNetCheckpoint
import TResNetCore
import TResNetModel

/// Reads MIIL's semantic tree file (`imagenet21k_miil_tree.pth`: `torch.save` of a dict with `class_list`,
/// `class_description` and `class_tree_list`) with the inert pickle machine, and validates it
/// (`SemanticTree`). Only dicts, lists, tuples, strings and ints are accepted.
public enum SemanticTreeFile {
    /// The tree in `path`; with `numClasses`, a tree of another size is refused. Errors name the file and field.
    public static func read(path: String, numClasses: Int? = nil) throws -> SemanticTree {
        let (arena, root) = try TorchPickleFile.read(path: path)
        func fail(_ field: String, _ message: String) -> TResNetError {
            TResNetError(.malformed, format: "semantic tree", at: .field(field), message, file: path)
        }
        func items(_ node: Int, _ field: String) throws -> [Int] {
            switch arena[node] {
            case .list(let l): return arena.lists[l]
            case .tuple(let t): return t
            default: throw fail(field, "must be a list, found \(arena.kind(node))")
            }
        }
        func string(_ node: Int, _ field: String) throws -> String {
            guard let s = arena.string(node) else { throw fail(field, "must be a str, found \(arena.kind(node))") }
            return s
        }
        guard let dict = arena.dict(root) else {
            throw fail(
                "(root)",
                "must be a dict with class_list, class_description and class_tree_list, found "
                    + arena.kind(root))
        }
        var fields: [String: Int] = [:]
        for (k, v) in zip(dict.keys, dict.values) {
            if let name = arena.string(k) { fields[name] = v }
        }
        for name in ["class_list", "class_description", "class_tree_list"] where fields[name] == nil {
            throw fail(
                name,
                "is missing (keys: \(fields.keys.sorted().map { displaySafe($0, limit: 30) }.joined(separator: ", ")))")
        }
        let classList = try items(fields["class_list"]!, "class_list").enumerated().map {
            try string($0.element, "class_list[\($0.offset)]")
        }
        guard let descriptionDict = arena.dict(fields["class_description"]!) else {
            throw fail("class_description", "must be a dict, found \(arena.kind(fields["class_description"]!))")
        }
        var descriptions: [String: String] = [:]
        for (k, v) in zip(descriptionDict.keys, descriptionDict.values) {
            let key = try string(k, "class_description key")
            descriptions[key] = try string(v, "class_description['\(displaySafe(key, limit: 30))']")
        }
        let treeList = try items(fields["class_tree_list"]!, "class_tree_list").enumerated().map { i, node in
            try items(node, "class_tree_list[\(i)]").enumerated().map { j, c -> Int in
                guard case .int(let v) = arena[c], let value = Int(exactly: v) else {
                    throw fail("class_tree_list[\(i)][\(j)]", "must be an int, found \(arena.kind(c))")
                }
                return value
            }
        }
        let tree = try SemanticTree(
            classList: classList, classDescription: descriptions, classTreeList: treeList,
            source: path)
        if let numClasses { try tree.check(numClasses: numClasses, source: path) }
        return tree
    }
}
