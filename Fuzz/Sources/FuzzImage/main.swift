import FuzzSupport

/// Image decoding (JPEG, PNG, EXIF orientation) and preprocessing (PIL-exact resize + centre crop) on any bytes,
/// through both paths: the whole decoded image, and the rows streamed into the resize (`values(bytes:)`), which
/// must give the same values whenever both succeed (a difference traps). The limits are small (4 Mpixels, 64 MB),
/// so a file that declares a huge image is refused from its header, as the CLIs refuse one over their limits;
/// libFuzzer's -malloc_limit_mb would report any allocation past them.
let limits = ImageLimits(maxPixels: 4 << 20, memoryBudget: 64 << 20)
let preprocessing = try! Preprocessing(.timm(inputSize: 32), limits: limits)
let squash = try! Preprocessing(.officialSquash(inputSize: 24, interpolation: .bicubic), limits: limits)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { store in
        let streamed = [try? preprocessing.values(bytes: store.bytes), try? squash.values(bytes: store.bytes)]
        let image = try ImageDecoder.decode(store.bytes, limits: limits)
        Fuzz.blackHole(image.pixels.count)
        let whole = [try preprocessing.values(image), try squash.values(image)]
        for (s, w) in zip(streamed, whole) where s != nil && s != w {
            fatalError("the streamed preprocessing differs from the whole image's")
        }
    }
}

@_cdecl("FuzzImage_main")
public func fuzzImageMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.drive(argc, argv, fuzzImage)
}
