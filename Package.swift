// swift-tools-version: 6.0
import PackageDescription

// The root manifest: every library of the monorepo as one package, so another project can
// depend on Tessera by URL (SwiftPM takes packages from a repository's root only):
//
//     .package(url: "https://…/tessera.git", branch: "main")
//     .product(name: "TensorCore", package: "tessera")
//
// The targets are the packages' own sources (Packages/*/Sources/*); each package's manifest
// keeps working for local development and its tests. A product builds only the targets it
// needs: TensorCore alone needs OpenBLAS, not HDF5 or zlib.
let package = Package(
    name: "tessera",
    products: [
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "TensorCoreTesting", targets: ["TensorCoreTesting"]),
        .library(name: "CUDABackend", targets: ["CUDABackend"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Optim", targets: ["Optim"]),
        .library(name: "Zlib", targets: ["Zlib"]),
        .library(name: "CheckpointHDF5", targets: ["CheckpointHDF5"]),
        .library(name: "Vision", targets: ["Vision"]),
        .library(name: "SequenceModels", targets: ["SequenceModels"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Safetensors", targets: ["Safetensors"]),
        .library(name: "Generative", targets: ["Generative"]),
        .library(name: "Theory", targets: ["Theory"]),
        .library(name: "Reinforcement", targets: ["Reinforcement"]),
        .library(name: "GraphNetworks", targets: ["GraphNetworks"]),
        .library(name: "Baselines", targets: ["Baselines"]),
        .library(name: "TimeSeriesModels", targets: ["TimeSeriesModels"]),
        .library(name: "Detection", targets: ["Detection"]),
        .library(name: "SelfSupervised", targets: ["SelfSupervised"]),
        .library(name: "DistributedTraining", targets: ["DistributedTraining"]),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Packages/TensorCore/Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CTesseraKernels", path: "Packages/TensorCore/Sources/CTesseraKernels"),
        .target(name: "TensorCore", dependencies: ["COpenBLAS", "CTesseraKernels"], path: "Packages/TensorCore/Sources/TensorCore"),
        .target(name: "TensorCoreTesting", dependencies: ["TensorCore"], path: "Packages/TensorCore/Sources/TensorCoreTesting"),
        .target(name: "CUDABackend", dependencies: ["TensorCore"], path: "Packages/CUDABackend/Sources/CUDABackend"),
        .target(name: "NN", dependencies: ["TensorCore"], path: "Packages/NN/Sources/NN"),
        .target(name: "Optim", dependencies: ["TensorCore"], path: "Packages/Optim/Sources/Optim"),
        .systemLibrary(name: "CZlib", path: "Packages/Zlib/Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Zlib", dependencies: ["CZlib"], path: "Packages/Zlib/Sources/Zlib"),
        .systemLibrary(name: "CHDF5", path: "Packages/Checkpoint-HDF5/Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev", "zlib1g-dev"])]),
        .target(name: "CheckpointHDF5", dependencies: ["CHDF5", "TensorCore"], path: "Packages/Checkpoint-HDF5/Sources/CheckpointHDF5"),
        .target(name: "Vision", dependencies: ["Zlib", "TensorCore", "NN", "SequenceModels"], path: "Packages/Vision/Sources/Vision"),
        .target(name: "SequenceModels", dependencies: ["TensorCore", "NN"], path: "Packages/Sequence/Sources/SequenceModels"),
        .target(name: "Training", dependencies: ["TensorCore", "NN", "Optim", "CheckpointHDF5", "Safetensors", "Vision"], path: "Packages/Training/Sources/Training"),
        .target(name: "Datasets", dependencies: ["Zlib", "TensorCore", "NN"], path: "Datasets/Sources/Datasets"),
        .target(name: "Safetensors", dependencies: ["TensorCore"], path: "Packages/Safetensors/Sources/Safetensors"),
        .target(name: "Generative", dependencies: ["TensorCore", "NN", "Vision", "Optim", "Training", "CheckpointHDF5"], path: "Packages/Generative/Sources/Generative"),
        .target(name: "Theory", dependencies: ["TensorCore", "NN", "Optim"], path: "Packages/Theory/Sources/Theory"),
        .target(name: "Reinforcement", dependencies: ["TensorCore", "NN", "Optim"], path: "Packages/Reinforcement/Sources/Reinforcement"),
        .target(name: "GraphNetworks", dependencies: ["TensorCore", "NN", "Optim"], path: "Packages/Graph/Sources/GraphNetworks"),
        .target(name: "Baselines", dependencies: ["TensorCore", "NN", "Optim"], path: "Packages/Baselines/Sources/Baselines"),
        .target(name: "TimeSeriesModels", dependencies: ["TensorCore", "NN", "Optim", "Vision", "SequenceModels", "Training"],
                path: "Packages/TimeSeries/Sources/TimeSeriesModels"),
        .target(name: "Detection", dependencies: ["TensorCore", "NN", "Optim", "Vision", "Training"], path: "Packages/Detection/Sources/Detection"),
        .target(name: "SelfSupervised", dependencies: ["TensorCore", "NN", "Optim", "Vision", "Training"],
                path: "Packages/SelfSupervised/Sources/SelfSupervised"),
        .systemLibrary(name: "CMPI", path: "Packages/Distributed/Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "CNCCL", path: "Packages/Distributed/Sources/CNCCL"),
        .target(name: "DistributedTraining", dependencies: ["CMPI", "CNCCL", "TensorCore", "NN", "Optim", "Training", "CUDABackend"],
                path: "Packages/Distributed/Sources/DistributedTraining"),
    ],
    swiftLanguageModes: [.v5]
)
