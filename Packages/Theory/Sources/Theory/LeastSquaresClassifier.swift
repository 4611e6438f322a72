import TensorCore

/// A linear classifier fitted by Tikhonov-regularised least squares to one-hot targets:
/// `W = argmin ‖[X 1] W − Y‖²_F + λ ‖W‖²_F`, predicting the largest score (the linear
/// least-squares classifier of a numerical-methods course; ≈ 85 % on MNIST pixels).
public enum LeastSquaresClassifier {
    /// How the regularised least-squares problem is solved.
    public enum Solver: Equatable, Sendable {
        /// `(AᵀA + λI) W = AᵀY` by Cholesky: one pass over the data, `d³/3` flops.
        case normalEquations
        /// CGLS on all columns at once, never forming AᵀA, to a relative normal-equations
        /// residual `tolerance`.
        case cgls(tolerance: Double = 1e-6, maxIterations: Int = 500)
    }

    /// A fitted classifier.
    public struct Fit {
        /// `[d + 1, classes]`, the last row the bias.
        public var weights: Tensor
        /// CGLS iterations (0 for the normal equations).
        public var iterations: Int
        /// ‖A W − Y‖_F and ‖W‖_F: a point of the L-curve.
        public var residualNorm: Double
        /// ‖W‖_F.
        public var solutionNorm: Double
    }

    /// Features `[n, d]` (float64 recommended), int64 labels `[n]` in 0..<classes.
    public static func fit(_ x: Tensor, labels: Tensor, classes: Int, regularization lambda: Double,
                           solver: Solver = .normalEquations) throws -> Fit {
        tensorCheck(x.rank == 2 && labels.shape == [x.shape[0]], "[LeastSquaresClassifier] needs x [n, d] and labels [n], got \(shapeText(x.shape)) and \(shapeText(labels.shape))")
        tensorCheck(lambda >= 0, "[LeastSquaresClassifier] regularization must be ≥ 0, got \(lambda)")
        return try withoutGradients {
            let a = augmented(x)
            let y = Tensor.oneHot(labels, classCount: classes, dtype: a.dtype)
            let d = a.shape[1]
            var w: Tensor
            var iterations = 0
            switch solver {
            case .normalEquations:
                let gram = a.transposed().matmul(a) + lambda * Tensor.eye(d, dtype: a.dtype)
                let l = try Linalg.cholesky(gram)
                let z = try Linalg.solveTriangular(l, a.transposed().matmul(y), upper: false)
                w = try Linalg.solveTriangular(l.transposed(), z, upper: true)
            case .cgls(let tolerance, let maxIterations):
                let solution = Linalg.cgls(apply: { a.matmul($0) }, applyTransposed: { a.transposed().matmul($0) }, y,
                                           damping: lambda, tolerance: tolerance, maxIterations: maxIterations)
                w = solution.x
                iterations = solution.iterations
            }
            let residual = Linalg.norm(a.matmul(w) - y).item(as: Double.self)
            return Fit(weights: w, iterations: iterations, residualNorm: residual, solutionNorm: Linalg.norm(w).item(as: Double.self))
        }
    }

    /// int64 `[n]`: the class of largest score.
    public static func predict(_ fit: Fit, _ x: Tensor) -> Tensor {
        withoutGradients { augmented(x.cast(to: fit.weights.dtype)).matmul(fit.weights).argmax(axis: 1) }
    }

    /// The fraction of `labels` predicted.
    public static func accuracy(_ fit: Fit, _ x: Tensor, labels: Tensor) -> Double {
        (predict(fit, x) .== labels).cast(to: .float64).mean().item(as: Double.self)
    }

    /// `[X 1]`.
    static func augmented(_ x: Tensor) -> Tensor {
        Tensor.concatenated([x, Tensor.ones([x.shape[0], 1], dtype: x.dtype, device: x.device)], axis: 1)
    }
}

/// An extreme learning machine (Huang et al.): a fixed random hidden layer
/// `tanh(x Wᵀ + b)` with standard-normal weights scaled by 1/√d, and only the output layer
/// fitted, by regularised least squares.
public struct ExtremeLearningMachine {
    /// The random hidden layer: weights `[hidden, inputSize]`.
    public let inputWeights: Tensor
    /// The random hidden layer: biases `[hidden]`.
    public let inputBias: Tensor
    /// The fitted output layer (nil before `fit`).
    public private(set) var output: LeastSquaresClassifier.Fit?

    /// A machine with `hidden` random features drawn from `generator`.
    public init(inputSize: Int, hidden: Int, dtype: DType = .float64, generator: RandomGenerator) {
        tensorCheck(inputSize > 0 && hidden > 0, "[ExtremeLearningMachine] needs positive sizes, got \(inputSize), \(hidden)")
        inputWeights = Tensor.randn([hidden, inputSize], standardDeviation: 1 / Double(inputSize).squareRoot(), dtype: dtype,
                                    generator: generator)
        inputBias = Tensor.randn([hidden], dtype: dtype, generator: generator)
    }

    /// The hidden features `[n, hidden]`.
    public func features(_ x: Tensor) -> Tensor {
        withoutGradients { x.cast(to: inputWeights.dtype).linear(weight: inputWeights, bias: inputBias).tanh() }
    }

    /// Fits the output layer to `labels` by regularised least squares on the random features.
    public mutating func fit(_ x: Tensor, labels: Tensor, classes: Int, regularization: Double,
                             solver: LeastSquaresClassifier.Solver = .normalEquations) throws {
        output = try LeastSquaresClassifier.fit(features(x), labels: labels, classes: classes, regularization: regularization,
                                                solver: solver)
    }

    /// The fraction of `labels` predicted.
    public func accuracy(_ x: Tensor, labels: Tensor) -> Double {
        guard let output else { tensorFailure("[ExtremeLearningMachine] fit before predicting") }
        return LeastSquaresClassifier.accuracy(output, features(x), labels: labels)
    }
}
