import FuzzSupport

/// Image decoding (JPEG, PNG, EXIF orientation) and preprocessing (PIL-exact resize + centre crop) on any bytes.
/// The limits are small (4 Mpixels, 64 MB), so a file that declares a huge image is refused from its header, as
/// the CLIs refuse one over their limits; libFuzzer's -malloc_limit_mb would report any allocation past them.
let limits = ImageLimits(maxPixels: 4 << 20, memoryBudget: 64 << 20)
let preprocessing = try! Preprocessing(.timm(inputSize: 32), limits: limits)
let squash = try! Preprocessing(.officialSquash(inputSize: 24, interpolation: .bicubic), limits: limits)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        let image = try ImageDecoder.decode(store.bytes, limits: limits)
        Fuzz.blackHole(image.pixels.count)
        Fuzz.blackHole(try preprocessing.values(image))
        Fuzz.blackHole(try squash.values(image))
    }
}

@_cdecl("FuzzImage_main")
public func fuzzImageMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzImage)
}
