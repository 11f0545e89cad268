import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        for (_, tensor) in try NpzArchive.read(store, path: "fuzz.npz") {
            var sum: UInt8 = 0
            for b in tensor.data.bytes { sum &+= b }
            Fuzz.blackHole(sum)
        }
    }
}

@_cdecl("FuzzNpz_main")
public func fuzzNpzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzNpz)
}
