import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import Theory

@Suite("Neural ODEs")
struct NeuralODETests {
    @Test func solversConvergeAtTheirOrders() {
        // dy/dt = −y from 1: y(1) = e^{-1}.
        func error(_ solver: ODESolver) -> Double {
            let y = ODE.solve({ _, y in -y }, initial: Tensor([1] as [Double], shape: [1]), from: 0, to: 1, solver: solver)
            return Swift.abs(y.final.item(as: Double.self) - exp(-1))
        }
        let euler = [10, 20, 40].map { error(.euler(steps: $0)) }
        let rk4 = [10, 20, 40].map { error(.rungeKutta4(steps: $0)) }
        #expect(Swift.abs(log2(euler[1] / euler[2]) - 1) < 0.1, "Euler \(euler)")
        #expect(Swift.abs(log2(rk4[1] / rk4[2]) - 4) < 0.2, "RK4 \(rk4)")
        #expect(error(.dormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)) < 1e-9)
        // Backwards in time too: from y(1) = e^{-1} to y(0) = 1.
        let back = ODE.solve({ _, y in -y }, initial: Tensor([exp(-1)] as [Double], shape: [1]), from: 1, to: 0,
                             solver: .dormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
        #expect(Swift.abs(back.final.item(as: Double.self) - 1) < 1e-9)
    }

    /// `dy/dt = tanh(y W + b)` with its parameters.
    static func dynamics() -> (Parameter, Parameter, (Double, Tensor) -> Tensor) {
        let w = Parameter(Tensor.randn([3, 3], dtype: .float64, generator: RandomGenerator(seed: 1)))
        let b = Parameter(Tensor.randn([3], dtype: .float64, generator: RandomGenerator(seed: 2)))
        return (w, b, { _, y in (y.matmul(w.value) + b.value).tanh() })
    }

    @Test func adjointGradientsMatchBackpropagationAtTightTolerance() {
        let (w, b, f) = Self.dynamics()
        let y0 = Tensor.randn([2, 3], dtype: .float64, generator: RandomGenerator(seed: 3))
        func gaps(_ solver: ODESolver) -> Double {
            let x = y0.requiringGrad()
            let y1 = ODE.solve(f, initial: x, from: 0, to: 1, solver: solver).final
            let backprop = gradients(of: [y1.squared().sum()], withRespectTo: [x, w.value, b.value])
            let adjoint = ODE.adjointGradients(f, parameters: [w, b], initial: y0, from: 0, to: 1,
                                               lossGradient: 2 * y1.detached(), solver: solver)
            let pairs = [(backprop[0], adjoint.initial), (backprop[1], adjoint.parameters[0]), (backprop[2], adjoint.parameters[1])]
            return pairs.map { (Linalg.norm($0.0 - $0.1) / Linalg.norm($0.0)).item(as: Double.self) }.max()!
        }
        let tight = gaps(.dormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
        let loose = gaps(.dormandPrince(relativeTolerance: 1e-2, absoluteTolerance: 1e-2))
        #expect(tight < 1e-6, "tight \(tight)")
        #expect(loose > 100 * tight, "loose \(loose), tight \(tight)")
    }

    @Test func antisymmetricResNetPropagatesPerturbationsStably() {
        func amplification(_ antisymmetric: Bool) -> Double {
            // 100 layers sharing one K (the time-invariant ODE over t in [0, 10]).
            let net = EulerResNet(width: 8, steps: 100, horizon: 10, antisymmetric: antisymmetric, tied: true, weightScale: 0.3,
                                  generator: RandomGenerator(seed: 4))
            let x = 0.1 * Tensor.randn([16, 8], dtype: .float64, generator: RandomGenerator(seed: 5))
            let delta = 1e-6 * Tensor.randn([16, 8], dtype: .float64, generator: RandomGenerator(seed: 6))
            return withoutGradients { (Linalg.norm(net(x + delta) - net(x)) / Linalg.norm(delta)).item(as: Double.self) }
        }
        let plain = amplification(false), stable = amplification(true)
        #expect(plain > 10, "unconstrained amplification \(plain), antisymmetric \(stable)")
        #expect(stable < 2 && stable * 10 < plain, "antisymmetric amplification \(stable), unconstrained \(plain)")
    }
}
