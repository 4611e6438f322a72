import Foundation
import Optim
import TensorCore
import Testing

/// Line searches, Newton-CG, Gauss–Newton and variable projection on problems with known
/// answers.
@Suite("Line searches and second-order minimisers")
struct SecondOrderTests {
    /// φ(t) = (t − 2)² − 1 along a descent direction from 0: φ(0) = 3, φ′(0) = −4.
    static func phi(_ t: Double) -> (value: Double, derivative: Double, payload: Int) { ((t - 2) * (t - 2) - 1, 2 * (t - 2), 0) }

    @Test func armijoMeetsSufficientDecrease() {
        // From t = 8: φ(8) = 35 fails, then 4 (φ = 3 > 3 − 1.6e-3) fails, then 2 passes.
        let result = LineSearches.armijo(value: 3, slope: -4, initialStep: 8) { t in (Self.phi(t).value, ()) }
        #expect(result.satisfied && result.step == 2 && result.evaluations == 3)
        #expect(result.value <= 3 + 1e-4 * result.step * -4)
    }

    @Test func strongWolfeMeetsBothConditions() {
        for start in [0.1, 1, 8, 50] {
            let r = LineSearches.strongWolfe(value: 3, slope: -4, payload: 0, initialStep: start, c2: 0.1, Self.phi)
            #expect(r.satisfied, "from \(start)")
            #expect(r.value <= 3 + 1e-4 * r.step * -4, "sufficient decrease from \(start)")
            #expect(Swift.abs(r.derivative!) <= 0.1 * 4, "curvature from \(start): t = \(r.step)")
        }
        // A cubic through two points of a cubic polynomial finds its minimiser exactly.
        let x = LineSearches.cubicInterpolate(0, 0, -3, 2, 2, 9)  // f(t) = t³ − 3t: minimum at 1
        #expect(Swift.abs(x - 1) < 1e-12)
    }

    /// Softmax regression on three Gaussian blobs with weight decay (strongly convex).
    static func softmaxRegression() -> (Tensor) -> Tensor {
        let g = RandomGenerator(seed: 7)
        let centers = Tensor([2, 0, -1, 1.7, -1, -1.7] as [Double], shape: [3, 2])
        let labels = Tensor((0..<150).map { Int64($0 % 3) }, shape: [150])
        let x = centers.indexSelect(axis: 0, indices: labels) + Tensor.randn([150, 2], dtype: .float64, generator: g)
        let features = Tensor.concatenated([x, Tensor.ones([150, 1], dtype: .float64)], axis: 1)
        return { w in
            let logits = features.matmul(w.reshaped(to: [3, 3]))
            return Tensor.crossEntropyFormula(logits: logits, targets: labels).mean() + 5e-3 * w.squared().sum()
        }
    }

    @Test func newtonCGNeedsFarFewerIterationsThanGradientDescent() {
        let f = Self.softmaxRegression()
        let start = Tensor.zeros([9], dtype: .float64)
        let descent = Minimizers.gradientDescent(f, at: start, maxIterations: 200, gradientTolerance: 0)
        let newton = Minimizers.newtonCG(f, at: start, targetLoss: descent.losses.last!)
        #expect(newton.converged)
        #expect(newton.iterations * 5 <= descent.iterations,
                "Newton-CG \(newton.iterations) iterations against gradient descent's \(descent.iterations)")
        // And to a tight gradient tolerance, quadratically at the end.
        let tight = Minimizers.newtonCG(f, at: start, gradientTolerance: 1e-10)
        #expect(tight.converged && tight.iterations <= 15)
        #expect(tight.losses.last! <= descent.losses.last!)
    }

    @Test func newtonCGSolvesRosenbrock() {
        let rosenbrock: (Tensor) -> Tensor = { x in
            let a = x.narrowed(axis: 0, start: 0, length: 9), b = x.narrowed(axis: 0, start: 1, length: 9)
            return (100 * (b - a.squared()).squared() + (1 - a).squared()).sum()
        }
        let result = Minimizers.newtonCG(rosenbrock, at: Tensor.zeros([10], dtype: .float64), maxIterations: 200,
                                         gradientTolerance: 1e-8)
        #expect(result.converged)
        let x = result.x.scalars(as: Double.self)
        #expect(x.allSatisfy { Swift.abs($0 - 1) < 1e-6 }, "\(x)")
    }

    @Test func gaussNewtonFitsAnExponential() {
        let t = Tensor((0..<20).map { Double($0) / 10 }, shape: [20])
        let y = 2.5 * (-1.3 * t).exp()
        let fit = Minimizers.gaussNewton(residual: { p in
            p.narrowed(axis: 0, start: 0, length: 1) * (p.narrowed(axis: 0, start: 1, length: 1) * t).exp() - y
        }, at: Tensor([1, -0.5] as [Double], shape: [2]), gradientTolerance: 1e-12)
        #expect(fit.converged)
        let p = fit.x.scalars(as: Double.self)
        #expect(Swift.abs(p[0] - 2.5) < 1e-8 && Swift.abs(p[1] + 1.3) < 1e-8, "\(p)")
    }

    @Test func variableProjectionSeparatesTheLinearCoefficients() {
        // y = 3 e^{−0.5 t} − 2 e^{−2 t}: θ = (0.5, 2) nonlinear, c = (3, −2) linear.
        let t = Tensor((0..<40).map { Double($0) / 8 }, shape: [40, 1])
        let basis: (Tensor) -> Tensor = { theta in (-t * theta.unsqueezed(axis: 0)).exp() }
        let y = basis(Tensor([0.5, 2] as [Double], shape: [2])).matmul(Tensor([3, -2] as [Double], shape: [2]))
        let fit = VariableProjection.fit(basis: basis, observations: y, initial: Tensor([0.3, 1.2] as [Double], shape: [2]))
        #expect(fit.result.converged)
        let theta = fit.parameters.scalars(as: Double.self), c = fit.coefficients.scalars(as: Double.self)
        #expect(Swift.abs(theta[0] - 0.5) < 1e-6 && Swift.abs(theta[1] - 2) < 1e-6, "θ \(theta)")
        #expect(Swift.abs(c[0] - 3) < 1e-5 && Swift.abs(c[1] + 2) < 1e-5, "c \(c)")
    }
}

@Suite("SGLD")
struct SGLDTests {
    @Test func samplesAGaussianPosterior() throws {
        // N = 50 observations of mean 2 with unit noise, prior precision 1: the posterior of the
        // mean is N(50·2/51, 1/51).
        let p = Parameter(Tensor.zeros([64], dtype: .float64))  // 64 independent chains
        let sgld = SGLD(parameters: [p], learningRate: 2e-3, datasetSize: 50, priorPrecision: 1, seed: 1)
        var samples: [[Double]] = []
        for step in 0..<3000 {
            p.grad = nil
            (0.5 * (p.value - 2).squared()).sum().backward()  // mean loss per observation, per chain
            sgld.step()
            if step >= 1000 && step % 10 == 0 { samples.append(p.value.scalars(as: Double.self)) }
        }
        let all = samples.flatMap { $0 }
        let mean = all.reduce(0, +) / Double(all.count)
        let variance = all.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(all.count)
        #expect(Swift.abs(mean - 100.0 / 51) < 0.02, "mean \(mean)")
        #expect(Swift.abs(variance * 51 - 1) < 0.15, "variance \(variance) (expect \(1.0 / 51))")
        // Resuming from the state dict continues the same noise stream.
        let q = Parameter(p.value)
        let resumed = SGLD(parameters: [q], learningRate: 2e-3, datasetSize: 50, priorPrecision: 1, seed: 1)
        try resumed.load(stateDict: sgld.stateDict())
        for optimizer in [sgld, resumed] as [SGLD] {
            let param = optimizer === sgld ? p : q
            param.grad = nil
            (0.5 * (param.value - 2).squared()).sum().backward()
            optimizer.step()
        }
        #expect(p.value.scalars(as: Double.self) == q.value.scalars(as: Double.self))
    }
}
