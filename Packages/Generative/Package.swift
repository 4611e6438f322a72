// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Generative",
    products: [
        .library(name: "Generative", targets: ["Generative"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Vision"),
        .package(path: "../Optim"),
        .package(path: "../Training"),
        .package(path: "../Checkpoint-HDF5"),
        .package(path: "../Sequence"),
    ],
    targets: [
        .target(name: "Generative", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "Vision", package: "Vision"), .product(name: "Optim", package: "Optim"),
            .product(name: "Training", package: "Training"), .product(name: "CheckpointHDF5", package: "Checkpoint-HDF5"),
            .product(name: "SequenceModels", package: "Sequence"),
        ]),
        .testTarget(name: "GenerativeTests", dependencies: [
            "Generative", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"), .product(name: "Training", package: "Training"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
