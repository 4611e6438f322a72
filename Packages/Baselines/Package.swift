// swift-tools-version: 6.0
import PackageDescription

// The classic baselines of the courses' first homework, as scikit-learn defines them:
// k-nearest neighbours, linear and ridge regression, logistic and softmax regression, a
// linear SVM, feature standardisation and k-fold cross-validation.
let package = Package(
    name: "Baselines",
    products: [
        .library(name: "Baselines", targets: ["Baselines"]),
    ],
    dependencies: [
        .package(path: "../TensorCore"),
        .package(path: "../NN"),
        .package(path: "../Optim"),
    ],
    targets: [
        .target(name: "Baselines", dependencies: [
            .product(name: "TensorCore", package: "TensorCore"),
            .product(name: "NN", package: "NN"),
            .product(name: "Optim", package: "Optim"),
        ]),
        .testTarget(name: "BaselinesTests", dependencies: [
            "Baselines", .product(name: "TensorCore", package: "TensorCore"), .product(name: "NN", package: "NN"),
            .product(name: "TensorCoreTesting", package: "TensorCore"),
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
