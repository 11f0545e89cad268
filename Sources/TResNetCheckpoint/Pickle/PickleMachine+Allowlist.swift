import TResNetCore

/// The allowlist: what REDUCE, NEWOBJ, BUILD and BINPERSID may do (docs/READERS.md, mirroring the rebuild
/// functions of torch/_utils.py and the persistent_load of torch/serialization.py). Everything else is refused
/// naming the global.
extension PickleMachine {
    func globalName(_ node: Int) -> (module: String, name: String)? {
        if case .global(let m, let n) = arena.nodes[node] { return (m, n) }
        return nil
    }

    func disallowed(_ op: PickleOpcode, _ node: Int) -> TResNetError {
        if let (m, n) = globalName(node) {
            let why = PickleDenylist.reason(module: m, name: n).map { " (a code-execution primitive: \($0))" } ?? ""
            return fail(
                .disallowedGlobal, "\(op.name) calls disallowed global '\(displaySafe(m)).\(displaySafe(n))'\(why)")
        }
        return fail(.unsupported, "\(op.name) on a \(arena.kind(node)), which is not callable")
    }

    func tupleItems(_ node: Int, _ what: String) throws -> [Int] {
        if case .tuple(let items) = arena.nodes[node] { return items }
        throw fail("\(what) must be a tuple, got \(arena.kind(node))")
    }

    func intValue(_ node: Int, _ what: String) throws -> Int {
        if case .int(let v) = arena.nodes[node], let i = Int(exactly: v) { return i }
        if case .bigInt = arena.nodes[node] { throw fail(.sizeOverflow, "\(what) does not fit in 64 bits") }
        throw fail("\(what) must be an int, got \(arena.kind(node))")
    }

    func intTuple(_ node: Int, _ what: String) throws -> [Int] {
        let items = try tupleItems(node, what)
        guard items.count <= limits.maxRank else {
            throw fail(.limitExceeded, "\(what) has more than \(limits.maxRank) dimensions")
        }
        return try items.map { try intValue($0, what) }
    }

    /// REDUCE: only the rebuild functions and containers of docs/READERS.md.
    mutating func call(_ callable: Int, _ argsNode: Int, _ op: PickleOpcode) throws -> Int {
        guard let (module, name) = globalName(callable) else { throw disallowed(op, callable) }
        let args = try tupleItems(argsNode, "\(op.name) arguments")
        switch (module, name) {
        case ("torch._utils", "_rebuild_tensor_v2"):
            guard args.count == 6 || args.count == 7 else {
                throw fail("_rebuild_tensor_v2 takes 6 or 7 arguments, got \(args.count)")
            }
            if args.count == 7 { try requireEmptyMetadata(args[6]) }
            return try rebuildTensor(args, dtypeNode: nil)
        case ("torch._utils", "_rebuild_tensor_v3"):
            guard args.count == 7 || args.count == 8 else {
                throw fail("_rebuild_tensor_v3 takes 7 or 8 arguments, got \(args.count)")
            }
            if args.count == 8 { try requireEmptyMetadata(args[7]) }
            return try rebuildTensor(args, dtypeNode: args[6])
        case ("torch._utils", "_rebuild_tensor"):
            guard args.count == 4 else { throw fail("_rebuild_tensor takes 4 arguments, got \(args.count)") }
            return try rebuildTensor(args, dtypeNode: nil)
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard args.count >= 3, args.count <= 4, case .tensor = arena.nodes[args[0]] else {
                throw fail("\(name) needs (tensor, requires_grad, hooks[, state])")
            }
            return args[0]
        case ("torch._tensor", "_rebuild_from_type_v2"):
            guard args.count == 4 else { throw fail("_rebuild_from_type_v2 takes 4 arguments, got \(args.count)") }
            return try call(args[0], args[2], op)
        case ("collections", "OrderedDict"):
            let d = try newDict(ordered: true)
            if let first = args.first {
                guard args.count == 1, case .list(let l) = arena.nodes[first] else {
                    throw fail("OrderedDict(...) arguments must be empty or one list of pairs")
                }
                for pair in arena.lists[l] {
                    let kv = try tupleItems(pair, "OrderedDict item")
                    guard kv.count == 2 else { throw fail("OrderedDict item must be a pair") }
                    try setItems(dictNode: d, kv, op)
                }
            }
            return d
        case ("_codecs", "encode"):
            guard args.count == 2, let s = arena.string(args[0]) else {
                throw fail("_codecs.encode needs (str, encoding)")
            }
            let encoding = arena.string(args[1]) ?? ""
            guard encoding == "latin1" || encoding == "latin-1" else {
                throw fail(.unsupported, "_codecs.encode with encoding '\(displaySafe(encoding))'")
            }
            var out: [UInt8] = []
            for scalar in s.unicodeScalars {
                guard scalar.value < 256 else { throw fail("_codecs.encode: character outside latin-1") }
                out.append(UInt8(scalar.value))
            }
            return try add(.bytes(out))
        case ("builtins", "set"), ("__builtin__", "set"), ("builtins", "frozenset"), ("__builtin__", "frozenset"):
            guard args.count <= 1 else { throw fail("\(name)() takes at most one list") }
            guard let first = args.first else { return try newList([], set: true) }
            switch arena.nodes[first] {
            case .list(let l), .set(let l): return try newList(arena.lists[l], set: true)
            case .tuple(let items): return try newList(items, set: true)
            default: throw fail("\(name)() of a \(arena.kind(first))")
            }
        case ("builtins", "bytearray"), ("__builtin__", "bytearray"):
            guard args.count <= 1 else { throw fail("bytearray() takes at most one argument") }
            guard let first = args.first else { return try add(.bytes([])) }
            guard case .bytes = arena.nodes[first] else { throw fail("bytearray() of a \(arena.kind(first))") }
            return first
        case ("torch", "device"):
            // torch.device('cuda', 0) → the text 'cuda:0'; only informational.
            guard (1...2).contains(args.count), let type = arena.string(args[0]) else {
                throw fail("torch.device needs a string")
            }
            if args.count == 2, case .int(let index) = arena.nodes[args[1]] {
                return try add(.string("\(type):\(index)"))
            }
            return try add(.string(type))
        case ("torch", "Size"):
            guard args.count <= 1 else { throw fail("torch.Size takes one tuple") }
            if let size = args.first { return size }
            return try newTuple([])
        default:
            try requireInert(op, callable)
            if let value = NumPyValues.decode(module: module, name: name, args: args, in: arena) {
                return try add(value)
            }
            if (module == "copyreg" || module == "copy_reg"), name == "_reconstructor", let cls = args.first,
                let (m, n) = globalName(cls)
            {
                // Protocol 0/1 instances: copyreg._reconstructor(cls, base, state) → an instance of cls.
                try requireInert(op, cls)
                return try opaque(module: m, name: n, op, argsNode)
            }
            return try opaque(module: module, name: name, op, argsNode)
        }
    }

    /// Refuses what must not become an opaque object: everything in strict mode; code-execution primitives and
    /// unknown tensor rebuild functions always.
    func requireInert(_ op: PickleOpcode, _ callable: Int) throws {
        guard let (module, name) = globalName(callable) else { throw disallowed(op, callable) }
        if strict || PickleDenylist.reason(module: module, name: name) != nil { throw disallowed(op, callable) }
        // A tensor layout this reader does not rebuild (sparse, quantized, subclasses): refuse, never hide it.
        if module == "torch._utils" || module == "torch._tensor" { throw disallowed(op, callable) }
    }

    /// A new opaque object node: the class name and its constructor arguments, never invoked.
    mutating func opaque(module: String, name: String, _ op: PickleOpcode, _ argsNode: Int) throws -> Int {
        arena.objects.append(PickleObject(module: module, name: name, builtBy: op.name, arguments: argsNode))
        return try add(.object(arena.objects.count - 1))
    }

    /// NEWOBJ: `collections.OrderedDict`; any other class becomes an opaque object (refused in strict mode).
    mutating func construct(_ cls: Int, _ argsNode: Int, _ op: PickleOpcode) throws -> Int {
        guard let (module, name) = globalName(cls), module == "collections", name == "OrderedDict" else {
            do { try requireInert(op, cls) } catch var error as TResNetError {
                error.message += " (the file pickles Python objects; save model.state_dict() instead)"
                throw error
            }
            let (module, name) = globalName(cls)!
            _ = try tupleItems(argsNode, "\(op.name) arguments")
            return try opaque(module: module, name: name, op, argsNode)
        }
        _ = try tupleItems(argsNode, "\(op.name) arguments")
        return try newDict(ordered: true)
    }

    /// BUILD: on a dict it records an attribute state (e.g. `_metadata`), never merged into the items; on a
    /// tensor the Python attributes are ignored; on an opaque object the state is kept. Anything else is refused.
    mutating func build(_ target: Int, state: Int, _ op: PickleOpcode) throws {
        switch arena.nodes[target] {
        case .dict(let d): arena.dicts[d].attributes.append(state)
        case .object(let o):
            arena.objects[o].states.append(state)
            if let values = NumPyValues.array(arena.objects[o], state: state, in: arena) {
                // A small NumPy array: the node becomes the list of its values (memo references follow it).
                var items: [Int] = []
                for v in values { items.append(try add(v)) }
                arena.lists.append(items)
                arena.nodes[target] = .list(arena.lists.count - 1)
                arena.objects[o].decoded = true
            }
        case .tensor: break
        case .global: throw disallowed(op, target)
        default: throw fail(.unsupported, "BUILD on a \(arena.kind(target))")
        }
    }

    func requireEmptyMetadata(_ node: Int) throws {
        if case .none = arena.nodes[node] { return }
        if let d = arena.dict(node), d.count == 0 { return }
        throw fail(.unsupported, "tensor metadata (conjugate/negative bits) is not supported")
    }

    mutating func rebuildTensor(_ args: [Int], dtypeNode: Int?) throws -> Int {
        guard case .storage(let storage) = arena.nodes[args[0]] else {
            throw fail("tensor rebuild needs a storage, got \(arena.kind(args[0]))")
        }
        let offset = try intValue(args[1], "storage offset")
        let shape = try intTuple(args[2], "tensor size")
        let strides = try intTuple(args[3], "tensor stride")
        guard shape.count == strides.count else {
            throw fail("tensor size has \(shape.count) dimensions but stride has \(strides.count)")
        }
        guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw fail("negative storage offset, size or stride")
        }
        let dtype: DType
        if let dtypeNode {
            guard let (m, n) = globalName(dtypeNode), m == "torch" else {
                throw fail("tensor dtype must be a torch dtype global, got \(arena.kind(dtypeNode))")
            }
            guard let d = DType(rawValue: n) else {
                throw fail(.unsupported, "dtype torch.\(displaySafe(n)) is not supported")
            }
            dtype = d
        } else {
            guard let d = storage.dtype else {
                throw fail("\(storage.className) needs _rebuild_tensor_v3 with an explicit dtype")
            }
            dtype = d
        }
        if let sd = storage.dtype, sd != dtype {
            throw fail("tensor dtype \(dtype.rawValue) does not match its \(storage.className)")
        }
        return try add(
            .tensor(
                TensorRef(
                    storage: storage, dtype: dtype, storageOffset: offset, shape: shape,
                    strides: strides)))
    }

    // MARK: - persistent ids

    func persistentStorage(_ pid: Int) throws -> StorageRef {
        let items = try tupleItems(pid, "persistent id")
        let expected = style == .zip ? 5 : 6
        guard items.count == expected, arena.string(items[0]) == "storage" else {
            throw fail("persistent id must be a \(expected)-tuple starting with 'storage'")
        }
        guard let (module, className) = globalName(items[1]), module == "torch" || module == "torch.storage" else {
            throw fail("persistent id storage type must be a torch storage class, got \(arena.kind(items[1]))")
        }
        guard let key = arena.string(items[2]) else { throw fail("storage key must be a string") }
        let location = arena.string(items[3]) ?? ""
        let numel = try intValue(items[4], "storage numel")
        guard numel >= 0 else { throw fail("storage '\(displaySafe(key))' numel \(numel) is negative") }
        let dtype: DType?
        if className == "UntypedStorage" {
            dtype = nil
        } else {
            guard let d = Self.storageClasses[className] else {
                throw fail(.unsupported, "storage class torch.\(displaySafe(className)) is not supported")
            }
            dtype = d
        }
        guard let byteCount = Checked.multiply(numel, dtype?.byteSize ?? 1) else {
            throw fail(.sizeOverflow, "storage '\(displaySafe(key))' size overflows")
        }
        var ref = StorageRef(
            key: key, className: className, dtype: dtype, numel: numel, byteCount: byteCount,
            location: location, view: nil)
        if style == .legacy, case .tuple(let view) = arena.nodes[items[5]] {
            guard view.count == 3 else { throw fail("legacy storage view must be (key, offset, numel)") }
            let viewOffset = try intValue(view[1], "storage view offset")
            let viewNumel = try intValue(view[2], "storage view numel")
            guard viewOffset >= 0, viewNumel >= 0 else { throw fail("negative storage view") }
            ref.view = (viewOffset, viewNumel)
        } else if style == .legacy, !(arena.nodes[items[5]].isNone) {
            throw fail("legacy storage view must be None or a tuple")
        }
        return ref
    }

    /// Typed storage classes (docs/READERS.md).
    static let storageClasses: [String: DType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool, "ComplexFloatStorage": .complex64,
        "ComplexDoubleStorage": .complex128
    ]
}
