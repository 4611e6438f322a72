// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Vision",
    products: [
        .library(name: "Vision", targets: ["Vision"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Zlib"),
    ],
    targets: [
        // zlib for PNG's deflate streams and chunk CRCs.
        .target(name: "Vision", dependencies: [
            .product(name: "Zlib", package: "Zlib"), .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
        ]),
        .testTarget(name: "VisionTests", dependencies: [
            "Vision", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
