import Foundation
import NN
import TensorCore

/// How `ODE.solve` integrates: fixed steps of forward Euler or classical Runge–Kutta 4, or
/// adaptive Dormand–Prince 5(4) with error control to `relativeTolerance` and
/// `absoluteTolerance` (as `torchdiffeq`'s `dopri5`).
public enum ODESolver: Equatable, Sendable {
    /// Forward Euler with `steps` equal steps (first order).
    case euler(steps: Int)
    /// Classical Runge–Kutta with `steps` equal steps (fourth order).
    case rungeKutta4(steps: Int)
    /// Adaptive Dormand–Prince 5(4), stopping after `maxSteps` steps.
    case dormandPrince(relativeTolerance: Double = 1e-6, absoluteTolerance: Double = 1e-8, maxSteps: Int = 10_000)
}

/// An integration's end state, the accepted times and states along the way, and its cost.
public struct ODESolution {
    /// The state at the end time.
    public var final: Tensor
    /// The start and every accepted step's end time.
    public var times: [Double]
    /// The state at each of `times`.
    public var states: [Tensor]
    /// Evaluations of the right-hand side.
    public var functionEvaluations: Int
    /// Adaptive steps rejected by the error control.
    public var rejectedSteps: Int
}

/// Differentiable ODE integration `dy/dt = f(t, y)` and the adjoint method (Chen et al. 2018):
/// gradients either by backpropagating through the solver's operations or by integrating the
/// adjoint system backwards in time at constant memory.
public enum ODE {
    /// Integrates from `t0` to `t1` (either direction). The states are recorded tensors, so a
    /// loss of `final` backpropagates through every step; adaptive step sizes are chosen on
    /// detached values, as torchdiffeq's.
    public static func solve(_ f: (Double, Tensor) -> Tensor, initial y0: Tensor, from t0: Double, to t1: Double,
                             solver: ODESolver) -> ODESolution {
        var y = y0, t = t0
        var solution = ODESolution(final: y0, times: [t0], states: [y0], functionEvaluations: 0, rejectedSteps: 0)
        switch solver {
        case .euler(let steps), .rungeKutta4(let steps):
            tensorCheck(steps > 0, "[ODE.solve] needs a positive step count, got \(steps)")
            let h = (t1 - t0) / Double(steps)
            let rk4: Bool = if case .rungeKutta4 = solver { true } else { false }
            for i in 0..<steps {
                if rk4 {
                    let k1 = f(t, y), k2 = f(t + h / 2, y + (h / 2) * k1), k3 = f(t + h / 2, y + (h / 2) * k2), k4 = f(t + h, y + h * k3)
                    y = y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
                    solution.functionEvaluations += 4
                } else {
                    y = y + h * f(t, y)
                    solution.functionEvaluations += 1
                }
                t = t0 + Double(i + 1) * h
                solution.times.append(t); solution.states.append(y)
            }
        case .dormandPrince(let rtol, let atol, let maxSteps):
            let direction = t1 >= t0 ? 1.0 : -1.0
            var h = direction * Swift.min(Swift.abs(t1 - t0), 0.1 * Swift.max(Swift.abs(t1 - t0), 1e-12))
            var k1 = f(t, y)
            solution.functionEvaluations += 1
            var steps = 0
            while direction * (t1 - t) > 1e-14 * Swift.max(1, Swift.abs(t1)) {
                tensorCheck(steps < maxSteps, "[ODE.solve] Dormand–Prince took more than \(maxSteps) steps from \(t0) to \(t1)")
                steps += 1
                if direction * (t + h - t1) > 0 { h = t1 - t }
                let (next, error, kLast) = dormandPrinceStep(f, t, y, h, k1)
                solution.functionEvaluations += 6
                let ratio = withoutGradients { () -> Double in
                    let scale = atol + rtol * y.detached().abs().maximum(next.detached().abs())
                    return (error.detached() / scale).squared().mean().item(as: Double.self).squareRoot()
                }
                if ratio <= 1 {
                    t += h; y = next; k1 = kLast
                    solution.times.append(t); solution.states.append(y)
                } else {
                    solution.rejectedSteps += 1
                }
                let factor = ratio == 0 ? 10 : Swift.min(10, Swift.max(0.2, 0.9 * pow(ratio, -0.2)))
                h *= factor
            }
        }
        solution.final = y
        return solution
    }

    /// One Dormand–Prince 5(4) step (first same as last): the 5th-order state, the error
    /// estimate (5th − 4th order) and f at the new state.
    static func dormandPrinceStep(_ f: (Double, Tensor) -> Tensor, _ t: Double, _ y: Tensor, _ h: Double,
                                  _ k1: Tensor) -> (Tensor, Tensor, Tensor) {
        let k2 = f(t + h / 5, y + h * (k1 / 5))
        let k3 = f(t + 3 * h / 10, y + h * (3.0 / 40 * k1 + 9.0 / 40 * k2))
        let k4 = f(t + 4 * h / 5, y + h * (44.0 / 45 * k1 - 56.0 / 15 * k2 + 32.0 / 9 * k3))
        let k5 = f(t + 8 * h / 9, y + h * (19372.0 / 6561 * k1 - 25360.0 / 2187 * k2 + 64448.0 / 6561 * k3 - 212.0 / 729 * k4))
        let k6 = f(t + h, y + h * (9017.0 / 3168 * k1 - 355.0 / 33 * k2 + 46732.0 / 5247 * k3 + 49.0 / 176 * k4 - 5103.0 / 18656 * k5))
        let next = y + h * (35.0 / 384 * k1 + 500.0 / 1113 * k3 + 125.0 / 192 * k4 - 2187.0 / 6784 * k5 + 11.0 / 84 * k6)
        let k7 = f(t + h, next)
        let error = h * ((35.0 / 384 - 5179.0 / 57600) * k1 + (500.0 / 1113 - 7571.0 / 16695) * k3 + (125.0 / 192 - 393.0 / 640) * k4
            + (-2187.0 / 6784 + 92097.0 / 339200) * k5 + (11.0 / 84 - 187.0 / 2100) * k6 - 1.0 / 40 * k7)
        return (next, error, k7)
    }

    /// Gradients of a loss of `y(t1)` by the adjoint method: given `g = ∂L/∂y(t1)`, integrates
    /// `[y, a, a_θ]` backwards from t1 to t0 with `ẏ = f`, `ȧ = −aᵀ ∂f/∂y`, `ȧ_θ = −aᵀ ∂f/∂θ`
    /// (vector-Jacobian products of `f`), storing no trajectory. Returns ∂L/∂y(t0) and ∂L/∂θ
    /// for each of `parameters`, in their order.
    public static func adjointGradients(_ f: @escaping (Double, Tensor) -> Tensor, parameters: [Parameter], initial y0: Tensor,
                                        from t0: Double, to t1: Double, lossGradient g: Tensor,
                                        solver: ODESolver) -> (initial: Tensor, parameters: [Tensor]) {
        let y1 = withoutGradients { solve(f, initial: y0, from: t0, to: t1, solver: solver).final }
        let shapes = [y0.shape, y0.shape] + parameters.map { $0.value.shape }
        let sizes = shapes.map { $0.reduce(1, *) }
        func pack(_ parts: [Tensor]) -> Tensor { Tensor.concatenated(parts.map { $0.reshaped(to: [-1]) }, axis: 0) }
        func unpack(_ z: Tensor) -> [Tensor] {
            var start = 0
            return zip(sizes, shapes).map { size, shape in
                defer { start += size }
                return z.narrowed(axis: 0, start: start, length: size).reshaped(to: shape)
            }
        }
        let augmented: (Double, Tensor) -> Tensor = { t, z in
            let parts = unpack(z)
            let y = parts[0].detached().requiringGrad(), a = parts[1].detached()
            let (dy, grads): (Tensor, [Tensor]) = withGradients(enabled: true) {
                let dy = f(t, y)
                return (dy.detached(), gradients(of: [dy], withRespectTo: [y] + parameters.map(\.value), seeds: [a]))
            }
            return withoutGradients { pack([dy] + grads.map { -$0 }) }
        }
        let start = pack([y1, g] + parameters.map { Tensor.zeros(like: $0.value) })
        let end = withoutGradients { solve(augmented, initial: start, from: t1, to: t0, solver: solver).final }
        let parts = unpack(end)
        return (parts[1], Array(parts.dropFirst(2)))
    }
}

/// A residual network read as forward Euler on `dy/dt = tanh(K(t) y + b(t))`: `steps` layers
/// `y ← y + h tanh(K_l y + b_l)` with h = `horizon / steps` (Haber & Ruthotto). With
/// `antisymmetric`, `K_l = W_l − W_lᵀ − γ I`: its eigenvalues have real part −γ ≤ 0, so the
/// forward propagation neither amplifies nor loses perturbations however deep the network,
/// where unconstrained `K_l` can amplify them exponentially. With `tied`, every layer shares
/// one `K` and `b`: the time-invariant ODE, whose eigenvalues then decide stability directly.
public final class EulerResNet: Module {
    /// The layers' W (one when tied), `[width, width]`.
    public let weights: [Parameter]
    /// The layers' b (one when tied), `[width]`.
    public let biases: [Parameter]
    /// Layers (Euler steps).
    public let steps: Int
    /// The integration time T; each step is T / steps.
    public let horizon: Double
    /// Whether K = W − Wᵀ − γ I.
    public let antisymmetric: Bool
    /// γ of the antisymmetric form.
    public let damping: Double

    /// A network of `steps` layers with standard-normal weights scaled by `weightScale` and zero biases.
    public init(width: Int, steps: Int, horizon: Double = 1, antisymmetric: Bool = false, damping: Double = 0.1,
                tied: Bool = false, weightScale: Double = 1, dtype: DType = .float64, generator: RandomGenerator) {
        tensorCheck(width > 0 && steps > 0, "[EulerResNet] needs positive width and steps")
        let distinct = tied ? 1 : steps
        weights = (0..<distinct).map { _ in
            Parameter(Tensor.randn([width, width], standardDeviation: weightScale, dtype: dtype, generator: generator))
        }
        biases = (0..<distinct).map { _ in Parameter(Tensor.zeros([width], dtype: dtype)) }
        self.steps = steps
        self.horizon = horizon
        self.antisymmetric = antisymmetric
        self.damping = damping
        super.init()
    }

    /// The layer matrices `K_l`.
    public func layerMatrix(_ l: Int) -> Tensor {
        let w = weights[weights.count == 1 ? 0 : l].value
        return antisymmetric ? w - w.transposed() - damping * Tensor.eye(w.shape[0], dtype: w.dtype) : w
    }

    /// `[n, width] -> [n, width]`.
    public override func forward(_ x: Tensor) -> Tensor {
        let h = horizon / Double(steps)
        var y = x
        for l in 0..<steps {
            y = y + h * y.linear(weight: layerMatrix(l), bias: biases[biases.count == 1 ? 0 : l].value).tanh()
        }
        return y
    }
}
