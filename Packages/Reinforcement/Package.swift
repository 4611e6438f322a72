// swift-tools-version: 6.0
import PackageDescription

// Reinforcement learning: environments with Gymnasium's semantics (classic control, a grid
// world, bandits; vectorised), seeded as Gymnasium seeds them.
let package = Package(
    name: "Reinforcement",
    products: [
        .library(name: "Reinforcement", targets: ["Reinforcement"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
    ],
    targets: [
        .target(name: "Reinforcement", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
        ]),
        .testTarget(name: "ReinforcementTests", dependencies: [
            "Reinforcement", .product(name: "TensorCore", package: "TensorCore"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
