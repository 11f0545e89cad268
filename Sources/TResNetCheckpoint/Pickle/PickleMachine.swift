import TResNetCore

/// Resource limits for one pickle stream. Every one is checked before the work or allocation it bounds.
public struct PickleLimits: Sendable {
    /// Total nodes the arena may hold.
    public var maxNodes = 10_000_000
    /// Memo entries.
    public var maxMemo = 10_000_000
    /// Nesting of MARK frames and of tuples built from tuples.
    public var maxDepth = 256
    /// Bytes of one string / bytes object (also always bounded by the bytes remaining).
    public var maxStringBytes = 1 << 30
    /// Opcodes executed.
    public var maxOps = 100_000_000
    /// Dimensions of one tensor.
    public var maxRank = 64

    public init() {}
    public static let `default` = PickleLimits()
}

/// How BINPERSID ids are shaped: zip archives use 5-tuples, legacy streams 6-tuples with view metadata.
public enum PersistentIDStyle: Sendable {
    case zip
    case legacy
}

/// The result of running one pickle: the arena, the root node and the offset just after STOP.
public struct PickleResult: Sendable {
    public var arena: PickleArena
    public var root: Int
    /// Position (relative to the buffer given) of the first byte after STOP.
    public var end: Int
}

/// A pickle reader that cannot execute anything. It builds an inert `PickleArena`; GLOBAL and STACK_GLOBAL yield
/// names only, and REDUCE / NEWOBJ / BUILD are interpreted for a fixed allowlist of tensor rebuild functions and
/// containers (docs/READERS.md). Any other class or function becomes an opaque object node (its name, arguments
/// and state, never invoked), except code-execution primitives (`PickleDenylist`), which are refused with the
/// global's name and offset wherever they appear. In strict mode (`--strict-pickle`) every global outside the
/// allowlist is refused, as `torch.load(weights_only=True)` does.
public struct PickleMachine {
    public static let format = "pickle"

    var reader: ByteReader
    let style: PersistentIDStyle
    let limits: PickleLimits
    var arena = PickleArena()
    var stack: [Int] = []
    var marks: [Int] = []
    var memo: [Int: Int] = [:]
    var tupleDepth: [Int: Int] = [:]
    var opStart = 0
    var ops = 0
    /// Refuse every global outside the allowlist instead of keeping it as an opaque object.
    let strict: Bool
    /// The first code-execution primitive the stream names (refused at STOP if nothing refused it earlier).
    var denied: (name: String, offset: Int, reason: String)?

    /// Parses one pickle starting at `position` of `bytes`. `baseOffset` is the file offset of `bytes[0]` (for
    /// messages).
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, from position: Int = 0, baseOffset: Int = 0,
        style: PersistentIDStyle = .zip, limits: PickleLimits = .default,
        strict: Bool = false
    ) throws -> PickleResult {
        var machine = PickleMachine(
            reader: ByteReader(bytes, baseOffset: baseOffset, format: format), style: style,
            limits: limits, strict: strict)
        try machine.reader.seek(to: position)
        let root = try machine.run()
        return PickleResult(arena: machine.arena, root: root, end: machine.reader.position)
    }

    // MARK: - errors and arena

    func fail(_ code: TResNetError.Code, _ message: String) -> TResNetError {
        TResNetError(code, format: Self.format, at: .offset(opStart), message)
    }

    func fail(_ message: String) -> TResNetError { fail(.malformed, message) }

    mutating func add(_ node: PickleArena.Node) throws -> Int {
        guard arena.nodes.count < limits.maxNodes else {
            throw fail(.limitExceeded, "more than \(limits.maxNodes) values")
        }
        arena.nodes.append(node)
        return arena.nodes.count - 1
    }

    mutating func push(_ node: PickleArena.Node) throws { stack.append(try add(node)) }

    mutating func pop(_ op: PickleOpcode) throws -> Int {
        let t = try top(op)
        stack.removeLast()
        return t
    }

    mutating func popMark(_ op: PickleOpcode) throws -> [Int] {
        guard let m = marks.popLast() else { throw fail("\(op.name) without MARK") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func newList(_ items: [Int], set: Bool = false) throws -> Int {
        arena.lists.append(items)
        return try add(set ? .set(arena.lists.count - 1) : .list(arena.lists.count - 1))
    }

    mutating func newDict(ordered: Bool) throws -> Int {
        arena.dicts.append(PickleDict(ordered: ordered))
        return try add(.dict(arena.dicts.count - 1))
    }

    mutating func newTuple(_ items: [Int]) throws -> Int {
        let depth = 1 + items.reduce(0) { max($0, tupleDepth[$1] ?? 0) }
        guard depth <= limits.maxDepth else { throw fail(.limitExceeded, "tuples nest deeper than \(limits.maxDepth)") }
        let node = try add(.tuple(items))
        tupleDepth[node] = depth
        return node
    }

    mutating func memoPut(_ index: Int) throws {
        guard let top = stack.last, stack.count > (marks.last ?? 0) else { throw fail("memo store with empty stack") }
        if memo[index] == nil, memo.count >= limits.maxMemo {
            throw fail(.limitExceeded, "more than \(limits.maxMemo) memo entries")
        }
        memo[index] = top
    }

    mutating func memoGet(_ index: Int) throws {
        guard let node = memo[index] else { throw fail("memo entry \(index) is not defined") }
        stack.append(node)
    }

    // MARK: - argument readers

    mutating func length(_ raw: UInt64, _ what: String) throws -> Int {
        guard let n = Int(exactly: raw), n <= limits.maxStringBytes else {
            throw fail(.limitExceeded, "\(what) length \(raw) exceeds the \(limits.maxStringBytes)-byte limit")
        }
        try reader.need(n, what)
        return n
    }

    mutating func text(_ what: String) throws -> String {
        try reader.line(limit: 1 << 16, what)
    }

    mutating func textInt(_ what: String) throws -> Int {
        let t = try text(what)
        guard let v = Int(t.trimmingSuffix("L")) else { throw fail("\(what) '\(displaySafe(t))' is not an integer") }
        return v
    }

    mutating func long(_ n: Int) throws -> PickleArena.Node {
        let raw = try reader.bytes(n, "LONG bytes")
        if n == 0 { return .int(0) }
        if n > 8 { return .bigInt(Array(raw)) }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(raw[i]) << (8 * UInt64(i)) }
        if n < 8, raw[n - 1] & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }  // sign-extend
        return .int(Int64(bitPattern: v))
    }

    // MARK: - the loop

    mutating func run() throws -> Int {
        while true {
            opStart = reader.offset
            ops += 1
            guard ops <= limits.maxOps else { throw fail(.limitExceeded, "more than \(limits.maxOps) opcodes") }
            let byte = try reader.u8("opcode")
            guard let op = PickleOpcode(rawValue: byte) else {
                throw fail(.unsupported, "unknown opcode 0x\(String(byte, radix: 16, uppercase: true))")
            }
            switch op {
            case .proto:
                let v = try reader.u8("protocol")
                guard v <= 5 else { throw fail(.unsupported, "pickle protocol \(v) is not supported") }
            case .frame:
                _ = try reader.u64("frame length")
            case .stop:
                guard marks.isEmpty else { throw fail("STOP with an open MARK") }
                guard stack.count == 1 else { throw fail("STOP with \(stack.count) values on the stack, not 1") }
                if let denied {
                    throw TResNetError(
                        .disallowedGlobal, format: Self.format, at: .offset(denied.offset),
                        "the pickle names disallowed global '\(denied.name)', a code-execution primitive "
                            + "(\(denied.reason)); refused as hostile although nothing would call it here")
                }
                return stack[0]

            // constants
            case .none: try push(.none)
            case .newTrue: try push(.bool(true))
            case .newFalse: try push(.bool(false))
            case .binInt: try push(.int(Int64(try reader.i32("BININT"))))
            case .binInt1: try push(.int(Int64(try reader.u8("BININT1"))))
            case .binInt2: try push(.int(Int64(try reader.u16("BININT2"))))
            case .long1: try push(try long(Int(try reader.u8("LONG1 length"))))
            case .long4:
                let n = try reader.i32("LONG4 length")
                guard n >= 0 else { throw fail("LONG4 length \(n) is negative") }
                try push(try long(try length(UInt64(n), "LONG4")))
            case .binFloat: try push(.float(try reader.f64BigEndian("BINFLOAT")))
            case .int:
                let t = try text("INT")
                if t == "00" {
                    try push(.bool(false))
                } else if t == "01" {
                    try push(.bool(true))
                } else {
                    guard let v = Int64(t) else { throw fail("INT '\(displaySafe(t))' is not an integer") }
                    try push(.int(v))
                }
            case .long:
                let t = try text("LONG").trimmingSuffix("L")
                if let v = Int64(t) {
                    try push(.int(v))
                } else {
                    guard !t.isEmpty, t.drop(while: { $0 == "-" }).allSatisfy(\.isNumber) else {
                        throw fail("LONG '\(displaySafe(t))' is not an integer")
                    }
                    try push(.bigInt(Array(t.utf8)))
                }
            case .float:
                let t = try text("FLOAT")
                guard let v = Double(t) else { throw fail("FLOAT '\(displaySafe(t))' is not a number") }
                try push(.float(v))

            // strings and bytes
            case .binUnicode:
                let n = try length(UInt64(try reader.u32("BINUNICODE length")), "BINUNICODE")
                try push(.string(try reader.utf8(n, "BINUNICODE")))
            case .shortBinUnicode:
                let n = try length(UInt64(try reader.u8("SHORT_BINUNICODE length")), "SHORT_BINUNICODE")
                try push(.string(try reader.utf8(n, "SHORT_BINUNICODE")))
            case .binUnicode8:
                let n = try length(try reader.u64("BINUNICODE8 length"), "BINUNICODE8")
                try push(.string(try reader.utf8(n, "BINUNICODE8")))
            case .binString:
                let raw = try reader.i32("BINSTRING length")
                guard raw >= 0 else { throw fail("BINSTRING length \(raw) is negative") }
                let n = try length(UInt64(raw), "BINSTRING")
                try push(.string(latin1(try reader.bytes(n, "BINSTRING"))))
            case .shortBinString:
                let n = try length(UInt64(try reader.u8("SHORT_BINSTRING length")), "SHORT_BINSTRING")
                try push(.string(latin1(try reader.bytes(n, "SHORT_BINSTRING"))))
            case .binBytes:
                let n = try length(UInt64(try reader.u32("BINBYTES length")), "BINBYTES")
                try push(.bytes(Array(try reader.bytes(n, "BINBYTES"))))
            case .shortBinBytes:
                let n = try length(UInt64(try reader.u8("SHORT_BINBYTES length")), "SHORT_BINBYTES")
                try push(.bytes(Array(try reader.bytes(n, "SHORT_BINBYTES"))))
            case .binBytes8, .byteArray8:
                let n = try length(try reader.u64("\(op.name) length"), op.name)
                try push(.bytes(Array(try reader.bytes(n, op.name))))
            case .string:
                let t = try text("STRING")
                guard t.count >= 2, let q = t.first, q == "'" || q == "\"", t.last == q else {
                    throw fail("STRING argument is not quoted")
                }
                try push(.string(String(t.dropFirst().dropLast())))
            case .unicode:
                try push(.string(try text("UNICODE")))

            // containers
            case .mark:
                guard marks.count < limits.maxDepth else {
                    throw fail(.limitExceeded, "MARKs nest deeper than \(limits.maxDepth)")
                }
                marks.append(stack.count)
            case .pop:
                _ = try pop(op)
            case .popMark:
                _ = try popMark(op)
            case .dup:
                guard let top = stack.last, stack.count > (marks.last ?? 0) else { throw fail("DUP on an empty stack") }
                stack.append(top)
            case .emptyTuple: stack.append(try newTuple([]))
            case .tuple: stack.append(try newTuple(try popMark(op)))
            case .tuple1, .tuple2, .tuple3:
                let n = Int(op.rawValue - PickleOpcode.tuple1.rawValue) + 1
                guard stack.count - (marks.last ?? 0) >= n else { throw fail("stack underflow at \(op.name)") }
                let items = Array(stack.suffix(n))
                stack.removeLast(n)
                stack.append(try newTuple(items))
            case .emptyList: stack.append(try newList([]))
            case .list: stack.append(try newList(try popMark(op)))
            case .emptyDict: stack.append(try newDict(ordered: false))
            case .dict:
                let items = try popMark(op)
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
                let d = try newDict(ordered: false)
                try setItems(dictNode: d, items, op)
                stack.append(d)
            case .emptySet: stack.append(try newList([], set: true))
            case .frozenSet: stack.append(try newList(try popMark(op), set: true))
            case .appendItem:
                let v = try pop(op)
                try appendItems(to: try top(op), [v], op)
            case .appends:
                let items = try popMark(op)
                try appendItems(to: try top(op), items, op)
            case .addItems:
                let items = try popMark(op)
                let target = try top(op)
                guard case .set(let l) = arena.nodes[target] else {
                    throw fail("ADDITEMS onto a \(arena.kind(target)), not a set")
                }
                arena.lists[l].append(contentsOf: items)
            case .setItem:
                let v = try pop(op)
                let k = try pop(op)
                try setItems(dictNode: try top(op), [k, v], op)
            case .setItems:
                let items = try popMark(op)
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
                try setItems(dictNode: try top(op), items, op)

            // memo
            case .binPut: try memoPut(Int(try reader.u8("BINPUT index")))
            case .longBinPut: try memoPut(Int(try reader.u32("LONG_BINPUT index")))
            case .put: try memoPut(try textInt("PUT index"))
            case .memoize: try memoPut(memo.count)
            case .binGet: try memoGet(Int(try reader.u8("BINGET index")))
            case .longBinGet: try memoGet(Int(try reader.u32("LONG_BINGET index")))
            case .get: try memoGet(try textInt("GET index"))

            // names and calls
            case .global:
                let module = try text("GLOBAL module")
                let name = try text("GLOBAL name")
                noteGlobal(module, name)
                try push(.global(module: module, name: name))
            case .stackGlobal:
                let name = try pop(op)
                let module = try pop(op)
                guard let m = arena.string(module), let n = arena.string(name) else {
                    throw fail("STACK_GLOBAL needs two strings, got \(arena.kind(module)) and \(arena.kind(name))")
                }
                noteGlobal(m, n)
                try push(.global(module: m, name: n))
            case .reduce:
                let args = try pop(op)
                let callable = try pop(op)
                stack.append(try call(callable, args, op))
            case .newObj:
                let args = try pop(op)
                let cls = try pop(op)
                stack.append(try construct(cls, args, op))
            case .newObjEx:
                _ = try pop(op)  // kwargs
                let args = try pop(op)
                let cls = try pop(op)
                stack.append(try construct(cls, args, op))
            case .build:
                let state = try pop(op)
                try build(try top(op), state: state, op)
            case .binPersID:
                let pid = try pop(op)
                try push(.storage(try persistentStorage(pid)))

            // refused
            case .inst:
                let module = (try? text("INST module")) ?? "?"
                let name = (try? text("INST name")) ?? "?"
                throw TResNetError(
                    .unsupported, format: Self.format, at: .offset(opStart),
                    "unsupported opcode INST (would import and call '\(displaySafe(module)).\(displaySafe(name))')")
            case .obj, .ext1, .ext2, .ext4, .nextBuffer, .readonlyBuffer, .persID:
                throw fail(.unsupported, "unsupported opcode \(op.name)")
            }
        }
    }

    func top(_ op: PickleOpcode) throws -> Int {
        guard let t = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow at \(op.name)") }
        return t
    }

    func latin1(_ raw: UnsafeRawBufferPointer) -> String {
        String(decoding: raw.map { UInt16($0) }, as: UTF16.self)
    }

    /// Records the first code-execution primitive named, so it is refused even if never called.
    mutating func noteGlobal(_ module: String, _ name: String) {
        guard denied == nil, let reason = PickleDenylist.reason(module: module, name: name) else { return }
        denied = (displaySafe(module) + "." + displaySafe(name), opStart, reason)
    }

    mutating func appendItems(to target: Int, _ items: [Int], _ op: PickleOpcode) throws {
        if case .object(let o) = arena.nodes[target] {
            let list = try arena.objects[o].listItems ?? newList([])
            arena.objects[o].listItems = list
            return try appendItems(to: list, items, op)
        }
        guard case .list(let l) = arena.nodes[target] else {
            throw fail("\(op.name) onto a \(arena.kind(target)), not a list")
        }
        arena.lists[l].append(contentsOf: items)
    }

    mutating func setItems(dictNode: Int, _ items: [Int], _ op: PickleOpcode) throws {
        if case .object(let o) = arena.nodes[dictNode] {
            let dict = try arena.objects[o].dictItems ?? newDict(ordered: true)
            arena.objects[o].dictItems = dict
            return try setItems(dictNode: dict, items, op)
        }
        guard case .dict(let d) = arena.nodes[dictNode] else {
            throw fail("\(op.name) onto a \(arena.kind(dictNode)), not a dict")
        }
        var i = 0
        while i + 1 < items.count {
            arena.dicts[d].set(key: items[i], value: items[i + 1], hashKey: arena.hashKey(items[i]))
            i += 2
        }
    }
}

extension PickleArena.Node {
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
