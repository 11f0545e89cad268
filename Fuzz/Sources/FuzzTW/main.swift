import FuzzSupport

/// The input with its header checksum recomputed (FORMAT.md: XXH64 of the index region seeded with XXH64 of the
/// header's first 56 bytes), so the metadata and index parsers behind the checksum are fuzzed too; nil when the
/// declared lengths do not fit the input.
func resealed(_ store: ByteStore) -> ByteStore? {
    let b = store.bytes
    guard b.count >= TWLayout.headerLength else { return nil }
    let ml = b.loadUnaligned(fromByteOffset: 32, as: UInt64.self).littleEndian
    let il = b.loadUnaligned(fromByteOffset: 40, as: UInt64.self).littleEndian
    guard ml < 1 << 40, il < 1 << 40, TWLayout.headerLength + Int(ml) + Int(il) <= b.count else { return nil }
    let end = TWLayout.headerLength + Int(ml) + Int(il)
    let seed = XXH64.hash(UnsafeRawBufferPointer(rebasing: b[0..<TWLayout.checksumFieldOffset]))
    let sum = XXH64.hash(UnsafeRawBufferPointer(rebasing: b[TWLayout.headerLength..<end]), seed: seed)
    var copy = Array(b)
    withUnsafeBytes(of: sum.littleEndian) { for i in 0..<8 { copy[TWLayout.checksumFieldOffset + i] = $0[i] } }
    return ByteStore.copying(copy)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTW(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        do {
            let file = try TWFile(store: store, path: "fuzz.tw", verifyChecksums: true)
            Fuzz.touch(try file.stateDict())
        } catch is TResNetError {}
        if let sealed = resealed(store) {
            let file = try TWFile(store: sealed, path: "fuzz.tw", verifyChecksums: false)
            Fuzz.touch(try file.stateDict())
            try file.verifyChecksums()
        }
    }
}

/// `FuzzTW --write-seed PATH` writes a small valid `.tw` (three tensors, typed metadata) with TWWriter, for the
/// seed corpus; otherwise libFuzzer runs.
@_cdecl("FuzzTW_main")
public func fuzzTWMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if argc == 3, let flag = argv?[1], String(cString: flag) == "--write-seed", let path = argv?[2] {
        func tensor(_ shape: [Int]) -> Tensor {
            let n = shape.reduce(1, *)
            let values = (0..<n).map { Float($0) * 0.5 - 1 }
            return Tensor(
                dtype: .float32, shape: shape, data: ByteSlice(store: values.withUnsafeBytes { ByteStore.copying($0) }))
        }
        do {
            try TWWriter.write(
                [
                    ("body.conv1.conv.weight", tensor([2, 3, 1, 1])), ("body.conv1.bn.weight", tensor([3])),
                    ("head.fc.bias", tensor([]))
                ],
                metadata: [
                    "arch.layers": .ints([1, 1]), "arch.variant": .string("seed"),
                    "preprocess.crop_pct": .double(0.875)
                ],
                to: String(cString: path), overwrite: true)
            return 0
        } catch {
            print("\(error)")
            return 1
        }
    }
    return Fuzz.drive(argc, argv, fuzzTW)
}
