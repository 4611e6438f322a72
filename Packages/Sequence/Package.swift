// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sequence",
    products: [
        .library(name: "Sequence", targets: ["Sequence"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        // Tests only: training loops in the seq2seq test.
        .package(path: "../Optim"),
    ],
    targets: [
        .target(name: "Sequence", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
        ]),
        .testTarget(name: "SequenceTests", dependencies: [
            "Sequence", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"), .product(name: "Optim", package: "Optim"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
