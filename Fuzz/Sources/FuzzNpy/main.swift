import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        let tensor = try NpyArray.read(ByteSlice(store: store), name: "fuzz.npy")
        var sum: UInt8 = 0
        for b in tensor.data.bytes { sum &+= b }
        Fuzz.blackHole(sum)
        if tensor.dtype.isFloatingPoint { Fuzz.blackHole(try tensor.floats()) }
    }
}

@_cdecl("FuzzNpy_main")
public func fuzzNpyMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzNpy)
}
