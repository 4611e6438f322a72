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
    ],
    targets: [
        // zlib for PNG's deflate streams and chunk CRCs.
        .systemLibrary(name: "CVisionZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Vision", dependencies: [
            "CVisionZlib", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
        ]),
        .testTarget(name: "VisionTests", dependencies: [
            "Vision", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
