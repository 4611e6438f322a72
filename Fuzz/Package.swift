// swift-tools-version: 6.0
import PackageDescription

// libFuzzer targets for the project's readers, built with coverage instrumentation by
// CI/fuzz (`-sanitize=fuzzer` on every module, AddressSanitizer on the target). Not part of the
// root manifest: a fuzz build is a special build.
let package = Package(
    name: "Fuzz",
    dependencies: [.package(path: "../Datasets")],
    targets: [
        .executableTarget(name: "FuzzIDX", dependencies: [.product(name: "Datasets", package: "Datasets")],
                          linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-use-ld=lld"])]),
    ],
    swiftLanguageModes: [.v5]
)
