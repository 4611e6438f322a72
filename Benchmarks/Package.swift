// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Benchmarks",
    dependencies: [
        .package(path: "../Packages/TensorCore"),
    ],
    targets: [
        .executableTarget(name: "tessera-bench", dependencies: [.product(name: "TensorCore", package: "TensorCore")]),
    ],
    swiftLanguageModes: [.v5]
)
