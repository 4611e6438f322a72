// swift-tools-version: 6.0
import PackageDescription

// NVIDIA GPUs through the driver API, cuBLAS and NVRTC, all loaded at run time with dlopen:
// nothing from CUDA is needed to build, and a machine without a GPU reports why.
let package = Package(
    name: "CUDABackend",
    products: [
        .library(name: "CUDABackend", targets: ["CUDABackend"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
    ],
    targets: [
        .target(name: "CUDABackend", dependencies: [.product(name: "TensorCore", package: "TensorCore")]),
        .testTarget(name: "CUDABackendTests", dependencies: [
            "CUDABackend", .product(name: "TensorCoreTesting", package: "TensorCore"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
