// swift-tools-version: 6.0
// A consumer of tresnet-kit, as a user's own package would be: it depends on the library by path and classifies
// one image. Built (and run on a committed fixture) by `make example`, part of `make test`; the README's
// "Use it from Swift" section shows Sources/ClassifyImage/main.swift verbatim (KitTests checks they are equal).
import PackageDescription

let package = Package(
    name: "ClassifyImage",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "tresnet-kit", path: "../..")],
    targets: [
        .executableTarget(
            name: "ClassifyImage", dependencies: [.product(name: "TResNetKit", package: "tresnet-kit")])
    ]
)
