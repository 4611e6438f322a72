// swift-tools-version: 6.0
import PackageDescription

// Readers for real datasets that `Datasets/fetch` downloads; they return NN datasets.
let package = Package(
    name: "Datasets",
    products: [
        .library(name: "Datasets", targets: ["Datasets"]),
    ],
    dependencies: [
        .package(path: "../Packages/TensorCore"),
        .package(path: "../Packages/NN"),
        .package(path: "../Packages/Zlib"),
    ],
    targets: [
        .target(name: "Datasets", dependencies: [
            .product(name: "Zlib", package: "Zlib"),
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
        ]),
        .testTarget(name: "DatasetsTests", dependencies: [
            "Datasets", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
