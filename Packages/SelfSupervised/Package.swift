// swift-tools-version: 6.0
import PackageDescription

// Self-supervised representation learning: SimCLR (two augmented views, a projection head,
// the NT-Xent loss) trained through the Training package's trainer, and the linear probe that
// judges the frozen features against a linear classifier on the raw pixels.
let package = Package(
    name: "SelfSupervised",
    products: [
        .library(name: "SelfSupervised", targets: ["SelfSupervised"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Optim"),
        .package(path: "../Vision"),
        .package(path: "../Training"),
    ],
    targets: [
        .target(name: "SelfSupervised", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Vision", package: "Vision"),
            .product(name: "Training", package: "Training"),
        ]),
        .testTarget(name: "SelfSupervisedTests", dependencies: [
            "SelfSupervised", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "Vision", package: "Vision"), .product(name: "TensorCoreTesting", package: "TensorCore"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
