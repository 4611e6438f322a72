// swift-tools-version: 6.0
import PackageDescription

// Fuzz targets for every reader of files the project accepts. `FuzzTargets` holds them (what
// each input goes through, the properties a decoded value must have, the seeds made with the
// project's own writers, the repairs that keep lengths and checksums valid after a mutation);
// `tessera-fuzz` runs one under libFuzzer when built by CI/fuzz (`-sanitize=fuzzer -DFUZZING`)
// and replays files through it otherwise; the tests replay the committed corpora. Not part of
// the root manifest: a fuzz build is a special build.
let package = Package(
    name: "Fuzz",
    dependencies: [
        .package(path: "../Packages/TensorCore"),
        .package(path: "../Packages/Zlib"),
        .package(path: "../Packages/Vision"),
        .package(path: "../Packages/Checkpoint-HDF5"),
        .package(path: "../Packages/Safetensors"),
        .package(path: "../Packages/Sequence"),
        .package(path: "../Datasets"),
    ],
    targets: [
        .target(name: "FuzzTargets", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"), .product(name: "Zlib", package: "Zlib"),
            .product(name: "Vision", package: "Vision"), .product(name: "CheckpointHDF5", package: "Checkpoint-HDF5"),
            .product(name: "Safetensors", package: "Safetensors"), .product(name: "SequenceModels", package: "Sequence"),
            .product(name: "Datasets", package: "Datasets"),
        ]),
        .executableTarget(name: "tessera-fuzz", dependencies: ["FuzzTargets"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", .product(name: "Zlib", package: "Zlib"),
                                                              .product(name: "TensorCore", package: "TensorCore"),
                                                              .product(name: "Vision", package: "Vision")]),
    ],
    swiftLanguageModes: [.v5]
)
