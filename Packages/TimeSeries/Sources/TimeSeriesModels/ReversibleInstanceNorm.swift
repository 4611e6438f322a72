import NN
import TensorCore

/// Reversible instance normalisation (RevIN; Kim et al., ICLR 2022): each input window is
/// standardised per variate by its own mean and standard deviation over time (then scaled
/// and shifted by learned per-variate affine weights), and the model's output is mapped back
/// with the same statistics. A forecaster then learns the shape of what comes next rather
/// than the level, so it extrapolates trends and levels it never saw in training.
public final class ReversibleInstanceNorm: Module {
    /// Variates normalised.
    public let variates: Int
    /// Added to the variance.
    public let epsilon: Double
    /// Per-variate scale `[V]` and shift `[V]` (nil when not affine).
    public let weight: Parameter?, bias: Parameter?

    /// One window's statistics, `[B, 1, V]` each, to undo the normalisation.
    public struct Statistics {
        /// Mean over time.
        public var mean: Tensor
        /// Standard deviation over time (population, with epsilon).
        public var standardDeviation: Tensor
    }

    /// RevIN over `variates`, affine unless told otherwise.
    public init(variates: Int, epsilon: Double = 1e-5, affine: Bool = true, dtype: DType = .float32) {
        tensorCheck(variates > 0, "[ReversibleInstanceNorm] variates must be positive, got \(variates)")
        self.variates = variates
        self.epsilon = epsilon
        weight = affine ? Parameter(Tensor.ones([variates], dtype: dtype)) : nil
        bias = affine ? Parameter(Tensor.zeros([variates], dtype: dtype)) : nil
        super.init()
    }

    /// `x` `[B, L, V]` standardised per window and variate, and the statistics used.
    public func normalize(_ x: Tensor) -> (Tensor, Statistics) {
        tensorCheck(x.rank == 3 && x.shape[2] == variates,
                    "[ReversibleInstanceNorm] input \(shapeText(x.shape)) should be [batch, time, \(variates)]")
        // The statistics are constants of the window (as RevIN detaches them): the model
        // learns the normalised dynamics, and the level passes through unchanged.
        let mean = x.mean(axes: [1], keepDims: true).detached()
        let std = (x.variance(axes: [1], correction: 0, keepDims: true) + epsilon).sqrt().detached()
        var y = (x - mean) / std
        if let weight, let bias { y = y * weight.value + bias.value }
        return (y, Statistics(mean: mean, standardDeviation: std))
    }

    /// `y` `[B, H, V]` in normalised units mapped back to the window's level and scale.
    public func denormalize(_ y: Tensor, _ statistics: Statistics) -> Tensor {
        var x = y
        if let weight, let bias { x = (x - bias.value) / (weight.value + epsilon * epsilon) }
        return x * statistics.standardDeviation + statistics.mean
    }

    public override func forward(_ x: Tensor) -> Tensor { normalize(x).0 }
}
