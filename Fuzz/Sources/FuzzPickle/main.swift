import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        // Both persistent-id styles, each independently (a refusal in one does not skip the other).
        do {
            let zipStyle = try PickleMachine.parse(store.bytes, style: .zip)
            _ = try zipStyle.arena.flattenTensors(from: zipStyle.root, budget: 100_000)
        } catch is TResNetError {}
        let legacy = try PickleMachine.parse(store.bytes, style: .legacy)
        _ = try legacy.arena.flattenTensors(from: legacy.root, budget: 100_000)
    }
}

@_cdecl("FuzzPickle_main")
public func fuzzPickleMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzPickle)
}
