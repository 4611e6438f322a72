// swift-tools-version: 6.0
import PackageDescription

// Time series: sliding-window datasets, forecasting metrics and the naive baselines,
// recurrent and iTransformer forecasters (direct multi-step, recursive beyond their
// horizon, reversible instance normalisation), and a fully convolutional classifier for the
// UCR archive, trained through the Training package's trainer.
let package = Package(
    name: "TimeSeries",
    products: [
        .library(name: "TimeSeriesModels", targets: ["TimeSeriesModels"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Optim"),
        .package(path: "../Vision"),
        .package(path: "../Sequence"),
        .package(path: "../Training"),
    ],
    targets: [
        .target(name: "TimeSeriesModels", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
            .product(name: "Vision", package: "Vision"),
            .product(name: "SequenceModels", package: "Sequence"),
            .product(name: "Training", package: "Training"),
        ]),
        .testTarget(name: "TimeSeriesTests", dependencies: [
            "TimeSeriesModels", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
