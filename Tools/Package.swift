// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Tools",
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
    ],
    dependencies: [
        .package(path: "../Packages/TensorCore"),
    ],
    targets: [
        .target(name: "TesseraCLI", dependencies: [.product(name: "TensorCore", package: "TensorCore")]),
        .executableTarget(name: "tessera", dependencies: ["TesseraCLI"]),
        .testTarget(name: "TesseraCLITests", dependencies: ["TesseraCLI"]),
    ],
    swiftLanguageModes: [.v5]
)
