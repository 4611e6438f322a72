/// What an iterative solver returns: the solution, how many iterations it took, the residual
/// norm before each iteration and after the last, and whether it met its tolerance.
public struct IterativeSolution {
    /// The approximate solution.
    public var x: Tensor
    /// Iterations taken.
    public var iterations: Int
    /// `residualNorms[0]` is the starting residual; one more per iteration.
    public var residualNorms: [Double]
    /// Whether the residual met the tolerance.
    public var converged: Bool
}

extension Linalg {
    /// Conjugate gradients for `A x = b` with symmetric positive-definite `A` given only as
    /// its action `apply(v) = A v` (matrix-free, as `scipy.sparse.linalg.cg`). `b` may have any
    /// shape (the inner product runs over all its elements); `preconditioner(r)` applies `M⁻¹`.
    /// Stops when `‖r‖ ≤ tolerance · ‖b‖` or after `maxIterations` (default: `b`'s element
    /// count, where exact arithmetic would have finished). Not differentiated.
    public static func conjugateGradient(_ apply: (Tensor) -> Tensor, _ b: Tensor, initial x0: Tensor? = nil,
                                         tolerance: Double = 1e-5, maxIterations: Int? = nil,
                                         preconditioner: ((Tensor) -> Tensor)? = nil) -> IterativeSolution {
        withoutGradients {
            let limit = maxIterations ?? Swift.max(b.elementCount, 1)
            var x = x0 ?? Tensor.zeros(like: b)
            var r = x0 == nil ? b : b - apply(x)
            var z = preconditioner?(r) ?? r
            var p = z
            var rz = dot(r, z)
            let target = tolerance * norm2(b)
            var history = [norm2(r)]
            var iterations = 0
            while history.last! > target && iterations < limit {
                let q = apply(p)
                let alpha = rz / dot(p, q)
                x = x + alpha * p
                r = r - alpha * q
                iterations += 1
                history.append(norm2(r))
                if history.last! <= target { break }
                z = preconditioner?(r) ?? r
                let rzNext = dot(r, z)
                p = z + (rzNext / rz) * p
                rz = rzNext
            }
            return IterativeSolution(x: x, iterations: iterations, residualNorms: history,
                                     converged: history.last! <= target)
        }
    }

    /// CGLS: conjugate gradients on the normal equations of `min ‖A x − b‖² + damping ‖x‖²`
    /// without forming `AᵀA`, with `A` given by its action and its transpose's (Björck; the
    /// matrix-free Tikhonov least squares). Residuals are the normal equations'
    /// `‖Aᵀ(b − A x) − damping x‖`; stops at `tolerance` times the first. Not differentiated.
    public static func cgls(apply: (Tensor) -> Tensor, applyTransposed: (Tensor) -> Tensor, _ b: Tensor,
                            initial x0: Tensor? = nil, damping: Double = 0, tolerance: Double = 1e-8,
                            maxIterations: Int? = nil) -> IterativeSolution {
        withoutGradients {
            var x = x0 ?? Tensor.zeros(like: applyTransposed(b))
            var r = x0 == nil ? b : b - apply(x)
            var s = applyTransposed(r) - (damping == 0 || x0 == nil ? Tensor.zeros(like: x) : damping * x)
            var p = s
            var gamma = dot(s, s)
            let limit = maxIterations ?? Swift.max(x.elementCount, 1)
            var history = [gamma.squareRoot()]
            let target = tolerance * history[0]
            var iterations = 0
            while history.last! > target && iterations < limit {
                let q = apply(p)
                let alpha = gamma / (dot(q, q) + damping * dot(p, p))
                x = x + alpha * p
                r = r - alpha * q
                s = applyTransposed(r) - (damping == 0 ? Tensor.zeros(like: x) : damping * x)
                let next = dot(s, s)
                iterations += 1
                history.append(next.squareRoot())
                p = s + (next / gamma) * p
                gamma = next
            }
            return IterativeSolution(x: x, iterations: iterations, residualNorms: history,
                                     converged: history.last! <= target)
        }
    }

    private static func dot(_ a: Tensor, _ b: Tensor) -> Double { (a * b).sum().item(as: Double.self) }
    private static func norm2(_ a: Tensor) -> Double { dot(a, a).squareRoot() }

    /// Distances between every row of `x [..., n, d]` and every row of `y [..., m, d]`
    /// (`torch.cdist`): `[..., n, m]`, the p-norm of the differences. p = 2 goes through one
    /// product (`‖x‖² + ‖y‖² − 2 x yᵀ`, no `[n, m, d]` intermediate) with the gradient
    /// `(x_i − y_j) / D_ij` taken as 0 where a distance is 0, as PyTorch's.
    public static func pairwiseDistances(_ x: Tensor, _ y: Tensor, p: Double = 2) -> Tensor {
        tensorCheck(x.rank >= 2 && y.rank >= 2 && x.shape.last == y.shape.last,
                    "[Linalg.pairwiseDistances] needs [..., n, d] and [..., m, d], got \(shapeText(x.shape)) and \(shapeText(y.shape))")
        tensorCheck(x.dtype == y.dtype && x.dtype.isFloatingPoint,
                    "[Linalg.pairwiseDistances] needs two tensors of one floating-point dtype, got \(x.dtype) and \(y.dtype)")
        guard p == 2 else {
            return vectorNorm(x.unsqueezed(axis: -2) - y.unsqueezed(axis: -3), ord: .p(p), axes: [-1])
        }
        let distances = withoutGradients { () -> Tensor in
            let squared = x.squared().sum(axes: [-1]).unsqueezed(axis: -1) + y.squared().sum(axes: [-1]).unsqueezed(axis: -2)
                - 2 * x.matmul(y.transposed())
            return squared.clamped(min: 0).sqrt()
        }
        return distances.recorded("Linalg.pairwiseDistances", x, y, saveOutput: true) { g, d in
            let w = Tensor.where(d .== 0, Tensor.zeros([], dtype: d.dtype, device: d.device), g / d)
            return [x.requiresGrad ? (w.sum(axes: [-1]).unsqueezed(axis: -1) * x - w.matmul(y)).sumToShape(x.shape) : nil,
                    y.requiresGrad ? (w.sum(axes: [-2]).unsqueezed(axis: -1) * y - w.transposed().matmul(x)).sumToShape(y.shape) : nil]
        }
    }
}
