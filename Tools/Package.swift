// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Tools",
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
    ],
    dependencies: [
        .package(path: "../Packages/TensorCore"),
        .package(path: "../Packages/NN"),
        .package(path: "../Packages/Optim"),
        .package(path: "../Datasets"),
        .package(path: "../Packages/Checkpoint-HDF5"),
        .package(path: "../Packages/Vision"),
        .package(path: "../Packages/Sequence"),
        .package(path: "../Packages/Training"),
        .package(path: "../Packages/Safetensors"),
        .package(path: "../Packages/CUDABackend"),
        .package(path: "../Packages/Generative"),
        .package(path: "../Packages/Theory"),
        .package(path: "../Packages/Reinforcement"),
        .package(path: "../Packages/Graph"),
        .package(path: "../Packages/Baselines"),
        .package(path: "../Packages/Zlib"),
    ],
    targets: [
        .target(name: "TesseraCLI", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Datasets", package: "Datasets"),
            .product(name: "CheckpointHDF5", package: "Checkpoint-HDF5"),
            .product(name: "Vision", package: "Vision"),
            .product(name: "SequenceModels", package: "Sequence"),
            .product(name: "Training", package: "Training"),
            .product(name: "Safetensors", package: "Safetensors"),
            .product(name: "CUDABackend", package: "CUDABackend"),
            .product(name: "Generative", package: "Generative"),
            .product(name: "Theory", package: "Theory"),
            .product(name: "Reinforcement", package: "Reinforcement"),
            .product(name: "GraphNetworks", package: "Graph"),
            .product(name: "Baselines", package: "Baselines"),
        ]),
        .executableTarget(name: "tessera", dependencies: ["TesseraCLI"]),
        .testTarget(name: "TesseraCLITests", dependencies: [
            "TesseraCLI", .product(name: "CheckpointHDF5", package: "Checkpoint-HDF5"),
            .product(name: "Datasets", package: "Datasets"), .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "SequenceModels", package: "Sequence"),
            .product(name: "Training", package: "Training"),
            .product(name: "Safetensors", package: "Safetensors"),
            .product(name: "Vision", package: "Vision"),
            .product(name: "Generative", package: "Generative"),
            .product(name: "Zlib", package: "Zlib"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
