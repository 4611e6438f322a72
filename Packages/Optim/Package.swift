// swift-tools-version: 6.0
import PackageDescription

// Optim knows TensorCore only: an optimizer updates `Parameter`s, whatever module owns them.
let package = Package(
    name: "Optim",
    products: [
        .library(name: "Optim", targets: ["Optim"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        // Tests only: the device tests also run on cuda:0 (a GPU, or the CUDA emulator).
        .package(path: "../CUDABackend"),
    ],
    targets: [
        .target(name: "Optim", dependencies: [.product(name: "TensorCore", package: "TensorCore")]),
        .testTarget(
            name: "OptimTests",
            dependencies: ["Optim", .product(name: "TensorCore", package: "TensorCore"),
                           .product(name: "TensorCoreTesting", package: "TensorCore"),
                           .product(name: "CUDABackend", package: "CUDABackend")],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
