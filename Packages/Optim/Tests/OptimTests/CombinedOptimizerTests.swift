import Testing
import TensorCore
import TensorCoreTesting
@testable import Optim

/// Two optimizers under one name-prefixed state dict (a GAN's), restored to the same trajectory.
@Suite("CombinedOptimizer")
struct CombinedOptimizerTests {
    /// Parameters of two "networks", each with a least-squares loss.
    func problem() -> (a: Parameter, b: Parameter, loss: () -> Tensor) {
        let g = RandomGenerator(seed: 5)
        let a = Parameter(Tensor.randn([3], generator: g)), b = Parameter(Tensor.randn([2], generator: g))
        let ta = Tensor.randn([3], generator: g), tb = Tensor.randn([2], generator: g)
        return (a, b, { (a.value - ta).squared().sum() + (b.value - tb).squared().sum() })
    }

    @Test func stateRoundTripsUnderPrefixesAndResumesTheSameTrajectory() throws {
        let (a, b, loss) = problem()
        let combined = CombinedOptimizer([("discriminator", Adam(parameters: [a], learningRate: 0.1)),
                                          ("generator", SGD(parameters: [b], learningRate: 0.05, momentum: 0.9))])
        func step() { combined.zeroGradients(); loss().backward(); combined.step() }
        step(); step()
        let saved = combined.stateDict()
        #expect(saved.tensors.keys.allSatisfy { $0.hasPrefix("discriminator.") || $0.hasPrefix("generator.") })
        #expect(saved.tensors.keys.contains("discriminator.state.0.exp_avg"))
        let savedA = a.value.copied(), savedB = b.value.copied()
        step()
        let expectedA = a.value.copied(), expectedB = b.value.copied()

        // A fresh pair restored from the state dict takes the same third step.
        a.value = savedA; b.value = savedB
        let restored = CombinedOptimizer([("discriminator", Adam(parameters: [a], learningRate: 0.1)),
                                          ("generator", SGD(parameters: [b], learningRate: 0.05, momentum: 0.9))])
        try restored.load(stateDict: saved)
        restored.zeroGradients(); loss().backward(); restored.step()
        expectClose(a.value, expectedA, tolerance: Tolerance(absolute: 1e-7, relative: 1e-6))
        expectClose(b.value, expectedB, tolerance: Tolerance(absolute: 1e-7, relative: 1e-6))
        #expect(restored.learningRates == [0.1, 0.05])
        restored.learningRates = [0.2, 0.01]
        #expect(restored["generator"].learningRate == 0.01)
    }

    @Test func foreignKeysAndRefusedPartsAreTypedErrors() {
        let (a, b, _) = problem()
        let combined = CombinedOptimizer([("d", Adam(parameters: [a], learningRate: 0.1)), ("g", Adam(parameters: [b], learningRate: 0.1))])
        #expect(throws: OptimizerError.self) {
            try combined.load(stateDict: OptimizerStateDict(scalars: ["critic.groups.0.lr": 0.1]))
        }
        // The generator's moments given the discriminator's shape.
        let wrong = OptimizerStateDict(tensors: ["g.state.0.exp_avg": Tensor.zeros([3]), "g.state.0.exp_avg_sq": Tensor.zeros([3])],
                                       scalars: ["g.state.0.step": 1])
        #expect(throws: OptimizerError.self) { try combined.load(stateDict: wrong) }
    }
}

/// The moving average against its closed form: after updates with sources s₁…s_k from an
/// average a₀, a_k = dᵏ a₀ + (1 − d) Σ d^(k−j) s_j; the warm-up's decays follow (1 + k)/(10 + k).
@Suite("ExponentialMovingAverage")
struct ExponentialMovingAverageTests {
    @Test func averagesFollowTheClosedForm() {
        let source = Parameter(Tensor([1.0, -2.0], shape: [2]))
        let average = Parameter(Tensor.zeros([2], dtype: .float64))
        let ema = ExponentialMovingAverage(source: [source], average: [average], decay: 0.9)
        #expect(average.value.scalars(as: Double.self) == [1, -2] && !average.requiresGrad)
        var expected = [1.0, -2.0]
        for k in 1...5 {
            source.value = Tensor([Double(k), Double(-k * k)], shape: [2])
            ema.update()
            expected = [0.9 * expected[0] + 0.1 * Double(k), 0.9 * expected[1] + 0.1 * Double(-k * k)]
        }
        let got = average.value.scalars(as: Double.self)
        #expect(abs(got[0] - expected[0]) < 1e-12 && abs(got[1] - expected[1]) < 1e-12)
        let warm = ExponentialMovingAverage(source: [source], average: [average], decay: 0.999, warmup: true)
        #expect(warm.currentDecay == 0.1)
        warm.update()
        #expect(abs(warm.currentDecay - 2.0 / 11) < 1e-15)
    }
}
