// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sequence",
    // The module is SequenceModels, not Sequence: a module named Sequence would shadow the
    // standard library's protocol in every file that imports it (`Sequence.GPT` failed).
    products: [
        .library(name: "SequenceModels", targets: ["SequenceModels"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        // Tests only: the device tests also run on cuda:0 (a GPU, or the CUDA emulator).
        .package(path: "../CUDABackend"),
        .package(path: "../NN"),
        // Tests only: training loops in the seq2seq test.
        .package(path: "../Optim"),
    ],
    targets: [
        .target(name: "SequenceModels", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
        ]),
        .testTarget(name: "SequenceTests", dependencies: [
            "SequenceModels", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"), .product(name: "Optim", package: "Optim"),
            .product(name: "CUDABackend", package: "CUDABackend"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
