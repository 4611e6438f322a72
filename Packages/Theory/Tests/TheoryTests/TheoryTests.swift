import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import Theory

/// Two moons and two concentric circles (scikit-learn's shapes), with labels.
func moons(_ n: Int, noise: Double, seed: UInt64) -> (Tensor, Tensor) {
    let g = RandomGenerator(seed: seed)
    let t = Tensor.rand([n], dtype: .float64, generator: g).scalars(as: Double.self).map { $0 * Double.pi }
    var points: [Double] = [], labels: [Int64] = []
    for i in 0..<n {
        let upper = i % 2 == 0
        points += upper ? [cos(t[i]), sin(t[i])] : [1 - cos(t[i]), 0.5 - sin(t[i])]
        labels.append(upper ? 0 : 1)
    }
    let x = Tensor(points, shape: [n, 2]) + noise * Tensor.randn([n, 2], dtype: .float64, generator: g)
    return (x, Tensor(labels, shape: [n]))
}

func circles(_ n: Int, noise: Double, seed: UInt64) -> (Tensor, Tensor) {
    let g = RandomGenerator(seed: seed)
    let t = Tensor.rand([n], dtype: .float64, generator: g).scalars(as: Double.self).map { $0 * 2 * Double.pi }
    var points: [Double] = [], labels: [Int64] = []
    for i in 0..<n {
        let r = i % 2 == 0 ? 1.0 : 0.5
        points += [r * cos(t[i]), r * sin(t[i])]
        labels.append(Int64(i % 2))
    }
    return (Tensor(points, shape: [n, 2]) + noise * Tensor.randn([n, 2], dtype: .float64, generator: g), Tensor(labels, shape: [n]))
}

@Suite("Clustering")
struct ClusteringTests {
    @Test func kMeansRecoversSeparatedBlobs() {
        let centers = Tensor([0, 0, 10, 0, 0, 10] as [Double], shape: [3, 2])
        let labels = Tensor((0..<90).map { Int64($0 % 3) }, shape: [90])
        let x = centers.indexSelect(axis: 0, indices: labels) + 0.5 * Tensor.randn([90, 2], dtype: .float64, generator: RandomGenerator(seed: 1))
        let result = KMeans.fit(x, k: 3, generator: RandomGenerator(seed: 2))
        #expect(SpectralClustering.accuracy(result.labels, truth: labels, k: 3) == 1)
        // The inertia is the sum of squared distances to the assigned centres.
        let assigned = result.centroids.indexSelect(axis: 0, indices: result.labels)
        #expect(Swift.abs((x - assigned).squared().sum().item(as: Double.self) - result.inertia) < 1e-9 * result.inertia)
    }

    @Test(arguments: ["moons", "circles"])
    func spectralClusteringSeparatesWhatKMeansCannot(_ shape: String) {
        let (x, truth) = shape == "moons" ? moons(400, noise: 0.05, seed: 3) : circles(400, noise: 0.03, seed: 3)
        let spectral = SpectralClustering.fit(x, k: 2, generator: RandomGenerator(seed: 4))
        let plain = KMeans.fit(x, k: 2, generator: RandomGenerator(seed: 4))
        let spectralAccuracy = SpectralClustering.accuracy(spectral.labels, truth: truth, k: 2)
        let plainAccuracy = SpectralClustering.accuracy(plain.labels, truth: truth, k: 2)
        #expect(spectralAccuracy >= 0.99, "spectral \(spectralAccuracy)")
        #expect(plainAccuracy < 0.9, "k-means \(plainAccuracy)")
    }
}

@Suite("Neural tangent kernel")
struct NeuralTangentKernelTests {
    @Test func empiricalKernelIsTheGramMatrixOfParameterGradients() {
        let model = NTKPerceptron(inputSize: 3, width: 7, depth: 2, generator: RandomGenerator(seed: 5))
        let x = Tensor.randn([5, 3], dtype: .float64, generator: RandomGenerator(seed: 6))
        let y = Tensor.randn([4, 3], dtype: .float64, generator: RandomGenerator(seed: 7))
        func gradientRows(_ x: Tensor) -> Tensor {
            Tensor.stacked((0..<x.shape[0]).map { i in
                let out = model(x.narrowed(axis: 0, start: i, length: 1)).sum()
                return Tensor.concatenated(gradients(of: [out], withRespectTo: model.parameters().map(\.value))
                    .map { $0.reshaped(to: [-1]) }, axis: 0)
            })
        }
        let expected = gradientRows(x).matmul(gradientRows(y).transposed())
        expectClose(NeuralTangentKernel.empirical(of: model, x, y), expected, tolerance: Tolerance(absolute: 1e-12, relative: 1e-12))
        // A budget of one gradient row forces chunks of one and recomputation.
        expectClose(NeuralTangentKernel.empirical(of: model, x, memoryBudget: 1), gradientRows(x).matmul(gradientRows(x).transposed()),
                    tolerance: Tolerance(absolute: 1e-12, relative: 1e-12))
    }

    @Test func empiricalKernelApproachesTheAnalyticOneAsWidthGrows() {
        let x = Tensor.randn([12, 3], dtype: .float64, generator: RandomGenerator(seed: 8))
        for depth in [1, 2] {
            let analytic = NeuralTangentKernel.reluNetwork(x, depth: depth)
            let errors = [32, 2048].map { width -> Double in
                // Averaged over three initialisations, so one lucky draw cannot pass.
                (0..<3).map { s -> Double in
                    let model = NTKPerceptron(inputSize: 3, width: width, depth: depth, generator: RandomGenerator(seed: UInt64(10 + s)))
                    let k = NeuralTangentKernel.empirical(of: model, x)
                    return (Linalg.norm(k - analytic) / Linalg.norm(analytic)).item(as: Double.self)
                }.reduce(0, +) / 3
            }
            // 1/√width predicts a factor of 8 between widths 32 and 2048.
            #expect(errors[1] < errors[0] / 4, "depth \(depth): \(errors)")
            #expect(errors[1] < 0.1, "depth \(depth): \(errors)")
        }
    }

    @Test func kernelRegressionInterpolatesItsTrainingPoints() throws {
        let x = Tensor.randn([10, 2], dtype: .float64, generator: RandomGenerator(seed: 9))
        let y = x.narrowed(axis: 1, start: 0, length: 1).squeezed(axis: 1).sin()
        let k = NeuralTangentKernel.reluNetwork(x, depth: 2)
        let fitted = try NeuralTangentKernel.regression(trainKernel: k, targets: y, testKernel: k)
        expectClose(fitted, y, tolerance: Tolerance(absolute: 1e-8, relative: 1e-8))
    }
}

@Suite("Least-squares classifiers")
struct LeastSquaresClassifierTests {
    static func blobs(seed: UInt64) -> (Tensor, Tensor) {
        let centers = Tensor([2, 0, 0, -1, 1.7, 0, -1, -1.7, 1] as [Double], shape: [3, 3])
        let labels = Tensor((0..<300).map { Int64($0 % 3) }, shape: [300])
        return (centers.indexSelect(axis: 0, indices: labels) + Tensor.randn([300, 3], dtype: .float64, generator: RandomGenerator(seed: seed)),
                labels)
    }

    @Test func normalEquationsAndCGLSAgree() throws {
        let (x, y) = Self.blobs(seed: 1)
        let direct = try LeastSquaresClassifier.fit(x, labels: y, classes: 3, regularization: 0.5)
        let iterative = try LeastSquaresClassifier.fit(x, labels: y, classes: 3, regularization: 0.5, solver: .cgls(tolerance: 1e-12))
        expectClose(iterative.weights, direct.weights, tolerance: Tolerance(absolute: 1e-9, relative: 1e-9))
        #expect(iterative.iterations > 0 && iterative.iterations <= 4 * 3)
        // The normal equations' solution zeroes the regularised gradient Aᵀ(AW − Y) + λW.
        let a = LeastSquaresClassifier.augmented(x), onehot = Tensor.oneHot(y, classCount: 3, dtype: .float64)
        let gradient = a.transposed().matmul(a.matmul(direct.weights) - onehot) + 0.5 * direct.weights
        #expect(gradient.abs().max().item(as: Double.self) < 1e-9)
        #expect(LeastSquaresClassifier.accuracy(direct, x, labels: y) > 0.8)
    }

    @Test func theLCurveTradesResidualForNorm() throws {
        let (x, y) = Self.blobs(seed: 2)
        let fits = try [1e-3, 1, 1e3].map { try LeastSquaresClassifier.fit(x, labels: y, classes: 3, regularization: $0) }
        #expect(fits[0].residualNorm < fits[1].residualNorm && fits[1].residualNorm < fits[2].residualNorm)
        #expect(fits[0].solutionNorm > fits[1].solutionNorm && fits[1].solutionNorm > fits[2].solutionNorm)
    }

    @Test func extremeLearningMachineFitsANonlinearBoundary() throws {
        let (x, y) = circles(400, noise: 0.05, seed: 5)
        var elm = ExtremeLearningMachine(inputSize: 2, hidden: 200, generator: RandomGenerator(seed: 6))
        try elm.fit(x, labels: y, classes: 2, regularization: 1e-3)
        #expect(elm.accuracy(x, labels: y) > 0.95)
        // A linear classifier cannot separate concentric circles.
        let linear = try LeastSquaresClassifier.fit(x, labels: y, classes: 2, regularization: 1e-3)
        #expect(LeastSquaresClassifier.accuracy(linear, x, labels: y) < 0.7)
    }
}
