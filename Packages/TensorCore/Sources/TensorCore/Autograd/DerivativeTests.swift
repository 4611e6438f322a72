import Foundation

/// What a Taylor test observed: at each step h, the zeroth-order remainder
/// `|f(x + h v) − f(x)|` (O(h)) and the first-order one `|f(x + h v) − f(x) − h ∇f(x)·v|`
/// (O(h²) when the gradient is right), and the slopes of their logs against log h: ≈ 1 and
/// ≈ 2 for a correct gradient, a first-order slope ≈ 1 for a wrong one.
public struct TaylorReport: CustomStringConvertible {
    /// The steps h, largest first.
    public var steps: [Double]
    /// E₀(h) = |f(x + h v) − f(x)| at each step.
    public var zerothOrderErrors: [Double]
    /// E₁(h) = |f(x + h v) − f(x) − h ∇f(x)·v| at each step.
    public var firstOrderErrors: [Double]
    /// The least-squares slope of log E₀ against log h over the smaller half of the steps.
    public var zerothOrderSlope: Double
    /// The same for log E₁, over the steps whose E₁ lies above rounding (1e3 ulps of |f(x)|),
    /// below which it stops meaning anything.
    public var firstOrderSlope: Double

    public var description: String {
        var lines = ["h            E0(h)        E1(h)"]
        for i in steps.indices {
            lines.append(String(format: "%-12.4e %-12.4e %-12.4e", steps[i], zerothOrderErrors[i], firstOrderErrors[i]))
        }
        lines.append(String(format: "slopes: %.3f (zeroth order, expect 1), %.3f (first order, expect 2)",
                            zerothOrderSlope, firstOrderSlope))
        return lines.joined(separator: "\n")
    }
}

/// `uᵀ(J v)` against `vᵀ(Jᵀ u)`: equal for every u, v when the transpose is the adjoint of
/// the forward derivative.
public struct AdjointReport {
    /// uᵀ(J v).
    public var forward: Double
    /// vᵀ(Jᵀ u).
    public var adjoint: Double
    /// |forward − adjoint| / max(|forward|, |adjoint|, tiny).
    public var relativeError: Double
}

/// The derivative tests of a numerical-methods course (Haber & Ruthotto): the Taylor test of
/// a gradient and the adjoint (dot-product) test of a backward pass, for any function of one
/// tensor. Run them in float64.
public enum DerivativeTest {
    /// The Taylor test of scalar `f` at `x` along `direction` (default: standard normal from
    /// a fixed seed), at steps `initialStep · factor^i` for i < `count`.
    public static func taylor(_ f: (Tensor) -> Tensor, at x: Tensor, direction: Tensor? = nil, initialStep: Double = 1,
                              factor: Double = 0.5, count: Int = 20) -> TaylorReport {
        tensorCheck(factor > 0 && factor < 1 && count >= 2, "[DerivativeTest.taylor] needs 0 < factor < 1 and count ≥ 2")
        let v = direction ?? Tensor.randn(x.shape, dtype: x.dtype, device: x.device, generator: RandomGenerator(seed: 0))
        let (value, g) = valueWithGradient(at: x, of: f)
        let f0 = value.item(as: Double.self)
        let slope = withoutGradients { (g * v).sum().item(as: Double.self) }
        var steps: [Double] = [], e0: [Double] = [], e1: [Double] = []
        var h = initialStep
        for _ in 0..<count {
            let fh = withoutGradients { f(x + h * v).item(as: Double.self) }
            steps.append(h); e0.append(Swift.abs(fh - f0)); e1.append(Swift.abs(fh - f0 - h * slope))
            h *= factor
        }
        let floor = 1e3 * Double.ulpOfOne * Swift.max(Swift.abs(f0), 1)
        return TaylorReport(steps: steps, zerothOrderErrors: e0, firstOrderErrors: e1,
                            zerothOrderSlope: logSlope(steps, e0, floor: floor), firstOrderSlope: logSlope(steps, e1, floor: floor))
    }

    /// The adjoint (dot-product) test of a linear operator given as a pair: `apply` (J) and
    /// `applyTransposed` (its claimed adjoint Jᵀ), with `v` in J's domain and `u` in its range.
    public static func adjoint(apply: (Tensor) -> Tensor, applyTransposed: (Tensor) -> Tensor, u: Tensor,
                               v: Tensor) -> AdjointReport {
        let forward = withoutGradients { (u * apply(v)).sum().item(as: Double.self) }
        let adjoint = withoutGradients { (v * applyTransposed(u)).sum().item(as: Double.self) }
        let scale = Swift.max(Swift.abs(forward), Swift.abs(adjoint), .leastNormalMagnitude)
        return AdjointReport(forward: forward, adjoint: adjoint, relativeError: Swift.abs(forward - adjoint) / scale)
    }

    /// The adjoint test of `f`'s backward pass at `x`: `J v` by central differences (step
    /// `h`, independent of any backward code) against `Jᵀ u` by `vjp`. In float64 a right
    /// backward gives a relative error near h², a wrong one of order 1. `u` is shaped like
    /// f(x), `v` like x (defaults from fixed seeds).
    public static func adjoint(_ f: (Tensor) -> Tensor, at x: Tensor, u: Tensor? = nil, v: Tensor? = nil,
                               h: Double = 1e-5) -> AdjointReport {
        let y = withoutGradients { f(x) }
        let u = u ?? Tensor.randn(y.shape, dtype: y.dtype, device: y.device, generator: RandomGenerator(seed: 1))
        let v = v ?? Tensor.randn(x.shape, dtype: x.dtype, device: x.device, generator: RandomGenerator(seed: 2))
        return adjoint(apply: { v in withoutGradients { (f(x + h * v) - f(x - h * v)) / (2 * h) } },
                       applyTransposed: { u in vjp(at: x, vector: u, of: f).vjp }, u: u, v: v)
    }

    /// Least-squares slope of log e against log h over the smaller half of the steps whose e
    /// lies above `floor`: the asymptotic regime (at large h the next Taylor term still bends
    /// the curve).
    static func logSlope(_ h: [Double], _ e: [Double], floor: Double) -> Double {
        let valid = zip(h, e).filter { $0.1 > floor }
        let points = valid.suffix(Swift.max(3, valid.count / 2)).map { (Foundation.log($0.0), Foundation.log($0.1)) }
        guard points.count >= 2 else { return .nan }
        let mx = points.map(\.0).reduce(0, +) / Double(points.count), my = points.map(\.1).reduce(0, +) / Double(points.count)
        let sxy = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }, sxx = points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
        return sxy / sxx
    }
}
