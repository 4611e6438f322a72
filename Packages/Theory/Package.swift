// swift-tools-version: 6.0
import PackageDescription

// The theory lectures' tools on top of TensorCore, NN and Optim: neural tangent kernels,
// clustering (k-means, spectral), kernel and least-squares classifiers.
let package = Package(
    name: "Theory",
    products: [
        .library(name: "Theory", targets: ["Theory"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Optim"),
    ],
    targets: [
        .target(name: "Theory", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
        ]),
        .testTarget(name: "TheoryTests", dependencies: [
            "Theory", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
