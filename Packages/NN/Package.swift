// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "NN",
    products: [
        .library(name: "NN", targets: ["NN"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
    ],
    targets: [
        .target(name: "NN", dependencies: [.product(name: "TensorCore", package: "TensorCore")]),
        .testTarget(
            name: "NNTests",
            dependencies: ["NN", .product(name: "TensorCore", package: "TensorCore"),
                           .product(name: "TensorCoreTesting", package: "TensorCore")],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
