// swift-tools-version: 6.0
// libFuzzer harnesses for every tresnet-kit parser. Not part of the main package (which stays free of
// unsafeFlags so it can be used as a dependency): build with `make fuzz`, which runs
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --package-path Fuzz
// Each executable defines `LLVMFuzzerTestOneInput` and a `<Module>_main` (SwiftPM links executables with
// `--defsym main=<Module>_main`) that hands it to libFuzzer's `LLVMFuzzerRunDriver`. See docs/ROBUSTNESS.md.
import PackageDescription

let targets = [
    "FuzzPickle", "FuzzZip", "FuzzTorchZip", "FuzzLegacy", "FuzzSafetensors", "FuzzNpy", "FuzzNpz", "FuzzONNX",
    "FuzzTW", "FuzzJSON", "FuzzImage"
]

let package = Package(
    name: "tresnet-kit-fuzz",
    platforms: [.macOS(.v13)],
    products: targets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(name: "tresnet-kit", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .target(
            name: "FuzzSupport", dependencies: ["FuzzDriver", .product(name: "TResNetKit", package: "tresnet-kit")],
            swiftSettings: [.swiftLanguageMode(.v6)])
    ]
        + targets.map {
            .executableTarget(name: $0, dependencies: ["FuzzSupport"], swiftSettings: [.swiftLanguageMode(.v6)])
        }
)
