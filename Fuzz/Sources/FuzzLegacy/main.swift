import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLegacy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        // Sniffed by magic bytes like every real load; the seed corpus steers this target to its container.
        let loaded = try CheckpointReader.read(store, path: "fuzz.pth")
        Fuzz.touch(loaded.stateDict)
    }
}

@_cdecl("FuzzLegacy_main")
public func fuzzLegacyMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzLegacy)
}
