import TensorCore

/// A Kronecker-factored Laplace approximation of a classifier's last layer (Ritter et al.
/// 2018; Daxberger et al. 2021's "last-layer Laplace"): around the trained weights
/// `W [d, c]` (features × classes, the bias as a feature of 1), the Hessian of the negative
/// log posterior is approximated by `(√N A + √λ I) ⊗ (√N G + √λ I)` with `A = E[φφᵀ]` over
/// the training features and `G = E[diag(p) − ppᵀ]` over their predicted probabilities, so the
/// posterior is matrix-normal, `W ~ MN(W_MAP, (√N A + √λ I)⁻¹, (√N G + √λ I)⁻¹)`.
/// Predictions average the softmax over samples of it: less confident away from the data
/// than the point estimate.
public struct LastLayerLaplace {
    /// The trained (MAP) weights `[d, c]`, float64.
    public let weights: Tensor
    /// The Cholesky factor of the row (feature) covariance.
    public let rowFactor: Tensor
    /// The Cholesky factor of the column (class) covariance.
    public let columnFactor: Tensor

    /// Fits the curvature at `weights` `[d, c]` from training `features` `[n, d]` (append a
    /// column of ones for a bias); `priorPrecision` λ is the Gaussian prior's.
    public init(weights: Tensor, features: Tensor, priorPrecision: Double = 1) throws {
        tensorCheck(features.rank == 2 && weights.rank == 2 && features.shape[1] == weights.shape[0],
                    "[LastLayerLaplace] features \(shapeText(features.shape)) do not fit weights \(shapeText(weights.shape))")
        let (row, column) = try withoutGradients { () throws -> (Tensor, Tensor) in
            let phi = features.cast(to: .float64), w = weights.cast(to: .float64)
            let n = Double(phi.shape[0]), d = w.shape[0], c = w.shape[1]
            let p = phi.matmul(w).softmax(axis: -1)
            let a = phi.transposed().matmul(phi) / n
            let g = (p.sum(axes: [0]).diagonalEmbedded() - p.transposed().matmul(p)) / n
            let scale = n.squareRoot(), damping = priorPrecision.squareRoot()
            // The covariances are the inverses: factor them through the precisions' Cholesky.
            let rowPrecision = scale * a + damping * Tensor.eye(d, dtype: .float64)
            let columnPrecision = scale * g + damping * Tensor.eye(c, dtype: .float64)
            return (try Linalg.cholesky(try Linalg.inverse(rowPrecision)), try Linalg.cholesky(try Linalg.inverse(columnPrecision)))
        }
        self.weights = weights.cast(to: .float64).detached()
        rowFactor = row
        columnFactor = column
    }

    /// Predictive probabilities `[n, c]` for `features [n, d]`, averaged over `samples`
    /// weight draws `W_MAP + L_row Z L_colᵀ`.
    public func predictive(_ features: Tensor, samples: Int = 100, generator: RandomGenerator) -> Tensor {
        withoutGradients {
            let phi = features.cast(to: .float64)
            var sum = Tensor.zeros([phi.shape[0], weights.shape[1]], dtype: .float64)
            for _ in 0..<Swift.max(samples, 1) {
                let z = Tensor.randn(weights.shape, dtype: .float64, generator: generator)
                sum = sum + phi.matmul(weights + rowFactor.matmul(z).matmul(columnFactor.transposed())).softmax(axis: -1)
            }
            return sum / Double(Swift.max(samples, 1))
        }
    }
}
