import Foundation
import NN
import Optim
import TensorCore
import Testing
@testable import Theory

@Suite("Bayesian networks and uncertainty")
struct BayesianTests {
    @Test func klIsZeroAtThePriorAndMatchesTheFormula() {
        let layer = BayesianLinear(inputSize: 3, outputSize: 2, priorStandardDeviation: 0.5, initialStandardDeviation: 0.5,
                                   dtype: .float64, generator: RandomGenerator(seed: 1))
        withoutGradients { layer.weightMean.value = Tensor.zeros([2, 3], dtype: .float64) }
        #expect(Swift.abs(layer.klDivergence().item(as: Double.self)) < 1e-12)
        // One weight moved to μ = 1: KL = μ² / (2 p²) = 2.
        withoutGradients { layer.weightMean.value = Tensor([1, 0, 0, 0, 0, 0] as [Double], shape: [2, 3]) }
        #expect(Swift.abs(layer.klDivergence().item(as: Double.self) - 2) < 1e-12)
    }

    @Test func localReparameterisationHasTheRightMoments() {
        let layer = BayesianLinear(inputSize: 2, outputSize: 1, initialStandardDeviation: 0.3, dtype: .float64,
                                   generator: RandomGenerator(seed: 2))
        let x = Tensor([1, 2] as [Double], shape: [1, 2]).expanded(to: [20000, 2]).contiguous()
        let y = withoutGradients { layer(x) }
        let mu = layer.weightMean.value.scalars(as: Double.self)
        let sigma = withoutGradients { layer.weightRho.value.softplus() }.scalars(as: Double.self)
        let sb = withoutGradients { layer.biasRho.value.softplus() }.item(as: Double.self)
        let mean = mu[0] + 2 * mu[1], variance = sigma[0] * sigma[0] + 4 * sigma[1] * sigma[1] + sb * sb
        #expect(Swift.abs(y.mean().item(as: Double.self) - mean) < 4 * (variance / 20000).squareRoot())
        #expect(Swift.abs(y.variance().item(as: Double.self) / variance - 1) < 0.05)
    }

    @Test func calibrationAndAUROC() {
        // Two confident right answers, one confident wrong one, one unsure right one.
        let p = Tensor([0.95, 0.05, 0.9, 0.1, 0.92, 0.08, 0.55, 0.45] as [Double], shape: [4, 2])
        let labels = Tensor([0, 0, 1, 0] as [Int64], shape: [4])
        let (ece, bins) = Uncertainty.expectedCalibrationError(p, labels: labels, bins: 10)
        // Bin (0.9, 1] holds 0.95 and 0.92 (one right, one wrong); 0.9 falls in (0.8, 0.9].
        let top = bins[9], ninth = bins[8], sixth = bins[5]
        #expect(top.count == 2 && Swift.abs(top.accuracy - 0.5) < 1e-12 && Swift.abs(top.meanConfidence - 0.935) < 1e-12)
        #expect(ninth.count == 1 && ninth.accuracy == 1 && sixth.count == 1)
        let expected = 0.5 * Swift.abs(0.5 - 0.935) + 0.25 * Swift.abs(1 - 0.9) + 0.25 * Swift.abs(1 - 0.55)
        #expect(Swift.abs(ece - expected) < 1e-12)
        #expect(Uncertainty.auroc(positive: [3, 4, 5], negative: [0, 1, 2]) == 1)
        #expect(Uncertainty.auroc(positive: [0, 1], negative: [2, 3]) == 0)
        #expect(Uncertainty.auroc(positive: [1, 1], negative: [1, 1]) == 0.5)
        #expect(Swift.abs(Uncertainty.auroc(positive: [2, 4], negative: [1, 3]) - 0.75) < 1e-12)
    }

    @Test func bayesByBackpropLearnsBlobs() {
        let centers = Tensor([2, 0, -1, 1.7, -1, -1.7] as [Float], shape: [3, 2])
        let labels = Tensor((0..<600).map { Int64($0 % 3) }, shape: [600])
        let x = centers.indexSelect(axis: 0, indices: labels) + 0.5 * Tensor.randn([600, 2], generator: RandomGenerator(seed: 3))
        let model = BayesianMLP(sizes: [2, 32, 3], priorStandardDeviation: 1, generator: RandomGenerator(seed: 4))
        let history = BayesianTraining.fit(model, inputs: x, labels: labels, epochs: 30, batchSize: 64, learningRate: 1e-2, seed: 5)
        #expect(history.last!.loss < history.first!.loss)
        let p = BayesianTraining.predictive(model, x, samples: 10)
        let accuracy = (p.argmax(axis: 1) .== labels).cast(to: .float32).mean().item(as: Double.self)
        #expect(accuracy > 0.95)
        // Annealed to 0 along a cosine, the same run takes other (smaller) steps and still fits.
        let annealedModel = BayesianMLP(sizes: [2, 32, 3], priorStandardDeviation: 1, generator: RandomGenerator(seed: 4))
        let annealed = BayesianTraining.fit(annealedModel, inputs: x, labels: labels, epochs: 30, batchSize: 64, learningRate: 1e-2,
                                            annealed: true, seed: 5)
        #expect(annealed.last!.loss != history.last!.loss)
        let q = BayesianTraining.predictive(annealedModel, x, samples: 10)
        #expect((q.argmax(axis: 1) .== labels).cast(to: .float32).mean().item(as: Double.self) > 0.95)
    }
}

@Suite("Last-layer Laplace")
struct LastLayerLaplaceTests {
    @Test func laplaceIsLessConfidentFarFromTheDataAndKeepsItsAccuracy() throws {
        let (x, y) = LeastSquaresClassifierTests.blobs(seed: 7)
        let features = LeastSquaresClassifier.augmented(x)
        // MAP weights of softmax regression (weight decay λ/N), by Newton-CG.
        let n = Double(x.shape[0]), lambda = 1.0
        let map = Minimizers.newtonCG({ w in
            Tensor.crossEntropyFormula(logits: features.matmul(w.reshaped(to: [4, 3])), targets: y).mean()
                + lambda / (2 * n) * w.squared().sum()
        }, at: Tensor.zeros([12], dtype: .float64), gradientTolerance: 1e-10).x.reshaped(to: [4, 3])
        let laplace = try LastLayerLaplace(weights: map, features: features, priorPrecision: lambda)
        let near = laplace.predictive(features, samples: 200, generator: RandomGenerator(seed: 8))
        let pointNear = features.matmul(map).softmax(axis: -1)
        #expect((near.argmax(axis: 1) .== pointNear.argmax(axis: 1)).cast(to: .float64).mean().item(as: Double.self) > 0.98)
        // Away from the blobs (a wide Gaussian cloud) the averaged prediction is less sure.
        let far = LeastSquaresClassifier.augmented(4 * Tensor.randn([200, 3], dtype: .float64, generator: RandomGenerator(seed: 10)))
        let pointFar = far.matmul(map).softmax(axis: -1).max(axes: [1]).mean().item(as: Double.self)
        let laplaceFar = laplace.predictive(far, samples: 200, generator: RandomGenerator(seed: 9)).max(axes: [1]).mean().item(as: Double.self)
        #expect(laplaceFar < pointFar - 0.005, "mean confidence: point \(pointFar), Laplace \(laplaceFar)")
        // The row and column covariance factors are lower triangular with a positive diagonal.
        #expect(laplace.rowFactor.diagonal().min().item(as: Double.self) > 0)
    }
}

@Suite("MC dropout")
struct MCDropoutTests {
    @Test func predictiveAveragesStochasticPassesInTrainingMode() {
        let g = RandomGenerator(seed: 11)
        let model = Sequential(Linear(inputSize: 4, outputSize: 32, dtype: .float64, generator: g), ReLU(),
                               Dropout(p: 0.5, generator: g), Linear(inputSize: 32, outputSize: 3, dtype: .float64, generator: g))
        let x = Tensor.randn([8, 4], dtype: .float64, generator: RandomGenerator(seed: 12))
        // Evaluation mode: dropout off, every pass the same, the predictive is the plain softmax.
        _ = model.eval()
        let deterministic = withoutGradients { model(x).softmax(axis: -1) }
        let evaluated = BayesianTraining.predictive(model, x, samples: 5)
        #expect((evaluated - deterministic).abs().max().item(as: Double.self) < 1e-12)
        // Training mode: dropout on, passes differ, and their average is a distribution.
        _ = model.train()
        let a = withoutGradients { model(x) }, b = withoutGradients { model(x) }
        #expect((a - b).abs().max().item(as: Double.self) > 1e-6)
        let mc = BayesianTraining.predictive(model, x, samples: 200)
        #expect((mc.sum(axes: [1]) - 1).abs().max().item(as: Double.self) < 1e-12)
        #expect((mc - deterministic).abs().max().item(as: Double.self) > 1e-4)
        // MC dropout's average is less confident than one deterministic pass on average.
        #expect(mc.max(axes: [1]).mean().item(as: Double.self) < deterministic.max(axes: [1]).mean().item(as: Double.self) + 1e-9)
    }
}
