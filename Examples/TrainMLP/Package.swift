// swift-tools-version: 6.0
import PackageDescription

// Trains an MLP on Fashion-MNIST through the Trainer: `swift run -c release TrainMLP [seed]`
// from the repository root, after `Datasets/fetch fashion-mnist`.
let package = Package(
    name: "TrainMLP",
    dependencies: [.package(name: "tessera", path: "../..")],
    targets: [
        .executableTarget(name: "TrainMLP", dependencies: [
            .product(name: "TensorCore", package: "tessera"), .product(name: "NN", package: "tessera"),
            .product(name: "Optim", package: "tessera"), .product(name: "Training", package: "tessera"),
            .product(name: "Datasets", package: "tessera"),
        ]),
    ]
)
