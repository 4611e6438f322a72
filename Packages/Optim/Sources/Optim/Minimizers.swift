import TensorCore

/// The record of a deterministic minimisation: the final point, the objective and gradient
/// norm at every iterate (index 0 is the start), and the work it took.
public struct MinimizationResult {
    /// The last iterate.
    public var x: Tensor
    /// The objective at each iterate, the start first.
    public var losses: [Double]
    /// ‖∇f‖ at each iterate.
    public var gradientNorms: [Double]
    /// Outer iterations (steps taken).
    public var iterations: Int
    /// Objective evaluations, the line searches' included.
    public var functionEvaluations: Int
    /// Inner conjugate-gradient iterations (Newton-CG, Gauss–Newton), each one Hessian- or
    /// Jacobian-vector product.
    public var innerIterations: Int
    /// Whether the gradient tolerance (or the target loss) was met.
    public var converged: Bool
}

/// Full-batch minimisers of a function of one tensor, as in a numerical-optimisation course
/// (Nocedal & Wright): gradient descent, inexact Newton with conjugate gradients on
/// Hessian-vector products, and Gauss–Newton for least squares, each with a line search.
/// Each stops when ‖∇f‖ ≤ `gradientTolerance`, when the loss reaches `targetLoss` (to count
/// the iterations one method needs to match another), or after `maxIterations`.
public enum Minimizers {
    /// Steepest descent `x ← x − t ∇f(x)`: a fixed `learningRate`, or (nil) Armijo
    /// backtracking from t = 1 each step.
    public static func gradientDescent(_ f: (Tensor) -> Tensor, at x0: Tensor, learningRate: Double? = nil,
                                       maxIterations: Int = 1000, gradientTolerance: Double = 1e-6,
                                       targetLoss: Double? = nil) -> MinimizationResult {
        var x = x0.detached()
        var (value, g) = valueWithGradient(at: x, of: f)
        var result = MinimizationResult(x: x, losses: [value.item(as: Double.self)], gradientNorms: [norm(g)], iterations: 0,
                                        functionEvaluations: 1, innerIterations: 0, converged: false)
        while !done(&result, gradientTolerance, targetLoss) && result.iterations < maxIterations {
            let slope = -dot(g, g)
            let step: Double
            if let learningRate {
                step = learningRate
            } else {
                let search = LineSearches.armijo(value: result.losses.last!, slope: slope) { t in
                    (withoutGradients { f(x - t * g).item(as: Double.self) }, ())
                }
                result.functionEvaluations += search.evaluations
                step = search.step
            }
            x = withoutGradients { x - step * g }
            (value, g) = valueWithGradient(at: x, of: f)
            result.functionEvaluations += 1
            record(&result, x, value, g)
        }
        return result
    }

    /// Inexact (truncated) Newton: each step solves `H p = −∇f` by conjugate gradients on
    /// Hessian-vector products to the forcing tolerance `min(0.5, √‖∇f‖) ‖∇f‖` (superlinear
    /// convergence), stops at negative curvature (falling back to −∇f on the first inner
    /// iteration), then takes an Armijo step from t = 1 (Nocedal & Wright, Algorithm 7.1).
    public static func newtonCG(_ f: (Tensor) -> Tensor, at x0: Tensor, maxIterations: Int = 100,
                                gradientTolerance: Double = 1e-6, maxConjugateGradientIterations: Int? = nil,
                                targetLoss: Double? = nil) -> MinimizationResult {
        var x = x0.detached()
        var (value, g) = valueWithGradient(at: x, of: f)
        var result = MinimizationResult(x: x, losses: [value.item(as: Double.self)], gradientNorms: [norm(g)], iterations: 0,
                                        functionEvaluations: 1, innerIterations: 0, converged: false)
        let innerLimit = maxConjugateGradientIterations ?? Swift.max(x.elementCount, 1)
        while !done(&result, gradientTolerance, targetLoss) && result.iterations < maxIterations {
            let gNorm = result.gradientNorms.last!
            let forcing = Swift.min(0.5, gNorm.squareRoot()) * gNorm
            let point = x
            var p = Tensor.zeros(like: g), r = g, d = -g
            var rr = dot(r, r)
            for j in 0..<innerLimit {
                let hd = hessianVectorProduct(at: point, vector: d, of: f)
                result.innerIterations += 1
                let curvature = dot(d, hd)
                if curvature <= 0 {
                    if j == 0 { p = -g }
                    break
                }
                let alpha = rr / curvature
                p = p + alpha * d
                r = r + alpha * hd
                let next = dot(r, r)
                if next.squareRoot() <= forcing { break }
                d = -r + (next / rr) * d
                rr = next
            }
            let search = LineSearches.armijo(value: result.losses.last!, slope: Swift.min(dot(g, p), -1e-300)) { t in
                (withoutGradients { f(point + t * p).item(as: Double.self) }, ())
            }
            result.functionEvaluations += search.evaluations
            x = withoutGradients { point + search.step * p }
            (value, g) = valueWithGradient(at: x, of: f)
            result.functionEvaluations += 1
            record(&result, x, value, g)
        }
        return result
    }

    /// Gauss–Newton for `min ½‖r(x)‖²`: each step solves the linearised problem
    /// `min ‖J p + r‖² + damping ‖p‖²` matrix-free by CGLS (with `jvp` for J v and `vjp` for
    /// Jᵀu, no Jacobian formed), then takes an Armijo step; `damping` > 0 is Levenberg's.
    /// The losses recorded are ½‖r‖².
    public static func gaussNewton(residual r: (Tensor) -> Tensor, at x0: Tensor, damping: Double = 0,
                                   maxIterations: Int = 50, gradientTolerance: Double = 1e-8,
                                   maxConjugateGradientIterations: Int? = nil, targetLoss: Double? = nil) -> MinimizationResult {
        var x = x0.detached()
        func evaluate(_ x: Tensor) -> (loss: Double, residual: Tensor, gradient: Tensor) {
            let rx = withoutGradients { r(x) }
            let g = vjp(at: x, vector: rx, of: r).vjp  // Jᵀ r = ∇ ½‖r‖²
            return (0.5 * dot(rx, rx), rx, g)
        }
        var (loss, rx, g) = evaluate(x)
        var result = MinimizationResult(x: x, losses: [loss], gradientNorms: [norm(g)], iterations: 0,
                                        functionEvaluations: 1, innerIterations: 0, converged: false)
        while !done(&result, gradientTolerance, targetLoss) && result.iterations < maxIterations {
            let point = x
            let solution = Linalg.cgls(apply: { jvp(at: point, vector: $0, of: r).jvp },
                                       applyTransposed: { vjp(at: point, vector: $0, of: r).vjp }, -rx,
                                       damping: damping, tolerance: 1e-10,
                                       maxIterations: maxConjugateGradientIterations)
            result.innerIterations += solution.iterations
            let p = solution.x
            let search = LineSearches.armijo(value: loss, slope: Swift.min(dot(g, p), -1e-300)) { t in
                let rt = withoutGradients { r(point + t * p) }
                return (0.5 * dot(rt, rt), ())
            }
            result.functionEvaluations += search.evaluations
            x = withoutGradients { point + search.step * p }
            (loss, rx, g) = evaluate(x)
            result.functionEvaluations += 1
            result.x = x
            result.losses.append(loss)
            result.gradientNorms.append(norm(g))
            result.iterations += 1
        }
        return result
    }

    static func dot(_ a: Tensor, _ b: Tensor) -> Double { withoutGradients { (a * b).sum().item(as: Double.self) } }
    static func norm(_ a: Tensor) -> Double { dot(a, a).squareRoot() }

    private static func record(_ result: inout MinimizationResult, _ x: Tensor, _ value: Tensor, _ g: Tensor) {
        result.x = x
        result.losses.append(value.item(as: Double.self))
        result.gradientNorms.append(norm(g))
        result.iterations += 1
    }

    /// Marks convergence when the last iterate meets the tolerance or the target.
    private static func done(_ result: inout MinimizationResult, _ tolerance: Double, _ target: Double?) -> Bool {
        if result.gradientNorms.last! <= tolerance || (target.map { result.losses.last! <= $0 } ?? false) {
            result.converged = true
        }
        return result.converged
    }
}
