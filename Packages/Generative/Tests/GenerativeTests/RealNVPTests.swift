import Foundation
import NN
import Optim
import Testing
import TensorCore
import TensorCoreTesting
import Training
@testable import Generative

@Suite("RealNVP")
struct RealNVPTests {
    /// A flow with every scale gain away from zero, so the couplings are not the identity.
    func randomFlow(dimensions: Int = 3, seed: UInt64 = 1) -> RealNVP {
        let flow = RealNVP(RealNVPConfiguration(dimensions: dimensions, couplingLayers: 4, hiddenSize: 8), generator: RandomGenerator(seed: seed))
        for c in flow.couplings { c.scaleGain.value = Tensor.rand([1, dimensions], low: 0.5, high: 1.5, generator: RandomGenerator(seed: seed + 7)) }
        return flow
    }

    @Test func inverseUndoesTheFlow() {
        let flow = randomFlow()
        let x = Tensor.randn([50, 3], generator: RandomGenerator(seed: 2))
        let back = withoutGradients { flow.inverse(flow.toBase(x).z) }
        #expect(largestDifference(back, x) < 1e-5)
        let z = Tensor.randn([50, 3], generator: RandomGenerator(seed: 3))
        #expect(largestDifference(withoutGradients { flow.toBase(flow.inverse(z)).z }, z) < 1e-5)
    }

    /// The summed log-determinant is log |det| of the flow's Jacobian, point by point (float64).
    @Test func logDeterminantMatchesTheJacobian() {
        let flow = randomFlow()
        for p in flow.parameters() { p.value = p.value.cast(to: .float64) }
        let x = Tensor.randn([4, 3], dtype: .float64, generator: RandomGenerator(seed: 4))
        let logDeterminants = withoutGradients { flow.toBase(x).logDeterminant }.scalars(as: Double.self)
        for n in 0..<4 {
            let point = x.narrowed(axis: 0, start: n, length: 1)
            let j = jacobian(at: point) { flow.toBase($0).z }.reshaped(to: [3, 3]).scalars(as: Double.self)
            let det = j[0] * (j[4] * j[8] - j[5] * j[7]) - j[1] * (j[3] * j[8] - j[5] * j[6]) + j[2] * (j[3] * j[7] - j[4] * j[6])
            #expect(abs(Foundation.log(abs(det)) - logDeterminants[n]) < 1e-9, "point \(n)")
        }
    }

    @Test func gradientsOfTheLogLikelihoodMatchCentralDifferences() {
        let flow = randomFlow(dimensions: 2)
        for p in flow.parameters() { p.value = p.value.cast(to: .float64) }
        let x = Tensor.randn([5, 2], dtype: .float64, generator: RandomGenerator(seed: 5))
        GradientCheck.check([x]) { flow.logLikelihood($0[0]) }
        GradientCheck.checkParameters(flow.parameters()) { flow.logLikelihood(x).sum() }
    }

    /// Trained on two moons, the flow's test log-likelihood beats the best single Gaussian's.
    @Test func flowOnTwoMoonsBeatsAFittedGaussian() throws {
        let train = ToyDistribution.twoMoons.sample(1024, generator: RandomGenerator(seed: 6)).points
        let test = ToyDistribution.twoMoons.sample(512, generator: RandomGenerator(seed: 7)).points
        let flow = RealNVP(RealNVPConfiguration(couplingLayers: 6, hiddenSize: 32), generator: RandomGenerator(seed: 8))
        let trainer = Trainer(model: flow, optimizer: Adam(parameters: flow.parameters(), learningRate: 5e-3),
                              configuration: TrainerConfiguration(epochs: 40, showsProgress: false))
        trainer.log = { _ in }
        _ = try trainer.fit(batchesPerEpoch: 8, batches: { _ in (0..<8).map { train.narrowed(axis: 0, start: $0 * 128, length: 128) } },
                            step: { batch in TrainingStepOutput(loss: flow.logLikelihood(batch).mean() * -1, count: 128) })
        let flowLikelihood = withoutGradients { flow.logLikelihood(test).mean().item(as: Double.self) }
        let gaussian = gaussianFitLogLikelihood(train: train, test: test)
        #expect(flowLikelihood > gaussian + 0.3, "flow \(flowLikelihood) vs Gaussian \(gaussian) nats per point")
        let drawn = withoutGradients { flow.sample(count: 256, generator: RandomGenerator(seed: 9)) }
        #expect(drawn.shape == [256, 2] && drawn.scalars.allSatisfy { $0.isFinite })
    }

    /// The Gaussian baseline is the exact log-density of a fitted normal (known answer).
    @Test func fittedGaussianBaselineKnownAnswer() {
        // Train points (±1, ±2): mean 0, covariance diag(1, 4); at the origin log N = -log(2π) - ½ log 4.
        let train = Tensor([1, 2, -1, -2, 1, -2, -1, 2] as [Double], shape: [4, 2])
        let value = gaussianFitLogLikelihood(train: train, test: Tensor([0, 0] as [Double], shape: [1, 2]))
        #expect(abs(value - (-Foundation.log(2 * Double.pi) - 0.5 * Foundation.log(4))) < 1e-12)
    }
}
