import TensorCore

/// Least-squares linear models, as scikit-learn's `LinearRegression` and `Ridge`: with an
/// intercept, the columns and targets are centred, the weights solved on the centred data and
/// the intercept set to `ȳ − x̄ · w`. Ridge solves `(XᵀX + αI) w = Xᵀy` (Cholesky, float64);
/// ordinary least squares takes the minimum-norm solution (SVD, as `scipy.linalg.lstsq`).
/// Targets may be `[n]` or `[n, k]` (k outputs).
public struct LinearModel {
    /// The L2 penalty α (0: ordinary least squares).
    public let alpha: Double
    /// Whether an intercept is fitted.
    public let fitIntercept: Bool
    /// Weights `[d]` (or `[d, k]`), float64.
    public private(set) var coefficients: Tensor
    /// The intercept (`[]` or `[k]`), float64; 0 without one.
    public private(set) var intercept: Tensor

    /// A model fitted to `x [n, d]` and `y [n]` or `[n, k]`.
    public init(fitting x: Tensor, _ y: Tensor, alpha: Double = 0, fitIntercept: Bool = true) throws {
        tensorCheck(alpha >= 0 && alpha.isFinite, "[LinearModel] alpha \(alpha) must be non-negative")
        tensorCheck(x.rank == 2 && (y.rank == 1 || y.rank == 2) && y.shape[0] == x.shape[0] && x.shape[0] > 0,
                    "[LinearModel] x \(shapeText(x.shape)) should be [n, d] and y \(shapeText(y.shape)) [n] or [n, k]")
        self.alpha = alpha
        self.fitIntercept = fitIntercept
        let xd = x.cast(to: .float64), yd = y.cast(to: .float64)
        let xMean = fitIntercept ? xd.mean(axis: 0) : Tensor.zeros([x.shape[1]], dtype: .float64)
        let yMean = fitIntercept ? yd.mean(axis: 0) : Tensor.zeros(Array(y.shape.dropFirst()), dtype: .float64)
        let xc = xd - xMean, yc = yd - yMean
        let rhs = y.rank == 1 ? yc.unsqueezed(axis: 1) : yc
        let w: Tensor
        if alpha > 0 {
            let gram = xc.transposed().matmul(xc) + Tensor.eye(x.shape[1], dtype: .float64) * alpha
            w = try Linalg.solve(gram, xc.transposed().matmul(rhs))
        } else {
            w = Linalg.lstsq(xc, rhs)
        }
        coefficients = y.rank == 1 ? w.squeezed(axis: 1) : w
        intercept = yMean - (y.rank == 1 ? (xMean * coefficients).sum() : xMean.unsqueezed(axis: 0).matmul(coefficients).squeezed(axis: 0))
    }

    /// Predictions `x w + b`, `[n]` or `[n, k]` (float64).
    public func predict(_ x: Tensor) -> Tensor {
        let xd = x.cast(to: .float64)
        return coefficients.rank == 1 ? xd.matmul(coefficients.unsqueezed(axis: 1)).squeezed(axis: 1) + intercept : xd.matmul(coefficients) + intercept
    }

    /// The coefficient of determination R² of the predictions on `(x, y)` (averaged over outputs).
    public func score(_ x: Tensor, _ y: Tensor) -> Double {
        let yd = y.cast(to: .float64), residual = (yd - predict(x)).squared().sum(axes: [0])
        let total = (yd - yd.mean(axis: 0)).squared().sum(axes: [0])
        return (1 - residual / total).mean().item(as: Double.self)
    }
}
