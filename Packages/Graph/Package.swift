// swift-tools-version: 6.0
import PackageDescription

// Graph neural networks on TensorCore's sparse products and segment reductions: GCN,
// GraphSAGE, GAT and GIN layers, global pooling, batches of graphs, the karate club and
// generated graphs.
let package = Package(
    name: "Graph",
    products: [
        .library(name: "GraphNetworks", targets: ["GraphNetworks"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Optim"),
    ],
    targets: [
        .target(name: "GraphNetworks", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
        ]),
        .testTarget(name: "GraphNetworksTests", dependencies: [
            "GraphNetworks", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
