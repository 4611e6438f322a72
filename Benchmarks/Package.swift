// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Benchmarks",
    dependencies: [
        .package(path: "../Packages/TensorCore"),
        .package(path: "../Packages/NN"),
        .package(path: "../Packages/Optim"),
        .package(path: "../Packages/Checkpoint-HDF5"),
        .package(path: "../Packages/Vision"),
        .package(path: "../Packages/Sequence"),
        .package(path: "../Packages/Generative"),
        .package(path: "../Packages/CUDABackend"),
        .package(path: "../Packages/Distributed"),
    ],
    targets: [
        .executableTarget(name: "tessera-bench", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "CheckpointHDF5", package: "Checkpoint-HDF5"),
            .product(name: "Vision", package: "Vision"),
            .product(name: "SequenceModels", package: "Sequence"),
            .product(name: "Generative", package: "Generative"),
        ]),
        // Data-parallel steps under mpirun (Benchmarks/compare-distributed).
        .executableTarget(name: "tessera-ddp-bench", dependencies: [
            .product(name: "DistributedTraining", package: "Distributed"),
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Vision", package: "Vision"),
        ]),
        // GPU workloads; built by CI/gpu-bundle for a GPU machine (no HDF5 there, so none here).
        .executableTarget(name: "tessera-gpu-bench", dependencies: [
            .product(name: "CUDABackend", package: "CUDABackend"),
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Vision", package: "Vision"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
