// swift-tools-version: 6.0
// tresnet-kit: TResNet checkpoints out of Python — read, map, prove, write, fetch, classify.
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "tresnet-kit",
    platforms: [.macOS(.v13)],
    products: [
        // Explicit library products, by what a Swift user does; each is a set of modules imported by name (no
        // umbrella re-exports). TResNetKit holds the one-call classifier and the pipelines the tools share.
        .library(name: "TResNetKit", targets: ["TResNetKit"]),
        // Reading and converting: checkpoints (PyTorch, safetensors, NumPy), the .tw format, ONNX, the layer tree.
        .library(
            name: "TResNetReading",
            targets: ["TResNetCore", "TResNetCheckpoint", "TResNetFormat", "TResNetONNX", "TResNetModel"]),
        // Running: the CPU forward pass on a bound layer tree.
        .library(name: "TResNetRunning", targets: ["TResNetModel", "TResNetRuntime"]),
        // Images: decoding and timm-exact preprocessing, classification and ImageFolder validation.
        .library(name: "TResNetImages", targets: ["TResNetImage"]),
        // The zoo: catalog, label sets, the Hugging Face hub cache and verified downloads.
        .library(name: "TResNetModelZoo", targets: ["TResNetZoo", "TResNetZooFetch"]),
        .executable(name: "tresnet-inspect", targets: ["tresnet-inspect"]),
        .executable(name: "tresnet-convert", targets: ["tresnet-convert"]),
        .executable(name: "tresnet-predict", targets: ["tresnet-predict"]),
        .executable(name: "tresnet-verify", targets: ["tresnet-verify"]),
        .executable(name: "tresnet-zoo", targets: ["tresnet-zoo"]),
        .executable(name: "tresnet-validate", targets: ["tresnet-validate"]),
        .executable(name: "tresnet-bench", targets: ["tresnet-bench"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `make docs` only (swift package generate-documentation); nothing links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0")
    ],
    targets: [
        // MARK: - C libraries (system, found with pkg-config; each called from one funnel file)
        .systemLibrary(name: "CLibZip", pkgConfig: "libzip", providers: [.apt(["libzip-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // SHA-256 from the system's libcrypto (OpenSSL), called from Sources/TResNetCore/Hashing.swift only.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // protoc-c output for the project's minimal onnx.proto (regenerate with Sources/CONNXProto/regenerate.sh).
        .target(name: "CONNXProto", dependencies: ["CProtobufC"], exclude: ["onnx.proto", "regenerate.sh"]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // Our own CPU kernels (AVX-512 direct convolution, thread pool); plain C, per-function target attributes.
        .target(name: "CTResNetKernels"),

        // MARK: - Library modules
        // Vocabulary: tensors, dtypes, bounded byte cursors, errors, hashing (libcrypto behind one funnel), file I/O.
        .target(name: "TResNetCore", dependencies: ["COpenSSL"], swiftSettings: swiftSettings),
        // Checkpoint readers: PyTorch zip + legacy (inert pickle), safetensors, NumPy. libzip behind one funnel.
        .target(name: "TResNetCheckpoint", dependencies: ["TResNetCore", "CLibZip"], swiftSettings: swiftSettings),
        // The native `.tw` format: spec in docs/FORMAT.md; mmap reader and streaming atomic writer.
        .target(name: "TResNetFormat", dependencies: ["TResNetCore"], swiftSettings: swiftSettings),
        // The layer tree, configurations, architecture inference, dialects and strict binding. No C.
        .target(name: "TResNetModel", dependencies: ["TResNetCore"], swiftSettings: swiftSettings),
        // CPU forward pass on OpenBLAS; activation taps.
        .target(
            name: "TResNetRuntime", dependencies: ["TResNetCore", "TResNetModel", "COpenBLAS", "CTResNetKernels"],
            swiftSettings: swiftSettings),
        // ONNX: read exported TResNets by graph structure (libprotobuf-c behind one funnel), write ONNX.
        .target(
            name: "TResNetONNX", dependencies: ["TResNetCore", "TResNetModel", "CONNXProto", "CProtobufC"],
            swiftSettings: swiftSettings),
        // The zoo catalog and label sets (data in Zoo/, loaded from resources).
        .target(name: "TResNetZoo", dependencies: ["TResNetCore", "TResNetModel"], swiftSettings: swiftSettings),
        // Fetching zoo files over HTTPS (FoundationNetworking, libcurl): only tresnet-zoo links it, so the other
        // tools do not load libcurl and its dozen libraries at every start.
        .target(name: "TResNetZooFetch", dependencies: ["TResNetCore", "TResNetZoo"], swiftSettings: swiftSettings),
        // Image decoding (libjpeg-turbo, libpng) and preprocessing equal to PIL + timm's eval transform;
        // classification and ImageFolder validation over a "batch → logits" closure.
        .target(name: "TResNetImage", dependencies: ["TResNetCore", "CJPEG", "CPNG"], swiftSettings: swiftSettings),
        // Pipelines the CLIs share: open any source, bind, convert, verify.
        .target(
            name: "TResNetKit",
            dependencies: [
                "TResNetCore", "TResNetCheckpoint", "TResNetFormat", "TResNetModel", "TResNetRuntime", "TResNetZoo",
                "TResNetONNX",
                "TResNetImage"
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "_CLISupport",
            dependencies: [
                "TResNetKit", "TResNetZoo", .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            swiftSettings: swiftSettings),

        // MARK: - Executables (thin over the library)
        .executableTarget(name: "tresnet-inspect", dependencies: ["_CLISupport"], swiftSettings: swiftSettings),
        .executableTarget(name: "tresnet-convert", dependencies: ["_CLISupport"], swiftSettings: swiftSettings),
        .executableTarget(name: "tresnet-predict", dependencies: ["_CLISupport"], swiftSettings: swiftSettings),
        .executableTarget(name: "tresnet-verify", dependencies: ["_CLISupport"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "tresnet-zoo", dependencies: ["_CLISupport", "TResNetZooFetch"], swiftSettings: swiftSettings),
        .executableTarget(name: "tresnet-validate", dependencies: ["_CLISupport"], swiftSettings: swiftSettings),
        .executableTarget(name: "tresnet-bench", dependencies: ["_CLISupport"], swiftSettings: swiftSettings),

        // MARK: - Tests
        .target(
            name: "TestSupport", dependencies: ["TResNetKit"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "CoreTests", dependencies: ["TResNetCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CheckpointTests", dependencies: ["TResNetCheckpoint", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "FormatTests", dependencies: ["TResNetFormat", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ModelTests", dependencies: ["TResNetModel", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RuntimeTests", dependencies: ["TResNetRuntime", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ZooTests", dependencies: ["TResNetZoo", "TResNetZooFetch", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ONNXTests", dependencies: ["TResNetONNX", "TResNetRuntime", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ImageTests", dependencies: ["TResNetImage", "TResNetCheckpoint", "TResNetRuntime", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "KitTests", dependencies: ["TResNetKit", "TResNetZooFetch", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"], swiftSettings: swiftSettings)
    ]
)
