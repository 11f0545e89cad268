import TResNetCore

/// NumPy scalars as training code pickles them (`metric` = `numpy.float64(0.87)` in timm's checkpoints):
/// `numpy.core.multiarray.scalar(numpy.dtype('f8', False, True) + BUILD state, raw bytes)` decodes to a plain
/// number. The dtype itself stays an opaque `numpy.dtype` object; anything not decodable (big-endian, strings,
/// structured dtypes, arrays from `_reconstruct`) stays opaque, still inert.
enum NumPyValues {
    static let scalarModules: Set<String> = ["numpy.core.multiarray", "numpy._core.multiarray"]

    /// Arrays up to this many elements decode to a list of values; larger ones stay opaque.
    static let maxArrayElements = 4096

    /// The decoded value, or nil when `module.name(args)` is not a decodable NumPy scalar.
    static func decode(module: String, name: String, args: [Int], in arena: PickleArena) -> PickleArena.Node? {
        guard scalarModules.contains(module), name == "scalar", args.count == 2,
            let code = dtypeCode(args[0], in: arena), case .bytes(let raw) = arena[args[1]]
        else { return nil }
        return value(code, raw[...])
    }

    /// The little-endian type code (`f8`, `i4`, …) of a `numpy.dtype` object node, nil for anything else.
    static func dtypeCode(_ node: Int, in arena: PickleArena) -> String? {
        guard let dtype = arena.object(node), dtype.qualifiedName == "numpy.dtype",
            case .tuple(let dtypeArgs) = arena[dtype.arguments],
            let code = dtypeArgs.first.flatMap({ arena.string($0) })
        else { return nil }
        // Byte order from the BUILD state (version, order, …): little-endian or not applicable only.
        if let state = dtype.states.last, case .tuple(let items) = arena[state], items.count > 1,
            let order = arena.string(items[1]), order == ">"
        {
            return nil
        }
        return code
    }

    /// A small array (`numpy.core.multiarray._reconstruct` + BUILD state `(version, shape, dtype, fortran,
    /// raw bytes)`) as its values in order, nil when it is not one this decodes (then it stays opaque).
    static func array(_ object: PickleObject, state: Int, in arena: PickleArena) -> [PickleArena.Node]? {
        guard scalarModules.contains(object.module), object.name == "_reconstruct",
            case .tuple(let items) = arena[state], items.count == 5,
            case .tuple(let shapeNodes) = arena[items[1]], let code = dtypeCode(items[2], in: arena),
            case .bytes(let raw) = arena[items[4]], let width = Int(code.dropFirst()), width > 0
        else { return nil }
        var count = 1
        for s in shapeNodes {
            guard case .int(let d) = arena[s], d >= 0, d <= maxArrayElements else { return nil }
            count *= Int(d)
            guard count <= maxArrayElements else { return nil }
        }
        // Fortran order matters only with two or more dimensions of size > 1.
        if case .bool(true) = arena[items[3]], shapeNodes.count > 1 { return nil }
        guard raw.count == count * width else { return nil }
        var out: [PickleArena.Node] = []
        for i in 0..<count {
            guard let v = value(code, raw[(i * width)..<((i + 1) * width)]) else { return nil }
            out.append(v)
        }
        return out
    }

    /// One little-endian element of type `code`.
    static func value(_ code: String, _ raw: ArraySlice<UInt8>) -> PickleArena.Node? {
        let raw = Array(raw)
        func le(_ n: Int) -> UInt64? {
            guard raw.count == n else { return nil }
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return v
        }
        func signed(_ v: UInt64, _ n: Int) -> Int64 {
            let shift = UInt64(64 - 8 * n)
            return Int64(bitPattern: v << shift) >> Int64(shift)
        }
        switch code {
        case "f8": return le(8).map { .float(Double(bitPattern: $0)) }
        case "f4": return le(4).map { .float(Double(Float(bitPattern: UInt32($0)))) }
        case "f2": return le(2).map { .float(Double(Float(half: UInt16($0)))) }
        case "i8", "i4", "i2", "i1":
            let n = Int(code.dropFirst())!
            return le(n).map { .int(signed($0, n)) }
        case "u4", "u2", "u1":
            let n = Int(code.dropFirst())!
            return le(n).map { .int(Int64($0)) }
        case "u8": return le(8).flatMap { Int64(exactly: $0) }.map { .int($0) }
        case "b1": return le(1).map { .bool($0 != 0) }
        default: return nil
        }
    }
}
