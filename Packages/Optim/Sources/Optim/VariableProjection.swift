import TensorCore

/// Separable nonlinear least squares `min_{θ, c} ½‖A(θ) c − y‖²` by variable projection
/// (Golub & Pereyra): the linear coefficients are eliminated, `c(θ) = A(θ)⁺ y`, and θ alone
/// is fitted by Gauss–Newton on the projected residual `A(θ) c(θ) − y`, differentiated
/// through the least-squares solve (the exact VarPro Jacobian, not an approximation).
/// Fewer unknowns and a better-conditioned problem than fitting (θ, c) jointly.
public enum VariableProjection {
    /// A separable fit: θ, c(θ) and the Gauss–Newton record.
    public struct Fit {
        /// The nonlinear parameters θ.
        public var parameters: Tensor
        /// The linear coefficients c(θ) at the solution.
        public var coefficients: Tensor
        /// Gauss–Newton's record over θ (losses ½‖A(θ)c(θ) − y‖²).
        public var result: MinimizationResult
    }

    /// Fits θ from `initial` for `basis(θ) = A(θ)` `[m, n]` (differentiable in θ) against
    /// observations `y [m]` (or `[m, k]`).
    public static func fit(basis: @escaping (Tensor) -> Tensor, observations y: Tensor, initial: Tensor,
                           damping: Double = 0, maxIterations: Int = 50, gradientTolerance: Double = 1e-10) -> Fit {
        let residual: (Tensor) -> Tensor = { theta in
            let a = basis(theta)
            return a.matmul(Linalg.lstsq(a, y)) - y
        }
        let result = Minimizers.gaussNewton(residual: residual, at: initial, damping: damping, maxIterations: maxIterations,
                                            gradientTolerance: gradientTolerance)
        let coefficients = withoutGradients { Linalg.lstsq(basis(result.x), y) }
        return Fit(parameters: result.x, coefficients: coefficients, result: result)
    }
}
