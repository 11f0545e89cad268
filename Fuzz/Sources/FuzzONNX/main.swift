import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        // External data resolves inside an empty scratch folder, so every location is checked and then missing.
        let model = try ONNXModel.read(store, path: Fuzz.scratchFolder + "/fuzz.onnx")
        Fuzz.touch(model.tensors)
    }
}

@_cdecl("FuzzONNX_main")
public func fuzzONNXMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzONNX)
}
