// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Tools",
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
    ],
    dependencies: [
        .package(path: "../Packages/TensorCore"),
        .package(path: "../Packages/NN"),
        .package(path: "../Packages/Optim"),
        .package(path: "../Datasets"),
    ],
    targets: [
        .target(name: "TesseraCLI", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Datasets", package: "Datasets"),
        ]),
        .executableTarget(name: "tessera", dependencies: ["TesseraCLI"]),
        .testTarget(name: "TesseraCLITests", dependencies: ["TesseraCLI"]),
    ],
    swiftLanguageModes: [.v5]
)
