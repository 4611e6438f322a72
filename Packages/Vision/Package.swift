// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Vision",
    products: [
        .library(name: "Vision", targets: ["Vision"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        // Tests only: the device tests also run on cuda:0 (a GPU, or the CUDA emulator).
        .package(path: "../CUDABackend"),
        .package(path: "../NN"),
        .package(path: "../Zlib"),
        // The Vision Transformer's encoder layers.
        .package(path: "../Sequence"),
    ],
    targets: [
        // zlib for PNG's deflate streams and chunk CRCs.
        .target(name: "Vision", dependencies: [
            .product(name: "Zlib", package: "Zlib"), .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "SequenceModels", package: "Sequence"),
        ]),
        .testTarget(name: "VisionTests", dependencies: [
            "Vision", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"), .product(name: "CUDABackend", package: "CUDABackend"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
