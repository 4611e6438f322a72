import TensorCore

/// The experiments behind `tessera course …`, as library calls: each takes its data and
/// settings and returns the figures the course asks for.
public enum CourseExperiments {
    /// One regularisation of the L-curve with its norms and test accuracy.
    public struct LeastSquaresPoint {
        /// λ.
        public var regularization: Double
        /// ‖A W − Y‖_F.
        public var residualNorm: Double
        /// ‖W‖_F.
        public var solutionNorm: Double
        /// Test accuracy at λ.
        public var testAccuracy: Double
    }

    /// What `leastSquares` measured.
    public struct LeastSquaresReport {
        /// Test accuracy of the normal-equations solution.
        public var normalEquationsAccuracy: Double
        /// Test accuracy of the CGLS solution.
        public var cglsAccuracy: Double
        /// CGLS iterations to its tolerance.
        public var cglsIterations: Int
        /// ‖W_cgls − W_normal‖ / ‖W_normal‖.
        public var relativeDifference: Double
        /// Training accuracy of the normal-equations solution.
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

extension CourseExperiments {
    /// What `neuralODE` measured.
    public struct NeuralODEReport {
        /// max over (y0, W, b) of ‖g_adjoint − g_backprop‖ / ‖g_backprop‖, at each tolerance.
        public var gradientGaps: [(tolerance: Double, gap: Double, functionEvaluations: Int)]
        /// ‖Δy_N‖ / ‖Δy_0‖ through 100 forward-Euler layers, unconstrained and antisymmetric.
        public var amplification: (unconstrained: Double, antisymmetric: Double)
        /// 2-D trajectories of `dy/dt = tanh(y W + b)` from a few starting points.
        public var trajectories: [[(Double, Double)]]
    }

    /// The neural-ODE lecture's points: adjoint and backpropagated gradients of
    /// `‖y(1)‖²` for `dy/dt = tanh(y W + b)` agree at tight tolerances and part at loose ones;
    /// a ResNet read as forward Euler over 100 layers amplifies perturbations unless its
    /// layer matrices are antisymmetric.
    public static func neuralODE(seed: UInt64, tolerances: [Double] = [1e-10, 1e-6, 1e-3, 1e-1]) -> NeuralODEReport {
        let w = Parameter(Tensor.randn([2, 2], standardDeviation: 1.5, dtype: .float64, generator: RandomGenerator(seed: seed)))
        let b = Parameter(Tensor.randn([2], dtype: .float64, generator: RandomGenerator(seed: seed + 1)))
        let f: (Double, Tensor) -> Tensor = { _, y in (y.matmul(w.value) + b.value).tanh() }
        let y0 = Tensor.randn([4, 2], dtype: .float64, generator: RandomGenerator(seed: seed + 2))
        let gaps = tolerances.map { tol -> (Double, Double, Int) in
            let solver = ODESolver.dormandPrince(relativeTolerance: tol, absoluteTolerance: tol)
            let x = y0.requiringGrad()
            let solution = ODE.solve(f, initial: x, from: 0, to: 1, solver: solver)
            let backprop = gradients(of: [solution.final.squared().sum()], withRespectTo: [x, w.value, b.value])
            let adjoint = ODE.adjointGradients(f, parameters: [w, b], initial: y0, from: 0, to: 1,
                                               lossGradient: 2 * solution.final.detached(), solver: solver)
            let gap = zip(backprop, [adjoint.initial] + adjoint.parameters).map { pair in
                withoutGradients { (Linalg.norm(pair.0 - pair.1) / Linalg.norm(pair.0)).item(as: Double.self) }
            }.max()!
            return (tol, gap, solution.functionEvaluations)
        }
        func amplification(_ antisymmetric: Bool) -> Double {
            let net = EulerResNet(width: 8, steps: 100, horizon: 10, antisymmetric: antisymmetric, tied: true, weightScale: 0.3,
                                  generator: RandomGenerator(seed: seed + 3))
            let x = 0.1 * Tensor.randn([16, 8], dtype: .float64, generator: RandomGenerator(seed: seed + 4))
            let delta = 1e-6 * Tensor.randn([16, 8], dtype: .float64, generator: RandomGenerator(seed: seed + 5))
            return withoutGradients { (Linalg.norm(net(x + delta) - net(x)) / Linalg.norm(delta)).item(as: Double.self) }
        }
        let paths = withoutGradients {
            ODE.solve(f, initial: y0, from: 0, to: 3, solver: .rungeKutta4(steps: 60)).states.map { $0.scalars(as: Double.self) }
        }
        let trajectories = (0..<4).map { i in paths.map { ($0[2 * i], $0[2 * i + 1]) } }
        return NeuralODEReport(gradientGaps: gaps, amplification: (amplification(false), amplification(true)), trajectories: trajectories)
    }
}
