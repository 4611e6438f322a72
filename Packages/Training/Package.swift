// swift-tools-version: 6.0
import PackageDescription

// The training loop every command and user script shares: epochs over a DataLoader, callbacks,
// progress, metrics, results.json, curves, checkpoints with bit-identical resume. Vision draws
// the PNG pictures (curves, confusion matrices).
let package = Package(
    name: "Training",
    products: [
        .library(name: "Training", targets: ["Training"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Optim"),
        .package(path: "../Checkpoint-HDF5"),
        .package(path: "../Safetensors"),
        .package(path: "../Vision"),
    ],
    targets: [
        .target(name: "Training", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"), .product(name: "CheckpointHDF5", package: "Checkpoint-HDF5"),
            .product(name: "Safetensors", package: "Safetensors"), .product(name: "Vision", package: "Vision"),
        ]),
        .testTarget(name: "TrainingTests", dependencies: [
            "Training", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"), .product(name: "CheckpointHDF5", package: "Checkpoint-HDF5"),
            .product(name: "TensorCoreTesting", package: "TensorCore"), .product(name: "Safetensors", package: "Safetensors"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
