// swift-tools-version: 6.0
import PackageDescription

// Reinforcement learning: environments with Gymnasium's semantics (classic control, a grid
// world, bandits; vectorised), seeded as Gymnasium seeds them, and agents (REINFORCE, A2C,
// PPO, DQN) on NN and Optim.
let package = Package(
    name: "Reinforcement",
    products: [
        .library(name: "Reinforcement", targets: ["Reinforcement"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Optim"),
    ],
    targets: [
        .target(name: "Reinforcement", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
        ]),
        .testTarget(name: "ReinforcementTests", dependencies: [
            "Reinforcement", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
