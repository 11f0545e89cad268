import TResNetCore

/// A storage named by a pickle persistent id: `('storage', StorageClass, key, location, numel)` (zip) or the
/// legacy 6-tuple with view metadata. Nothing here has touched any bytes yet.
public struct StorageRef: Sendable, Equatable {
    /// The record key (`data/<key>` in a zip, the root key in a legacy stream).
    public var key: String
    /// The storage class name (`FloatStorage`, `UntypedStorage`, …), for messages.
    public var className: String
    /// The element type of a typed storage; nil for `UntypedStorage` (whose unit is the byte).
    public var dtype: DType?
    /// Declared element count of the whole storage in the storage's unit (bytes for `UntypedStorage`).
    public var numel: Int
    /// Declared byte length of the whole storage record (numel × element size, checked).
    public var byteCount: Int
    public var location: String
    /// Legacy storage views: element offset and element count inside the root storage.
    public var view: (offset: Int, numel: Int)?

    public static func == (a: StorageRef, b: StorageRef) -> Bool {
        a.key == b.key && a.className == b.className && a.numel == b.numel && a.view?.offset == b.view?.offset
            && a.view?.numel == b.view?.numel
    }
}

/// A tensor as the pickle describes it: a strided view (in elements) of a storage. Validated and materialised
/// by the container reader once the storage bytes are known.
public struct TensorRef: Sendable {
    public var storage: StorageRef
    public var dtype: DType
    public var storageOffset: Int
    public var shape: [Int]
    public var strides: [Int]
}

/// A key of a pickled dict that can be compared (strings, ints, bools, None).
public enum PickleKey: Hashable, Sendable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case none
}

/// A pickled `dict` / `OrderedDict`: items in insertion order plus the attribute states BUILD set on it
/// (`_metadata` for state dicts), which are *not* items.
public struct PickleDict: Sendable {
    public var ordered: Bool
    public private(set) var keys: [Int] = []
    public private(set) var values: [Int] = []
    /// States applied by BUILD (node indices), in order.
    public var attributes: [Int] = []
    private var index: [PickleKey: Int] = [:]

    init(ordered: Bool) { self.ordered = ordered }

    public var count: Int { keys.count }

    /// Sets `key` → `value` like Python: replaces the value of an equal hashable key, else appends.
    mutating func set(key: Int, value: Int, hashKey: PickleKey?) {
        if let hashKey {
            if let at = index[hashKey] {
                values[at] = value
                return
            }
            index[hashKey] = keys.count
        }
        keys.append(key)
        values.append(value)
    }
}

/// The inert value tree a pickle describes: an arena of nodes addressed by index. Containers live in side
/// tables so they are shared by reference (a memo reference is an index, never a copy) and mutable in place.
public struct PickleArena: Sendable {
    public enum Node: Sendable {
        case none
        case bool(Bool)
        case int(Int64)
        /// An integer wider than 64 bits (LONG1/LONG4 with more than 8 bytes), kept opaque:
        /// little-endian two's-complement bytes.
        case bigInt([UInt8])
        case float(Double)
        case string(String)
        case bytes([UInt8])
        case tuple([Int])
        /// Index into `lists`.
        case list(Int)
        /// Index into `lists` (a Python set or frozenset; order is the file's).
        case set(Int)
        /// Index into `dicts`.
        case dict(Int)
        /// A name from GLOBAL / STACK_GLOBAL: only a symbol, never imported.
        case global(module: String, name: String)
        case storage(StorageRef)
        case tensor(TensorRef)
        /// Index into `objects`: an instance of a class the reader does not know, kept inert (never constructed).
        case object(Int)
    }

    public internal(set) var nodes: [Node] = []
    public internal(set) var lists: [[Int]] = []
    public internal(set) var dicts: [PickleDict] = []
    public internal(set) var objects: [PickleObject] = []

    /// The opaque object a node is, if it is one.
    public func object(_ node: Int) -> PickleObject? {
        if case .object(let o) = nodes[node] { return objects[o] }
        return nil
    }

    /// The distinct `module.qualname` of every opaque object, sorted.
    public var opaqueClasses: [String] {
        Array(Set(objects.filter { !$0.decoded }.map(\.qualifiedName))).sorted()
    }

    public init() {}

    public subscript(_ i: Int) -> Node { nodes[i] }

    /// The dict a node is, if it is one.
    public func dict(_ node: Int) -> PickleDict? {
        if case .dict(let d) = nodes[node] { return dicts[d] }
        return nil
    }

    public func string(_ node: Int) -> String? {
        if case .string(let s) = nodes[node] { return s }
        return nil
    }

    public func tensor(_ node: Int) -> TensorRef? {
        if case .tensor(let t) = nodes[node] { return t }
        return nil
    }

    /// The comparable key of a node, nil for unhashable / uncomparable kinds.
    public func hashKey(_ node: Int) -> PickleKey? {
        switch nodes[node] {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .bool(let b): return .bool(b)
        case .none: return PickleKey.none
        default: return nil
        }
    }

    /// A short, display-safe description of a node (`int 12`, `dict (3 entries)`), for reports.
    public func summary(_ node: Int) -> String {
        switch nodes[node] {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return "int \(i)"
        case .bigInt(let raw): return "int (\(raw.count)-byte)"
        case .float(let f): return "float \(f)"
        case .string(let s): return "str '\(displaySafe(s, limit: 40))'"
        case .bytes(let b): return "bytes (\(b.count))"
        case .tuple(let items): return "tuple (\(items.count) items)"
        case .list(let l): return "list (\(lists[l].count) items)"
        case .set(let l): return "set (\(lists[l].count) items)"
        case .dict(let d): return "\(dicts[d].ordered ? "OrderedDict" : "dict") (\(dicts[d].count) entries)"
        case .global(let m, let n): return "global \(displaySafe(m)).\(displaySafe(n))"
        case .storage(let s): return "storage \(s.className) '\(displaySafe(s.key))'"
        case .tensor(let t): return "tensor \(t.dtype.shortName) \(formatShape(t.shape))"
        case .object(let o): return "object \(displaySafe(objects[o].qualifiedName))"
        }
    }

    /// The kind of a node in one word, for messages.
    public func kind(_ node: Int) -> String {
        switch nodes[node] {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .set: return "set"
        case .dict: return "dict"
        case .global(let m, let n): return "global '\(displaySafe(m)).\(displaySafe(n))'"
        case .storage: return "storage"
        case .tensor: return "tensor"
        case .object(let o): return "object '\(displaySafe(objects[o].qualifiedName))'"
        }
    }

    /// Every tensor reachable from `root`, named by dotted path (`a.0.b`), depth-first in file order.
    ///
    /// Shared sub-graphs are walked each time they are reached, so the walk is budgeted: a memo DAG that would
    /// expand beyond `budget` visits (a "billion laughs" pickle) is refused with `.limitExceeded`, never expanded.
    public func flattenTensors(from root: Int, budget: Int = 10_000_000, maxDepth: Int = 256) throws
        -> [(name: String, tensor: TensorRef)]
    {
        var remaining = budget
        return try flattenTensors(from: root, remaining: &remaining, maxDepth: maxDepth)
    }

    /// `flattenTensors` drawing on a budget shared by several walks: `remaining` is reduced by the visits made.
    ///
    /// The walk keeps only the current path (list indices and dict key nodes) and spells a dotted name only for a
    /// tensor it finds, so a budgeted walk over a bomb costs no string work per visit.
    public func flattenTensors(from root: Int, remaining: inout Int, maxDepth: Int = 256) throws
        -> [(name: String, tensor: TensorRef)]
    {
        enum Part { case none, index(Int), key(Int) }
        let budget = remaining
        var out: [(name: String, tensor: TensorRef)] = []
        var visits = 0
        defer { remaining -= min(visits, remaining) }
        var work: [(node: Int, part: Part, depth: Int)] = [(root, .none, 0)]
        var path: [Part] = []
        /// Queues `children` so that they are walked first to last.
        func push(_ children: [Int], _ depth: Int, part: (Int) -> Part = { .index($0) }) {
            for i in children.indices.reversed() { work.append((children[i], part(i), depth)) }
        }
        func spell(_ part: Part) -> String {
            switch part {
            case .none: return ""
            case .index(let i): return String(i)
            case .key(let k):
                switch nodes[k] {
                case .string(let s): return s
                case .int(let i): return String(i)
                default: return "?"
                }
            }
        }
        while let (node, part, depth) = work.popLast() {
            visits += 1
            guard visits <= budget else {
                throw TResNetError(
                    .limitExceeded, format: "pickle",
                    "value graph expands beyond \(budget) more nodes (shared-reference bomb?)")
            }
            guard depth <= maxDepth else {
                throw TResNetError(.limitExceeded, format: "pickle", "value graph nests deeper than \(maxDepth)")
            }
            if depth > 0 {
                path.removeSubrange((depth - 1)...)
                path.append(part)
            }
            switch nodes[node] {
            case .tensor(let t): out.append((path.map(spell).joined(separator: "."), t))
            case .tuple(let items): push(items, depth + 1)
            case .list(let l), .set(let l): push(lists[l], depth + 1)
            case .dict(let d):
                let keys = dicts[d].keys
                push(dicts[d].values, depth + 1) { .key(keys[$0]) }
            case .object(let o):
                // An opaque object's parts, in the order they were given: constructor arguments, states, items.
                push(objects[o].parts, depth + 1)
            default: break
            }
        }
        return out
    }
}

/// An instance of a class the reader does not know (`argparse.Namespace`, `timm.models.tresnet.TResNet`, an
/// optimizer's scheduler, …): its class name, how the pickle would have built it and the state it would have
/// set, all as inert values. Nothing is imported, constructed or called.
public struct PickleObject: Sendable {
    public var module: String
    public var name: String
    /// The opcode that would have built it (`REDUCE`, `NEWOBJ`, `NEWOBJ_EX`).
    public var builtBy: String
    /// The constructor arguments (a tuple node).
    public var arguments: Int
    /// The states BUILD applied (usually one dict: the instance `__dict__`), in order.
    public var states: [Int] = []
    /// True when it was decoded into plain values (a small NumPy array): no longer listed as opaque.
    public var decoded = false
    /// Items SETITEM(S) / APPEND(S) added to it (dict or list subclasses): a dict node and a list node.
    public var dictItems: Int?
    public var listItems: Int?

    public var qualifiedName: String { module + "." + name }

    /// Every child node: arguments, states, items.
    public var parts: [Int] { [arguments] + states + [dictItems, listItems].compactMap { $0 } }

    /// The value of `key` in the last dict state that has it (the instance attribute `key`).
    public func attribute(_ key: String, in arena: PickleArena) -> Int? {
        for s in states.reversed() {
            if let d = arena.dict(s), let v = d.value(forKey: key, in: arena) { return v }
            // (state, slotstate) pairs: look into both dicts
            if case .tuple(let items) = arena[s] {
                for i in items { if let d = arena.dict(i), let v = d.value(forKey: key, in: arena) { return v } }
            }
        }
        return nil
    }
}

extension PickleDict {
    /// The value node under the string key `key`, if any.
    public func value(forKey key: String, in arena: PickleArena) -> Int? {
        guard let at = index[.string(key)] else { return nil }
        return values[at]
    }
}
