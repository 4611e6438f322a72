// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "NN",
    products: [
        .library(name: "NN", targets: ["NN"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        // Tests only: the device tests also run on cuda:0 (a GPU, or the CUDA emulator).
        .package(path: "../CUDABackend"),
    ],
    targets: [
        .target(name: "NN", dependencies: [.product(name: "TensorCore", package: "TensorCore")]),
        .testTarget(
            name: "NNTests",
            dependencies: ["NN", .product(name: "TensorCore", package: "TensorCore"),
                           .product(name: "TensorCoreTesting", package: "TensorCore"),
                           .product(name: "CUDABackend", package: "CUDABackend")],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
