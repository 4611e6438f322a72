// swift-tools-version: 6.0
import PackageDescription

// Data-parallel training across processes: one process-group protocol (collectives on
// tensors) with MPI and single-process implementations, DistributedDataParallel, the
// distributed sampler and sharded optimizer state. Open MPI is linked (libopenmpi-dev);
// `mpirun` starts the processes.
let package = Package(
    name: "Distributed",
    products: [
        .library(name: "DistributedTraining", targets: ["DistributedTraining"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Optim"),
        .package(path: "../Training"),
        .package(path: "../CUDABackend"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // NCCL's types for calls through dlsym'd pointers (NCCL itself is loaded at run time).
        .target(name: "CNCCL"),
        .target(name: "DistributedTraining", dependencies: [
            "CMPI", "CNCCL",
            .product(name: "CUDABackend", package: "CUDABackend"),
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Training", package: "Training"),
        ]),
        // The ranks' side of the multi-process tests: the tests start it under mpirun.
        .executableTarget(name: "distributed-checks", dependencies: [
            "DistributedTraining", "CNCCL",
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Training", package: "Training"),
        ]),
        .testTarget(name: "DistributedTrainingTests", dependencies: [
            "DistributedTraining",
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Training", package: "Training"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
