import NN
import Optim
import Testing
import TensorCore
import Training
@testable import Generative

/// The largest absolute difference between two tensors of one shape.
func largestDifference(_ a: Tensor, _ b: Tensor) -> Double {
    zip(a.scalars(as: Double.self), b.scalars(as: Double.self)).map { abs($0 - $1) }.max() ?? 0
}

@Suite("VAE")
struct VAETests {
    @Test(arguments: VAEConfiguration.Architecture.allCases)
    func shapesOfEncodeDecodeSampleAndInterpolate(architecture: VAEConfiguration.Architecture) {
        let model = VAE(VAEConfiguration(architecture: architecture, imageShape: [1, 8, 8], latentSize: 3, hiddenSize: 16),
                        generator: RandomGenerator(seed: 1))
        let x = Tensor.rand([5, 1, 8, 8], generator: RandomGenerator(seed: 2))
        let (mean, logVariance) = model.encode(x)
        #expect(mean.shape == [5, 3] && logVariance.shape == [5, 3])
        #expect(model.decode(mean).shape == [5, 1, 8, 8])
        let samples = model.sample(count: 6, generator: RandomGenerator(seed: 3))
        #expect(samples.shape == [6, 1, 8, 8])
        #expect(samples.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Interpolation's ends are the reconstructions of its ends.
        let path = model.interpolate(x.narrowed(axis: 0, start: 0, length: 1), x.narrowed(axis: 0, start: 1, length: 1), steps: 4)
        #expect(path.shape == [4, 1, 8, 8])
        let ends = model.reconstruct(x.narrowed(axis: 0, start: 0, length: 2))
        #expect(largestDifference(path.narrowed(axis: 0, start: 0, length: 1), ends.narrowed(axis: 0, start: 0, length: 1)) < 1e-6)
        #expect(largestDifference(path.narrowed(axis: 0, start: 3, length: 1), ends.narrowed(axis: 0, start: 1, length: 1)) < 1e-6)
    }

    @Test func conditionalVAEUsesItsLabels() {
        let model = VAE(VAEConfiguration(architecture: .mlp, imageShape: [1, 4, 4], latentSize: 2, hiddenSize: 8, classCount: 3),
                        generator: RandomGenerator(seed: 1))
        let z = Tensor.randn([3, 2], generator: RandomGenerator(seed: 2))
        let a = model.decode(z, labels: Tensor([Int64(0), 0, 0])), b = model.decode(z, labels: Tensor([Int64(2), 2, 2]))
        #expect(largestDifference(a, b) > 1e-4)
        #expect(model.sample(count: 3, labels: Tensor([Int64(0), 1, 2]), generator: RandomGenerator(seed: 3)).shape == [3, 1, 4, 4])
    }

    /// IWAE with k = 1 is the negative ELBO in expectation; with k = 64 it is tighter (lower).
    @Test func iwaeBoundIsTighterThanTheELBO() {
        let model = VAE(VAEConfiguration(architecture: .mlp, imageShape: [1, 3, 3], latentSize: 2, hiddenSize: 8),
                        generator: RandomGenerator(seed: 8))
        for p in model.parameters() { p.value = p.value.cast(to: .float64) }
        let x = Tensor.rand([6, 1, 3, 3], dtype: .float64, generator: RandomGenerator(seed: 9))
        withoutGradients {
            let g = RandomGenerator(seed: 10)
            var elbo = 0.0, iwae1 = 0.0
            let rounds = 400
            for _ in 0..<rounds {
                elbo += model.elbo(x, generator: g).negativeELBO.item(as: Double.self)
                iwae1 += model.iwaeNegativeLogLikelihood(x, samples: 1, generator: g).mean().item(as: Double.self)
            }
            elbo /= Double(rounds); iwae1 /= Double(rounds)
            #expect(abs(elbo - iwae1) < 0.02 * abs(elbo), "k = 1: \(iwae1) vs ELBO \(elbo)")
            let iwae64 = model.iwaeNegativeLogLikelihood(x, samples: 64, generator: g).mean().item(as: Double.self)
            #expect(iwae64 < elbo, "k = 64: \(iwae64) should be below the negative ELBO \(elbo)")
        }
    }

    /// A small convolutional VAE trained through the Trainer lowers its negative ELBO.
    @Test func trainingThroughTheTrainerLowersTheNegativeELBO() throws {
        let g = RandomGenerator(seed: 11)
        // Two kinds of 8×8 images: a bright left half or a bright top half, with noise.
        let left = Tensor((0..<64).map { Float($0 % 8 < 4 ? 0.9 : 0.1) }, shape: [1, 1, 8, 8])
        let top = Tensor((0..<64).map { Float($0 / 8 < 4 ? 0.9 : 0.1) }, shape: [1, 1, 8, 8])
        let images = Tensor.concatenated((0..<64).map { $0 % 2 == 0 ? left : top }, axis: 0)
        let data = (images + Tensor.rand([64, 1, 8, 8], low: -0.05, high: 0.05, generator: g)).clamped(min: 0, max: 1)
        let model = VAE(VAEConfiguration(architecture: .convolutional, imageShape: [1, 8, 8], latentSize: 2, hiddenSize: 32), generator: g)
        let before = withoutGradients { model.elbo(data, generator: RandomGenerator(seed: 1)).negativeELBO.item(as: Double.self) }
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters(), learningRate: 3e-3),
                              configuration: TrainerConfiguration(epochs: 30, showsProgress: false))
        trainer.log = { _ in }
        let sampling = RandomGenerator(seed: 12)
        _ = try trainer.fit(batchesPerEpoch: 4, batches: { _ in (0..<4).map { data.narrowed(axis: 0, start: $0 * 16, length: 16) } },
                            step: { batch in TrainingStepOutput(loss: model.elbo(batch, generator: sampling).loss, count: 16) },
                            evaluate: { [:] })
        let after = withoutGradients { model.elbo(data, generator: RandomGenerator(seed: 1)).negativeELBO.item(as: Double.self) }
        #expect(after < before * 0.8, "negative ELBO \(before) -> \(after)")
    }
}
