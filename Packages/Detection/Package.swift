// swift-tools-version: 6.0
import PackageDescription

// Object detection: box utilities (IoU, GIoU, encodings, anchors), non-maximum suppression,
// VOC-style average precision, a generated shapes dataset with boxes, and a single-shot grid
// detector trained through the Training package's trainer, with predictions drawn on images.
let package = Package(
    name: "Detection",
    products: [
        .library(name: "Detection", targets: ["Detection"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Optim"),
        .package(path: "../Vision"),
        .package(path: "../Training"),
    ],
    targets: [
        .target(name: "Detection", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Vision", package: "Vision"),
            .product(name: "Training", package: "Training"),
        ]),
        .testTarget(name: "DetectionTests", dependencies: [
            "Detection", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
