import Foundation
import TResNetCore

/// The WordNet hierarchy an ImageNet-21K-P head was trained on with the *semantic softmax* (docs/SEMANTIC.md):
/// per class its synset, readable name and parent. Classes are grouped by depth into hierarchy levels; each
/// level is one softmax group over the head's logits.
///
/// Built from the three fields of MIIL's tree file (`class_list`, `class_description`, `class_tree_list`) and
/// validated on construction: every index in range, every ancestor list starts with its own class and walks up
/// one consistent tree (which excludes cycles), synsets unique.
public struct SemanticTree: Sendable, Hashable {
    /// One hierarchy level: the classes at `depth`, in index order (one softmax group).
    public struct Level: Sendable, Hashable {
        public let depth: Int
        public let classes: [Int]
    }

    /// Synset ids in class-index order (`class_list`).
    public let synsets: [String]
    /// Readable names in class-index order (`class_description[class_list[i]]`; the synset when absent).
    public let descriptions: [String]
    /// Parent class of each class, nil for a root.
    public let parents: [Int?]
    /// Depth of each class: the number of its ancestors (`len(class_tree_list[i]) - 1`).
    public let depths: [Int]
    /// The hierarchy levels, coarse to fine: the depths 0 … maxDepth − 1 that hold more than one class.
    public let levels: [Level]

    /// The file the tree was read from, for messages (not part of the tree's identity).
    public let source: String?

    public var count: Int { synsets.count }

    public static func == (a: SemanticTree, b: SemanticTree) -> Bool {
        a.synsets == b.synsets && a.descriptions == b.descriptions && a.parents == b.parents
    }

    public func hash(into h: inout Hasher) {
        h.combine(synsets)
        h.combine(parents)
    }

    public var maxDepth: Int { depths.max() ?? 0 }

    static let format = "semantic tree"

    /// A tree from per-class parents (`nil` = root). `source` names the file in errors.
    public init(synsets: [String], descriptions: [String], parents: [Int?], source: String? = nil) throws {
        func fail(_ field: String, _ message: String) -> TResNetError {
            TResNetError(.malformed, format: Self.format, at: .field(field), message, file: source)
        }
        let n = synsets.count
        guard n >= 1 else { throw fail("class_list", "is empty") }
        guard descriptions.count == n else {
            throw fail("class_description", "has \(descriptions.count) names for \(n) classes")
        }
        guard parents.count == n else { throw fail("class_tree_list", "has \(parents.count) entries for \(n) classes") }
        var seen: [String: Int] = [:]
        for (i, s) in synsets.enumerated() {
            if let j = seen[s] {
                throw fail("class_list[\(i)]", "synset '\(displaySafe(s, limit: 40))' is also class \(j)")
            }
            seen[s] = i
        }
        for (i, p) in parents.enumerated() {
            if let p, !(0..<n).contains(p) {
                throw fail("class_tree_list[\(i)]", "parent index \(p) is out of range (0…\(n - 1))")
            }
        }
        // Depths by walking up to a root or a class already placed; meeting the walk's own path is a cycle.
        var depths = [Int](repeating: -1, count: n)
        var onPath = [Bool](repeating: false, count: n)
        for start in 0..<n where depths[start] < 0 {
            var chain: [Int] = []
            var c = start
            while depths[c] < 0 {
                if onPath[c] { throw fail("class_tree_list[\(start)]", "ancestors form a cycle through class \(c)") }
                onPath[c] = true
                chain.append(c)
                guard let p = parents[c] else { break }
                c = p
            }
            var d = depths[c]  // -1 when the walk ended at a root (then the root is chain.last)
            for node in chain.reversed() {
                d += 1
                depths[node] = d
                onPath[node] = false
            }
        }
        self.source = source
        self.synsets = synsets
        self.descriptions = descriptions
        self.parents = parents
        self.depths = depths
        let maxDepth = depths.max() ?? 0
        var byDepth = [[Int]](repeating: [], count: maxDepth + 1)
        for (i, d) in depths.enumerated() { byDepth[d].append(i) }
        levels = (0..<maxDepth).compactMap { d in byDepth[d].count > 1 ? Level(depth: d, classes: byDepth[d]) : nil }
    }

    /// A tree from MIIL's fields: `classTreeList[i]` is class `i` followed by its ancestors up to a root. Each
    /// list must start with its own class and agree with its parent's list (`list[1...] == classTreeList[list[1]]`).
    public init(
        classList: [String], classDescription: [String: String], classTreeList: [[Int]],
        source: String? = nil
    ) throws {
        func fail(_ field: String, _ message: String) -> TResNetError {
            TResNetError(.malformed, format: Self.format, at: .field(field), message, file: source)
        }
        let n = classList.count
        guard classTreeList.count == n else {
            throw fail("class_tree_list", "has \(classTreeList.count) entries but class_list has \(n) classes")
        }
        var parents: [Int?] = []
        parents.reserveCapacity(n)
        for (i, list) in classTreeList.enumerated() {
            let field = "class_tree_list[\(i)]"
            guard let first = list.first else { throw fail(field, "is empty (it must start with \(i))") }
            for c in list where !(0..<n).contains(c) {
                throw fail(field, "index \(c) is out of range (0…\(n - 1))")
            }
            guard first == i else { throw fail(field, "starts with \(first), not with its own class \(i)") }
            if list.indices.contains(where: { k in list[(k + 1)...].contains(list[k]) }) {  // lists are short
                throw fail(field, "lists a class twice (a cycle): \(Self.shortList(list))")
            }
            if list.count > 1 {
                let parent = list[1]
                if classTreeList[parent].contains(i) {
                    throw fail(
                        field,
                        "ancestors form a cycle: parent \(parent)'s list "
                            + "\(Self.shortList(classTreeList[parent])) leads back to \(i)")
                }
                guard classTreeList[parent].elementsEqual(list[1...]) else {
                    throw fail(
                        field,
                        "\(Self.shortList(list)) disagrees with its parent's list class_tree_list[\(parent)] = "
                            + Self.shortList(classTreeList[parent]))
                }
                parents.append(parent)
            } else {
                parents.append(nil)
            }
        }
        try self.init(
            synsets: classList, descriptions: classList.map { classDescription[$0] ?? $0 }, parents: parents,
            source: source)
    }

    static func shortList(_ list: [Int]) -> String {
        "[" + list.prefix(12).map(String.init).joined(separator: ", ") + (list.count > 12 ? ", …" : "") + "]"
    }

    /// Class `i` and its ancestors up to its root (`class_tree_list[i]`).
    public func ancestry(of i: Int) -> [Int] {
        var out = [i]
        var c = i
        while let p = parents[c] {
            out.append(p)
            c = p
        }
        return out
    }

    /// Refuses a tree whose class count differs from the head's (the error names `source`, else the tree's file).
    public func check(numClasses: Int, source: String? = nil) throws {
        let source = source ?? self.source
        guard count == numClasses else {
            throw TResNetError(
                .malformed, format: Self.format, at: .field("class_list"),
                "the tree has \(count) classes but the model's head has \(numClasses) outputs",
                file: source)
        }
    }

    // MARK: - inference

    /// A level's most probable class under the level's own softmax.
    public struct LevelTop: Sendable, Hashable {
        public let depth: Int
        public let classIndex: Int
        public let probability: Double
    }

    /// For one logit row: per level, the argmax class (ties: the lower index) and its softmax probability within
    /// the level (computed in f64 with the level's maximum subtracted).
    public func levelTops(_ logits: [Float]) -> [LevelTop] {
        levels.map { level in
            var best = level.classes[0]
            var m = logits[best]
            for c in level.classes.dropFirst() where logits[c] > m {
                m = logits[c]
                best = c
            }
            var sum = 0.0
            let md = Double(m)
            for c in level.classes { sum += Foundation.exp(Double(logits[c]) - md) }
            return LevelTop(depth: level.depth, classIndex: best, probability: 1 / sum)
        }
    }

    /// The semantic labels of one logit row, coarse to fine: each level's top class when its probability within
    /// the level exceeds `threshold` (0.5, as MIIL's inference script).
    public func labels(_ logits: [Float], threshold: Double = 0.5) -> [SemanticLabel] {
        levelTops(logits).filter { $0.probability > threshold }.map {
            SemanticLabel(
                level: $0.depth, classIndex: $0.classIndex, synset: synsets[$0.classIndex],
                description: descriptions[$0.classIndex], probability: $0.probability)
        }
    }

    /// Per level, the class the image of class `target` should be assigned: its ancestor (or itself) at that
    /// level's depth, nil when it has none there (a class shallower than the level).
    public func levelTargets(of target: Int) -> [Int?] {
        let chain = ancestry(of: target)  // chain[k] has depth chain.count - 1 - k
        return levels.map { level in
            let k = chain.count - 1 - level.depth
            return k >= 0 ? chain[k] : nil
        }
    }

    /// Semantic accuracy counts for one logit row of an image of class `target`.
    public func score(_ logits: [Float], target: Int) -> SemanticScore {
        var s = SemanticScore()
        let tops = levelTops(logits)
        for (top, want) in zip(tops, levelTargets(of: target)) {
            guard let want else { continue }
            s.valid += 1
            if top.classIndex == want { s.correct += 1 }
        }
        return s
    }
}

/// One level's label for an image.
public struct SemanticLabel: Codable, Sendable, Hashable {
    /// The level's depth in the hierarchy (0 = the coarsest).
    public let level: Int
    public let classIndex: Int
    public let synset: String
    public let description: String
    /// Softmax probability within the level.
    public let probability: Double

    enum CodingKeys: String, CodingKey {
        case level, synset, description, probability
        case classIndex = "class_index"
    }
}

/// Semantic accuracy: (image, level) pairs where the target has an ancestor at the level (`valid`) and where the
/// level's argmax is that ancestor (`correct`).
public struct SemanticScore: Codable, Sendable, Hashable {
    public var correct = 0
    public var valid = 0

    public init() {}

    /// Percent of valid pairs, nil when there are none.
    public var accuracy: Double? { valid == 0 ? nil : 100 * Double(correct) / Double(valid) }

    public static func += (a: inout SemanticScore, b: SemanticScore) {
        a.correct += b.correct
        a.valid += b.valid
    }
}
