import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTW(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        let file = try TWFile(store: store, path: "fuzz.tw", verifyChecksums: true)
        Fuzz.touch(try file.stateDict())
    }
}

@_cdecl("FuzzTW_main")
public func fuzzTWMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzTW)
}
