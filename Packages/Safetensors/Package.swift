// swift-tools-version: 6.0
import PackageDescription

// The Hugging Face safetensors format for state dicts: an 8-byte header length, a JSON header,
// raw little-endian data; read memory-mapped where the layout allows. TensorCore only.
let package = Package(
    name: "Safetensors",
    products: [
        .library(name: "Safetensors", targets: ["Safetensors"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
    ],
    targets: [
        .target(name: "Safetensors", dependencies: [.product(name: "TensorCore", package: "TensorCore")]),
        .testTarget(name: "SafetensorsTests", dependencies: [
            "Safetensors", .product(name: "TensorCore", package: "TensorCore"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
