import TensorCore

/// The experiments behind `tessera course …`, as library calls: each takes its data and
/// settings and returns the figures the course asks for.
public enum CourseExperiments {
    public struct LeastSquaresPoint {
        public var regularization: Double, residualNorm: Double, solutionNorm: Double, testAccuracy: Double
    }

    public struct LeastSquaresReport {
        public var normalEquationsAccuracy: Double
        public var cglsAccuracy: Double
        public var cglsIterations: Int
        /// ‖W_cgls − W_normal‖ / ‖W_normal‖.
        public var relativeDifference: Double
        public var trainAccuracy: Double
        /// One point per regularisation, for the L-curve.
        public var lCurve: [LeastSquaresPoint]
    }

    /// The Tikhonov least-squares classifier at `regularization` by the normal equations and
    /// by CGLS, and the L-curve over `lCurve` regularisations (normal equations).
    public static func leastSquares(train: (x: Tensor, labels: Tensor), test: (x: Tensor, labels: Tensor), classes: Int,
                                    regularization: Double, lCurve: [Double],
                                    cglsTolerance: Double = 1e-6) throws -> LeastSquaresReport {
        let normal = try LeastSquaresClassifier.fit(train.x, labels: train.labels, classes: classes, regularization: regularization)
        let iterative = try LeastSquaresClassifier.fit(train.x, labels: train.labels, classes: classes, regularization: regularization,
                                                       solver: .cgls(tolerance: cglsTolerance, maxIterations: 2000))
        let difference = withoutGradients {
            (Linalg.norm(iterative.weights - normal.weights) / Linalg.norm(normal.weights)).item(as: Double.self)
        }
        let points = try lCurve.map { lambda -> LeastSquaresPoint in
            let fit = try LeastSquaresClassifier.fit(train.x, labels: train.labels, classes: classes, regularization: lambda)
            return LeastSquaresPoint(regularization: lambda, residualNorm: fit.residualNorm, solutionNorm: fit.solutionNorm,
                                     testAccuracy: LeastSquaresClassifier.accuracy(fit, test.x, labels: test.labels))
        }
        return LeastSquaresReport(
            normalEquationsAccuracy: LeastSquaresClassifier.accuracy(normal, test.x, labels: test.labels),
            cglsAccuracy: LeastSquaresClassifier.accuracy(iterative, test.x, labels: test.labels),
            cglsIterations: iterative.iterations, relativeDifference: difference,
            trainAccuracy: LeastSquaresClassifier.accuracy(normal, train.x, labels: train.labels), lCurve: points)
    }

    /// The relative Frobenius error ‖Θ_empirical − Θ_analytic‖ / ‖Θ_analytic‖ of
    /// `NTKPerceptron`s at each width (one initialisation per seed) on `points`.
    public static func ntkError(points: Tensor, widths: [Int], depth: Int, seeds: [UInt64]) -> [(width: Int, errors: [Double])] {
        let x = points.cast(to: .float64)
        let analytic = NeuralTangentKernel.reluNetwork(x, depth: depth)
        return widths.map { width in
            (width, seeds.map { seed in
                let model = NTKPerceptron(inputSize: x.shape[1], width: width, depth: depth, generator: RandomGenerator(seed: seed))
                let k = NeuralTangentKernel.empirical(of: model, x)
                return withoutGradients { (Linalg.norm(k - analytic) / Linalg.norm(analytic)).item(as: Double.self) }
            })
        }
    }
}
