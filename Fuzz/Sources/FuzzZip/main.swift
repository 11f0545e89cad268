import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        let archive = try ZipArchive.open(store, path: "fuzz.zip")
        for entry in archive.entries {
            do {
                let slice = try archive.data(entry)
                var sum: UInt8 = 0
                for b in slice.bytes { sum &+= b }
                Fuzz.blackHole(sum)
            } catch is TResNetError {}  // one member refused: still read the others
        }
    }
}

@_cdecl("FuzzZip_main")
public func fuzzZipMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzZip)
}
