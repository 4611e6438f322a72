// swift-tools-version: 6.0
import PackageDescription

// zlib for every package that reads or writes deflate streams (Vision's PNG, Datasets' gzip):
// one system-library shim and one Swift wrapper with bounded output and typed errors.
let package = Package(
    name: "Zlib",
    products: [
        .library(name: "Zlib", targets: ["Zlib"]),
    ],
    targets: [
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Zlib", dependencies: ["CZlib"]),
        .testTarget(name: "ZlibTests", dependencies: ["Zlib"]),
    ],
    swiftLanguageModes: [.v5]
)
