// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "TensorCore",
    products: [
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "TensorCoreTesting", targets: ["TensorCoreTesting"]),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "TensorCore",
            dependencies: ["COpenBLAS"]
        ),
        .target(name: "TensorCoreTesting", dependencies: ["TensorCore"]),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TensorCoreTesting"]),
    ],
    swiftLanguageModes: [.v5]
)
