import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        let zipStyle = try PickleMachine.parse(store.bytes, style: .zip)
        _ = try? zipStyle.arena.flattenTensors(from: zipStyle.root, budget: 100_000)
        _ = try PickleMachine.parse(store.bytes, style: .legacy)
    }
}

@_cdecl("FuzzPickle_main")
public func fuzzPickleMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzPickle)
}
