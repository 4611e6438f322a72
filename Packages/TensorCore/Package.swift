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
        // Hot loops needing AVX2/FMA, selected at run time (function attributes, no flags).
        .target(name: "CTesseraKernels"),
        .target(
            name: "TensorCore",
            dependencies: ["COpenBLAS", "CTesseraKernels"]
        ),
        .target(name: "TensorCoreTesting", dependencies: ["TensorCore"]),
        .testTarget(
            name: "TensorCoreTests",
            dependencies: ["TensorCore", "TensorCoreTesting"],
            // Read through #filePath; the generating script sits beside them.
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
