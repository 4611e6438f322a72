// swift-tools-version: 6.0
import PackageDescription

// CheckpointHDF5 knows TensorCore only: it stores `[String: Tensor]` and metadata.
let package = Package(
    name: "Checkpoint-HDF5",
    products: [
        .library(name: "CheckpointHDF5", targets: ["CheckpointHDF5"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
    ],
    targets: [
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev", "zlib1g-dev"])]),
        .target(name: "CheckpointHDF5", dependencies: ["CHDF5", .product(name: "TensorCore", package: "TensorCore")]),
        .testTarget(name: "CheckpointHDF5Tests", dependencies: [
            "CheckpointHDF5", .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
