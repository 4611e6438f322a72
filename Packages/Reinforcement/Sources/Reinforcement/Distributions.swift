import Foundation
import TensorCore

/// A batch of categorical distributions over `k` actions from logits `[n, k]`, as
/// `torch.distributions.Categorical(logits:)`; log-probabilities and entropy record gradients.
public struct Categorical {
    /// Normalised log-probabilities `[n, k]`.
    public let logProbabilities: Tensor

    /// The distributions with these (unnormalised) logits.
    public init(logits: Tensor) {
        tensorCheck(logits.rank == 2, "[Categorical] logits \(shapeText(logits.shape)) should be [n, actions]")
        logProbabilities = logits.logSoftmax(axis: 1)
    }

    /// `log p(actions[i])` per row, `[n]`; `actions` int64 `[n]`.
    public func logProbability(_ actions: Tensor) -> Tensor {
        tensorCheck(actions.shape == [logProbabilities.shape[0]],
                    "[Categorical.logProbability] actions \(shapeText(actions.shape)) should be [\(logProbabilities.shape[0])]")
        return logProbabilities.gather(axis: 1, index: actions.reshaped(to: [-1, 1])).reshaped(to: [-1])
    }

    /// `−Σ p log p` per row, `[n]`.
    public func entropy() -> Tensor { -(logProbabilities.exp() * logProbabilities).sum(axis: 1) }

    /// One action per row, drawn by inverting the cumulative probabilities with `random`.
    public func sample(_ random: inout NumPyRandom) -> [Int] {
        let k = logProbabilities.shape[1]
        let p = logProbabilities.exp().scalars(as: Double.self)
        return (0..<logProbabilities.shape[0]).map { row in
            let u = random.nextDouble()
            var total = 0.0
            for a in 0..<k {
                total += p[row * k + a]
                if u < total { return a }
            }
            return k - 1
        }
    }

    /// The most probable action per row.
    public func mode() -> [Int] { logProbabilities.argmax(axis: 1).scalars(as: Int64.self).map(Int.init) }
}

/// A batch of diagonal Gaussians over actions `[n, d]` (`mean`, and a `logStd` broadcast to
/// it), as `torch.distributions.Normal(mean, exp(logStd))` with log-probabilities summed over
/// the action's dimensions.
public struct DiagonalGaussian {
    /// Means `[n, d]`.
    public let mean: Tensor
    /// Log standard deviations, broadcastable to `[n, d]`.
    public let logStd: Tensor

    /// The distributions.
    public init(mean: Tensor, logStd: Tensor) {
        tensorCheck(mean.rank == 2, "[DiagonalGaussian] mean \(shapeText(mean.shape)) should be [n, dimensions]")
        self.mean = mean
        self.logStd = logStd
    }

    /// `log N(actions; mean, σ²)` summed over dimensions, `[n]`.
    public func logProbability(_ actions: Tensor) -> Tensor {
        tensorCheck(actions.shape == mean.shape, "[DiagonalGaussian.logProbability] actions \(shapeText(actions.shape)) should be \(shapeText(mean.shape))")
        let z = (actions - mean) * (-logStd).exp()
        return (z.squared() * -0.5 - logStd - 0.5 * Foundation.log(2 * Double.pi)).sum(axis: 1)
    }

    /// `Σ (½ log 2πe + log σ)` per row, `[n]`.
    public func entropy() -> Tensor {
        (logStd.expanded(to: mean.shape) + 0.5 * (1 + Foundation.log(2 * Double.pi))).sum(axis: 1)
    }

    /// One action per row: mean + σ · N(0, 1) (Box–Muller draws from `random`).
    public func sample(_ random: inout NumPyRandom) -> [[Double]] {
        let m = mean.scalars(as: Double.self), s = logStd.expanded(to: mean.shape).exp().scalars(as: Double.self)
        let d = mean.shape[1]
        return (0..<mean.shape[0]).map { row in
            (0..<d).map { j in
                let u = 1 - random.nextDouble(), v = random.nextDouble()
                return m[row * d + j] + s[row * d + j] * (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
            }
        }
    }
}
