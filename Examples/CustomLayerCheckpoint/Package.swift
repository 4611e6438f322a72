// swift-tools-version: 6.0
import PackageDescription

// A custom layer, trained a few steps, saved as a checkpoint and loaded for inference.
let package = Package(
    name: "CustomLayerCheckpoint",
    dependencies: [.package(name: "tessera", path: "../..")],
    targets: [
        .executableTarget(name: "CustomLayerCheckpoint", dependencies: [
            .product(name: "TensorCore", package: "tessera"), .product(name: "NN", package: "tessera"),
            .product(name: "Optim", package: "tessera"), .product(name: "CheckpointHDF5", package: "tessera"),
        ]),
    ]
)
