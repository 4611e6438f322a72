// swift-tools-version: 6.0
import PackageDescription

// TensorCore alone (no HDF5, no zlib): a custom differentiable function, checked against
// central differences. CI builds it with HDF5's and zlib's pkg-config files hidden.
let package = Package(
    name: "CustomFunction",
    dependencies: [.package(name: "tessera", path: "../..")],
    targets: [
        .executableTarget(name: "CustomFunction", dependencies: [.product(name: "TensorCore", package: "tessera")]),
    ]
)
